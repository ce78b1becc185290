//! `_geoPoint(lat, lng):asc|desc` in the `sort` parameter: documents ordered by their `_geo`
//! point's great-circle distance to a target, nearest first (or farthest first), documents
//! without a point last. The points come from the geo facet terms (`_geo` must be sortable, so
//! they exist): one postings read per distinct point of the universe, at the first bucket.

use roaring::RoaringBitmap;

use super::{Bucket, Detail, RankCtx, RankingRule};
use crate::error::Result;
use crate::facet;
use crate::filter::haversine;

/// Documents sharing one point (or having none), with that point.
type PointGroups = Vec<(Option<(f64, f64)>, RoaringBitmap)>;

pub struct GeoSortRule {
    target: (f64, f64),
    ascending: bool,
    mask: u16,
    /// Points with their documents, the best last; `None` until the first bucket.
    groups: Option<PointGroups>,
    universe: RoaringBitmap,
}

impl GeoSortRule {
    pub fn new(target: (f64, f64), ascending: bool) -> GeoSortRule {
        GeoSortRule {
            target,
            ascending,
            mask: 0,
            groups: None,
            universe: RoaringBitmap::new(),
        }
    }

    fn build_groups(&self, ctx: &RankCtx<'_>) -> Result<PointGroups> {
        let search = ctx.search;
        let prefix = facet::geo_prefix();
        let mut points: Vec<(f64, (f64, f64), RoaringBitmap)> = Vec::new();
        search.for_each_facet_term(
            &prefix,
            &self.universe,
            |rest| facet::decode_geo(rest).is_some(),
            |rest, docs| {
                let point = facet::decode_geo(rest).expect("wanted terms decode");
                points.push((haversine(self.target, point), point, docs));
            },
        )?;
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        if !self.ascending {
            points.reverse();
        }
        let mut groups: PointGroups = Vec::new();
        let mut placed = RoaringBitmap::new();
        for (_, point, mut docs) in points {
            // Several segments may hold the same point, and a document has one point.
            docs -= &placed;
            placed |= &docs;
            match groups.last_mut() {
                Some((Some(last), group)) if *last == point => *group |= docs,
                _ if docs.is_empty() => {}
                _ => groups.push((Some(point), docs)),
            }
        }
        let missing = &self.universe - &placed;
        if !missing.is_empty() {
            groups.push((None, missing));
        }
        groups.reverse();
        Ok(groups)
    }
}

impl RankingRule for GeoSortRule {
    fn name(&self) -> &'static str {
        "geo_sort"
    }

    fn start(&mut self, _ctx: &mut RankCtx<'_>, universe: &RoaringBitmap, mask: u16) -> Result<()> {
        self.mask = mask;
        self.universe = universe.clone();
        self.groups = None;
        Ok(())
    }

    fn next_bucket(
        &mut self,
        ctx: &mut RankCtx<'_>,
        universe: &RoaringBitmap,
    ) -> Result<Option<Bucket>> {
        if self.groups.is_none() {
            self.groups = Some(self.build_groups(ctx)?);
        }
        let groups = self.groups.as_mut().expect("groups were just computed");
        while let Some((point, docs)) = groups.pop() {
            let docs = docs & universe;
            if docs.is_empty() {
                continue;
            }
            let detail = Detail::GeoSort {
                target: self.target,
                ascending: self.ascending,
                point,
                distance: point.map(|p| haversine(self.target, p)),
            };
            return Ok(Some(Bucket {
                docs,
                mask: self.mask,
                detail,
            }));
        }
        Ok(None)
    }

    fn end(&mut self) {
        self.groups = None;
    }
}
