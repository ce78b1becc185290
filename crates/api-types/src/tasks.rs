//! Decoding of the task filters shared by `GET /tasks`, `POST /tasks/cancel`, `DELETE /tasks`
//! and `GET /batches`: comma separated lists where `*` lifts the restriction, RFC 3339 or
//! `YYYY-MM-DD` dates, and Meilisearch's per-parameter error codes and messages.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, Time};

use crate::decode::{
    backticked_list, for_each_param, invalid_param, list_item_name, parse_bool_param,
    parse_query_string, parse_u32_param, split_list,
};
use crate::error::{Code, ResponseError};
use crate::index_uid::{invalid_index_uid_message, is_valid_index_uid};

/// Default `limit` of `GET /tasks` and `GET /batches`.
pub const DEFAULT_TASK_LIMIT: u32 = 20;

/// Every task status, in the order Meilisearch lists them.
pub const TASK_STATUSES: &[&str] = &["enqueued", "processing", "succeeded", "failed", "canceled"];

/// Every task type, in the order Meilisearch lists them.
pub const TASK_TYPES: &[&str] = &[
    "documentAdditionOrUpdate",
    "documentEdition",
    "documentDeletion",
    "settingsUpdate",
    "indexCreation",
    "indexDeletion",
    "indexUpdate",
    "indexSwap",
    "taskCancelation",
    "taskDeletion",
    "dumpCreation",
    "snapshotCreation",
    "export",
    "upgradeDatabase",
    "indexCompaction",
    "taskCompaction",
    "networkTopologyChange",
    "dsrUpdate",
    "dsrClear",
];

/// Code used when an `indexUids` item is malformed. Meilisearch answers `invalid_index_uid`
/// here (not `invalid_task_index_uids`, which its documentation lists but its server never
/// sends), on every task and batch route.
pub const INDEX_UIDS_FILTER_CODE: Code = Code::InvalidIndexUid;

/// Which route the filter is read for: only listing accepts `limit`, `from` and `reverse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskQueryMode {
    /// `GET /tasks` and `GET /batches`.
    List,
    /// `POST /tasks/cancel`.
    Cancel,
    /// `DELETE /tasks`.
    Delete,
}

/// Filters (and for listing, pagination) of the task routes. A list or date left at `None`
/// does not restrict anything, whether the parameter was absent or given as `*`.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskFilter {
    pub uids: Option<Vec<u32>>,
    pub batch_uids: Option<Vec<u32>>,
    pub canceled_by: Option<Vec<u32>>,
    /// Canonical camelCase names from [`TASK_TYPES`].
    pub types: Option<Vec<String>>,
    /// Canonical names from [`TASK_STATUSES`].
    pub statuses: Option<Vec<String>>,
    pub index_uids: Option<Vec<String>>,
    pub before_enqueued_at: Option<OffsetDateTime>,
    pub after_enqueued_at: Option<OffsetDateTime>,
    pub before_started_at: Option<OffsetDateTime>,
    pub after_started_at: Option<OffsetDateTime>,
    pub before_finished_at: Option<OffsetDateTime>,
    pub after_finished_at: Option<OffsetDateTime>,
    pub limit: u32,
    pub from: Option<u32>,
    pub reverse: bool,
    /// Whether at least one filter parameter (not `limit`, `from` or `reverse`) was present,
    /// even as `*`: `statuses=*` cancels or deletes every task, no parameter at all is refused.
    pub filter_params_given: bool,
}

/// `GET /batches` takes exactly the same parameters, with the same codes, as `GET /tasks`.
pub type BatchFilter = TaskFilter;

impl Default for TaskFilter {
    fn default() -> Self {
        TaskFilter {
            uids: None,
            batch_uids: None,
            canceled_by: None,
            types: None,
            statuses: None,
            index_uids: None,
            before_enqueued_at: None,
            after_enqueued_at: None,
            before_started_at: None,
            after_started_at: None,
            before_finished_at: None,
            after_finished_at: None,
            limit: DEFAULT_TASK_LIMIT,
            from: None,
            reverse: false,
            filter_params_given: false,
        }
    }
}

const LIST_PARAMS: &[&str] = &[
    "limit",
    "from",
    "reverse",
    "batchUids",
    "uids",
    "canceledBy",
    "types",
    "statuses",
    "indexUids",
    "afterEnqueuedAt",
    "beforeEnqueuedAt",
    "afterStartedAt",
    "beforeStartedAt",
    "afterFinishedAt",
    "beforeFinishedAt",
];

const FILTER_PARAMS: &[&str] = &[
    "uids",
    "batchUids",
    "canceledBy",
    "types",
    "statuses",
    "indexUids",
    "afterEnqueuedAt",
    "beforeEnqueuedAt",
    "afterStartedAt",
    "beforeStartedAt",
    "afterFinishedAt",
    "beforeFinishedAt",
];

/// The parameters listed by the `missing_task_filters` message, in Meilisearch's order.
const MISSING_FILTERS_LISTED: &[&str] = &[
    "uids",
    "indexUids",
    "statuses",
    "types",
    "canceledBy",
    "beforeEnqueuedAt",
    "afterEnqueuedAt",
    "beforeStartedAt",
    "afterStartedAt",
    "beforeFinishedAt",
    "afterFinishedAt",
];

/// The `missing_task_filters` error answered by `POST /tasks/cancel` and `DELETE /tasks` when
/// no filter is given. `route` is the operation's verb: `"cancel"` or `"delete"`.
pub fn missing_filters_error(route: &str) -> ResponseError {
    ResponseError::new(
        Code::MissingTaskFilters,
        format!(
            "Query parameters to filter the tasks to {route} are missing. Available query parameters are: {}.",
            backticked_list(MISSING_FILTERS_LISTED)
        ),
    )
}

/// Decodes a comma separated list; `None` when one item is `*`. Items are checked in order and
/// reported as `name[i]` when the list has several.
fn parse_list<T>(
    value: &str,
    name: &str,
    mut parse_item: impl FnMut(&str, &str) -> Result<T, ResponseError>,
) -> Result<Option<Vec<T>>, ResponseError> {
    let items = split_list(value);
    let mut star = false;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if item == "*" {
            star = true;
            continue;
        }
        out.push(parse_item(item, &list_item_name(name, i, items.len()))?);
    }
    Ok(if star { None } else { Some(out) })
}

fn parse_uid_list(value: &str, name: &str, code: Code) -> Result<Option<Vec<u32>>, ResponseError> {
    parse_list(value, name, |item, item_name| {
        parse_u32_param(item, code, item_name)
    })
}

fn canonical_word(item: &str, words: &[&'static str]) -> Option<&'static str> {
    words
        .iter()
        .copied()
        .find(|word| word.eq_ignore_ascii_case(item))
}

fn parse_status(item: &str, name: &str) -> Result<String, ResponseError> {
    canonical_word(item, TASK_STATUSES)
        .map(str::to_string)
        .ok_or_else(|| {
            invalid_param(
                Code::InvalidTaskStatuses,
                name,
                &format!(
                    "`{item}` is not a valid task status. Available statuses are {}.",
                    backticked_list(TASK_STATUSES)
                ),
            )
        })
}

fn parse_type(item: &str, name: &str) -> Result<String, ResponseError> {
    canonical_word(item, TASK_TYPES)
        .map(str::to_string)
        .ok_or_else(|| {
            invalid_param(
                Code::InvalidTaskTypes,
                name,
                &format!(
                    "`{item}` is not a valid task type. Available types are {}.",
                    backticked_list(TASK_TYPES)
                ),
            )
        })
}

fn parse_index_uid(item: &str, name: &str) -> Result<String, ResponseError> {
    if is_valid_index_uid(item) {
        Ok(item.to_string())
    } else {
        Err(invalid_param(
            INDEX_UIDS_FILTER_CODE,
            name,
            &invalid_index_uid_message(item),
        ))
    }
}

/// Which end of a plain `YYYY-MM-DD` date a bound refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    /// `before*`: before the start of that day.
    Before,
    /// `after*`: after the end of that day, i.e. from the next midnight on.
    After,
}

/// Parses a date filter: a full RFC 3339 date-time is taken as is; a plain date is midnight UTC
/// of that day for `before*` and midnight UTC of the next day for `after*`. `*` is no bound.
fn parse_date(
    value: &str,
    name: &str,
    code: Code,
    bound: Bound,
) -> Result<Option<OffsetDateTime>, ResponseError> {
    let value = value.trim();
    if value == "*" {
        return Ok(None);
    }
    if let Ok(datetime) = OffsetDateTime::parse(value, &Rfc3339) {
        return Ok(Some(datetime));
    }
    let plain = format_description!("[year]-[month]-[day]");
    if let Ok(date) = Date::parse(value, &plain) {
        let midnight = date.with_time(Time::MIDNIGHT).assume_utc();
        return Ok(Some(match bound {
            Bound::Before => midnight,
            Bound::After => midnight.checked_add(Duration::days(1)).unwrap_or(midnight),
        }));
    }
    Err(invalid_param(
        code,
        name,
        &format!(
            "`{value}` is an invalid date-time. It should follow the YYYY-MM-DD or RFC 3339 date-time format."
        ),
    ))
}

impl TaskFilter {
    /// Decodes the query string of a task route. With [`TaskQueryMode::Cancel`] or
    /// [`TaskQueryMode::Delete`], `limit`, `from` and `reverse` are unknown parameters; the
    /// caller answers [`missing_filters_error`] when [`TaskFilter::is_empty`] then.
    pub fn from_query_string(query: &str, mode: TaskQueryMode) -> Result<Self, ResponseError> {
        let params = parse_query_string(query);
        let expected = match mode {
            TaskQueryMode::List => LIST_PARAMS,
            TaskQueryMode::Cancel | TaskQueryMode::Delete => FILTER_PARAMS,
        };
        let mut f = TaskFilter::default();
        for_each_param(&params, expected, |name, value| {
            if FILTER_PARAMS.contains(&name) {
                f.filter_params_given = true;
            }
            match name {
                "limit" => f.limit = parse_u32_param(value, Code::InvalidTaskLimit, name)?,
                "from" => f.from = Some(parse_u32_param(value, Code::InvalidTaskFrom, name)?),
                "reverse" => f.reverse = parse_bool_param(value, Code::InvalidTaskReverse, name)?,
                "uids" => f.uids = parse_uid_list(value, name, Code::InvalidTaskUids)?,
                "batchUids" => f.batch_uids = parse_uid_list(value, name, Code::InvalidBatchUids)?,
                "canceledBy" => {
                    f.canceled_by = parse_uid_list(value, name, Code::InvalidTaskCanceledBy)?
                }
                "types" => f.types = parse_list(value, name, parse_type)?,
                "statuses" => f.statuses = parse_list(value, name, parse_status)?,
                "indexUids" => f.index_uids = parse_list(value, name, parse_index_uid)?,
                "afterEnqueuedAt" => {
                    f.after_enqueued_at =
                        parse_date(value, name, Code::InvalidTaskAfterEnqueuedAt, Bound::After)?
                }
                "beforeEnqueuedAt" => {
                    f.before_enqueued_at = parse_date(
                        value,
                        name,
                        Code::InvalidTaskBeforeEnqueuedAt,
                        Bound::Before,
                    )?
                }
                "afterStartedAt" => {
                    f.after_started_at =
                        parse_date(value, name, Code::InvalidTaskAfterStartedAt, Bound::After)?
                }
                "beforeStartedAt" => {
                    f.before_started_at =
                        parse_date(value, name, Code::InvalidTaskBeforeStartedAt, Bound::Before)?
                }
                "afterFinishedAt" => {
                    f.after_finished_at =
                        parse_date(value, name, Code::InvalidTaskAfterFinishedAt, Bound::After)?
                }
                _ => {
                    f.before_finished_at = parse_date(
                        value,
                        name,
                        Code::InvalidTaskBeforeFinishedAt,
                        Bound::Before,
                    )?
                }
            }
            Ok(())
        })?;
        Ok(f)
    }

    /// True when no filter parameter was given at all (a `*` counts as given).
    pub fn is_empty(&self) -> bool {
        !self.filter_params_given
            && self.uids.is_none()
            && self.batch_uids.is_none()
            && self.canceled_by.is_none()
            && self.types.is_none()
            && self.statuses.is_none()
            && self.index_uids.is_none()
            && self.before_enqueued_at.is_none()
            && self.after_enqueued_at.is_none()
            && self.before_started_at.is_none()
            && self.after_started_at.is_none()
            && self.before_finished_at.is_none()
            && self.after_finished_at.is_none()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn list(query: &str) -> TaskFilter {
        TaskFilter::from_query_string(query, TaskQueryMode::List).unwrap()
    }

    fn list_err(query: &str, mode: TaskQueryMode) -> ResponseError {
        TaskFilter::from_query_string(query, mode).unwrap_err()
    }

    #[test]
    fn defaults() {
        let f = list("");
        assert_eq!(f, TaskFilter::default());
        assert_eq!(f.limit, 20);
        assert!(f.is_empty());
        assert!(TaskFilter::from_query_string("", TaskQueryMode::Cancel)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn lists_and_pagination() {
        let f = list("from=12&limit=15&indexUids=toto,tata-78&statuses=succeeded,enqueued&uids=1,2,3&reverse=true");
        assert_eq!(f.from, Some(12));
        assert_eq!(f.limit, 15);
        assert!(f.reverse);
        assert_eq!(
            f.index_uids,
            Some(vec!["toto".to_string(), "tata-78".to_string()])
        );
        assert_eq!(
            f.statuses,
            Some(vec!["succeeded".to_string(), "enqueued".to_string()])
        );
        assert_eq!(f.uids, Some(vec![1, 2, 3]));
        assert!(!f.is_empty());

        let f = list("batchUids=4&canceledBy=7,8&types=settingsUpdate,DOCUMENTDELETION");
        assert_eq!(f.batch_uids, Some(vec![4]));
        assert_eq!(f.canceled_by, Some(vec![7, 8]));
        assert_eq!(
            f.types,
            Some(vec![
                "settingsUpdate".to_string(),
                "documentDeletion".to_string()
            ])
        );

        let f = list("statuses=SUCCEEDED&uids=%201%20,2");
        assert_eq!(f.statuses, Some(vec!["succeeded".to_string()]));
        assert_eq!(f.uids, Some(vec![1, 2]));

        let all_types = TASK_TYPES.join(",");
        assert_eq!(
            list(&format!("types={all_types}")).types.unwrap().len(),
            TASK_TYPES.len()
        );
    }

    #[test]
    fn stars_lift_restrictions_but_count_as_filters() {
        let f = list("indexUids=*&statuses=succeeded,*&uids=*&types=*&canceledBy=*&batchUids=*");
        assert_eq!(f.index_uids, None);
        assert_eq!(f.statuses, None);
        assert_eq!(f.uids, None);
        assert_eq!(f.types, None);
        assert_eq!(f.canceled_by, None);
        assert_eq!(f.batch_uids, None);
        assert!(!f.is_empty());

        let f = TaskFilter::from_query_string("statuses=*", TaskQueryMode::Delete).unwrap();
        assert!(!f.is_empty());
        let f = TaskFilter::from_query_string("afterEnqueuedAt=*", TaskQueryMode::Cancel).unwrap();
        assert_eq!(f.after_enqueued_at, None);
        assert!(!f.is_empty());

        // Pagination alone is not a filter.
        assert!(list("limit=3&from=2&reverse=false").is_empty());
    }

    #[test]
    fn dates() {
        let f = list(
            "afterEnqueuedAt=2021-12-03&beforeEnqueuedAt=2021-12-03&afterStartedAt=2021-12-03\
             &beforeStartedAt=2021-12-03&afterFinishedAt=2021-12-03&beforeFinishedAt=2021-12-03",
        );
        assert_eq!(f.after_enqueued_at, Some(datetime!(2021-12-04 0:00 UTC)));
        assert_eq!(f.before_enqueued_at, Some(datetime!(2021-12-03 0:00 UTC)));
        assert_eq!(f.after_started_at, Some(datetime!(2021-12-04 0:00 UTC)));
        assert_eq!(f.before_started_at, Some(datetime!(2021-12-03 0:00 UTC)));
        assert_eq!(f.after_finished_at, Some(datetime!(2021-12-04 0:00 UTC)));
        assert_eq!(f.before_finished_at, Some(datetime!(2021-12-03 0:00 UTC)));

        let f = list("afterEnqueuedAt=2021-12-03T23:45:23Z&beforeEnqueuedAt=2021-12-31");
        assert_eq!(
            f.after_enqueued_at,
            Some(datetime!(2021-12-03 23:45:23 UTC))
        );
        assert_eq!(f.before_enqueued_at, Some(datetime!(2021-12-31 0:00 UTC)));

        let f = list("afterEnqueuedAt=1997-11-12T09:55:06-06:20");
        assert_eq!(
            f.after_enqueued_at,
            Some(datetime!(1997-11-12 9:55:06 -6:20))
        );
        let f = list("afterEnqueuedAt=1997-11-12T09:55:06%2B00:00");
        assert_eq!(f.after_enqueued_at, Some(datetime!(1997-11-12 9:55:06 UTC)));
        let f = list("afterEnqueuedAt=1997-11-12T09:55:06.200000300Z");
        assert_eq!(
            f.after_enqueued_at,
            Some(datetime!(1997-11-12 9:55:06.2000003 UTC))
        );
        // The last day of the year rolls over into the next one.
        let f = list("afterFinishedAt=2021-12-31");
        assert_eq!(f.after_finished_at, Some(datetime!(2022-01-01 0:00 UTC)));
    }

    #[test]
    fn date_errors() {
        let cases = [
            ("afterEnqueuedAt", Code::InvalidTaskAfterEnqueuedAt),
            ("beforeEnqueuedAt", Code::InvalidTaskBeforeEnqueuedAt),
            ("afterStartedAt", Code::InvalidTaskAfterStartedAt),
            ("beforeStartedAt", Code::InvalidTaskBeforeStartedAt),
            ("afterFinishedAt", Code::InvalidTaskAfterFinishedAt),
            ("beforeFinishedAt", Code::InvalidTaskBeforeFinishedAt),
        ];
        for (name, code) in cases {
            for bad in [
                "doggo",
                "2021",
                "2021-12",
                "2021-12-03T23",
                "2021-12-03T23:45",
                "2021-13-01",
                "",
            ] {
                for mode in [
                    TaskQueryMode::List,
                    TaskQueryMode::Cancel,
                    TaskQueryMode::Delete,
                ] {
                    let err = list_err(&format!("{name}={bad}"), mode);
                    assert_eq!(err.code, code, "{name}={bad}");
                    assert_eq!(
                        err.message,
                        format!(
                            "Invalid value in parameter `{name}`: `{bad}` is an invalid date-time. \
                             It should follow the YYYY-MM-DD or RFC 3339 date-time format."
                        )
                    );
                }
            }
        }
    }

    #[test]
    fn list_item_errors() {
        let cases = [
            ("uids=doggo", Code::InvalidTaskUids, "Invalid value in parameter `uids`: could not parse `doggo` as a positive integer"),
            ("uids=1,dogo", Code::InvalidTaskUids, "Invalid value in parameter `uids[1]`: could not parse `dogo` as a positive integer"),
            ("uids=cat,*,dog", Code::InvalidTaskUids, "Invalid value in parameter `uids[0]`: could not parse `cat` as a positive integer"),
            ("uids=-1", Code::InvalidTaskUids, "Invalid value in parameter `uids`: could not parse `-1` as a positive integer"),
            ("uids=", Code::InvalidTaskUids, "Invalid value in parameter `uids`: could not parse `` as a positive integer"),
            ("batchUids=x", Code::InvalidBatchUids, "Invalid value in parameter `batchUids`: could not parse `x` as a positive integer"),
            ("canceledBy=doggo", Code::InvalidTaskCanceledBy, "Invalid value in parameter `canceledBy`: could not parse `doggo` as a positive integer"),
            (
                "statuses=doggo",
                Code::InvalidTaskStatuses,
                "Invalid value in parameter `statuses`: `doggo` is not a valid task status. Available statuses are `enqueued`, `processing`, `succeeded`, `failed`, `canceled`.",
            ),
            (
                "statuses=enqueued,finished",
                Code::InvalidTaskStatuses,
                "Invalid value in parameter `statuses[1]`: `finished` is not a valid task status. Available statuses are `enqueued`, `processing`, `succeeded`, `failed`, `canceled`.",
            ),
            (
                "indexUids=the%20good%20doggo",
                INDEX_UIDS_FILTER_CODE,
                "Invalid value in parameter `indexUids`: `the good doggo` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 400 bytes.",
            ),
            (
                "indexUids=1,h%C3%A9",
                INDEX_UIDS_FILTER_CODE,
                "Invalid value in parameter `indexUids[1]`: `hé` is not a valid index uid. Index uid can be an integer or a string containing only alphanumeric characters, hyphens (-) and underscores (_), and can not be more than 400 bytes.",
            ),
        ];
        for (query, code, message) in cases {
            for mode in [
                TaskQueryMode::List,
                TaskQueryMode::Cancel,
                TaskQueryMode::Delete,
            ] {
                let err = list_err(query, mode);
                assert_eq!(
                    (err.code, err.message.as_str()),
                    (code, message),
                    "{query} {mode:?}"
                );
            }
        }

        let err = list_err("types=createIndex", TaskQueryMode::List);
        assert_eq!(err.code, Code::InvalidTaskTypes);
        assert!(err.message.starts_with(
            "Invalid value in parameter `types`: `createIndex` is not a valid task type. Available types are `documentAdditionOrUpdate`, `documentEdition`, `documentDeletion`, "
        ));
        assert!(
            err.message
                .ends_with("`networkTopologyChange`, `dsrUpdate`, `dsrClear`."),
            "{}",
            err.message
        );
    }

    #[test]
    fn pagination_errors() {
        let cases = [
            ("limit=doggo", Code::InvalidTaskLimit, "Invalid value in parameter `limit`: could not parse `doggo` as a positive integer"),
            ("limit=4294967296", Code::InvalidTaskLimit, "Invalid value in parameter `limit`: could not parse `4294967296` as a positive integer"),
            ("from=doggo", Code::InvalidTaskFrom, "Invalid value in parameter `from`: could not parse `doggo` as a positive integer"),
            ("uids=*&from=*", Code::InvalidTaskFrom, "Invalid value in parameter `from`: could not parse `*` as a positive integer"),
            ("reverse=doggo", Code::InvalidTaskReverse, "Invalid value in parameter `reverse`: could not parse `doggo` as a boolean, expected either `true` or `false`"),
            ("reverse=*", Code::InvalidTaskReverse, "Invalid value in parameter `reverse`: could not parse `*` as a boolean, expected either `true` or `false`"),
        ];
        for (query, code, message) in cases {
            let err = list_err(query, TaskQueryMode::List);
            assert_eq!((err.code, err.message.as_str()), (code, message), "{query}");
        }
    }

    #[test]
    fn unknown_parameters() {
        let filters_only = "Unknown parameter `{}`: expected one of `uids`, `batchUids`, `canceledBy`, `types`, `statuses`, `indexUids`, `afterEnqueuedAt`, `beforeEnqueuedAt`, `afterStartedAt`, `beforeStartedAt`, `afterFinishedAt`, `beforeFinishedAt`";
        for name in ["limit", "from", "reverse", "doggo"] {
            for mode in [TaskQueryMode::Cancel, TaskQueryMode::Delete] {
                let err = list_err(&format!("{name}=12"), mode);
                assert_eq!(err.code, Code::BadRequest);
                assert_eq!(err.message, filters_only.replace("{}", name));
            }
        }
        let err = list_err("doggo=1", TaskQueryMode::List);
        assert_eq!(err.code, Code::BadRequest);
        assert_eq!(
            err.message,
            "Unknown parameter `doggo`: expected one of `limit`, `from`, `reverse`, `batchUids`, `uids`, `canceledBy`, `types`, `statuses`, `indexUids`, `afterEnqueuedAt`, `beforeEnqueuedAt`, `afterStartedAt`, `beforeStartedAt`, `afterFinishedAt`, `beforeFinishedAt`"
        );
    }

    #[test]
    fn missing_filters() {
        let err = missing_filters_error("delete");
        assert_eq!(err.code, Code::MissingTaskFilters);
        assert_eq!(
            err.message,
            "Query parameters to filter the tasks to delete are missing. Available query parameters are: `uids`, `indexUids`, `statuses`, `types`, `canceledBy`, `beforeEnqueuedAt`, `afterEnqueuedAt`, `beforeStartedAt`, `afterStartedAt`, `beforeFinishedAt`, `afterFinishedAt`."
        );
        assert!(missing_filters_error("cancel")
            .message
            .starts_with("Query parameters to filter the tasks to cancel are missing."));
    }

    #[test]
    fn batch_filter_is_the_task_filter() {
        let f: BatchFilter =
            BatchFilter::from_query_string("statuses=failed&limit=2", TaskQueryMode::List).unwrap();
        assert_eq!(f.statuses, Some(vec!["failed".to_string()]));
        assert_eq!(f.limit, 2);
    }
}
