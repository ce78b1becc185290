//! What each query term may match in the documents: the word itself, words it is a prefix of,
//! words within one or two typos (Damerau-Levenshtein automata run over the term dictionary),
//! its split into two adjacent words, its concatenation with the next terms, and synonyms.
//! Each derivation knows its typo cost and its documents; everything is capped so that no query
//! explodes, keeping the best derivations (fewest typos, then most documents).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use levenshtein_automata::{Distance, LevenshteinAutomatonBuilder, DFA, SINK_STATE};
use roaring::{MultiOps, RoaringBitmap};
use rustc_hash::FxHashMap;

use super::cache::CachedDerivations;
use super::context::{prefix_upper_bound, AttributeFilter, SearchContext, SegmentView};
use super::prefix_tops::{ready_prefix_tops, MAX_PREFIX_CHARS};
use super::query::{ParsedQuery, QueryPart};
use super::segment_tables::ready_table;
use super::typo_dictionary::TypoDictionary;
use crate::analysis::Analyzer;
use crate::error::Result;
use crate::settings::IndexSettings;

/// Most words a prefix may expand to: the most frequent are kept.
pub const MAX_PREFIX_DERIVATIONS: usize = 150;
/// Most words within typos a term may match: the fewest typos, then the most frequent, are kept.
pub const MAX_TYPO_DERIVATIONS: usize = 150;
/// Most query terms concatenated into one word ("news paper" -> "newspaper").
const MAX_NGRAM: usize = 3;

/// The group index of a word's exact derivation (after prefixes 0, one typo 1, two typos 2).
pub const EXACT_GROUP: usize = 3;

/// Index of a word in [`Query::words`].
pub type WordId = u32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DerivationKind {
    /// The term itself.
    Exact,
    /// A longer word the last term is the beginning of.
    Prefix,
    /// A word within one or two typos.
    Typo,
    /// The term cut in two adjacent words ("sunflower" -> "sun flower").
    Split,
    /// Adjacent terms glued into one word ("sun flower" -> "sunflower").
    Concat,
    /// A synonym from the settings.
    Synonym,
    /// A quoted phrase, matched as it is.
    Phrase,
}

/// The words a derivation matches.
#[derive(Debug, Clone)]
pub enum Shape {
    /// Any one of these words.
    Any(Vec<WordId>),
    /// These words following each other; `None` is a stop word, which is not indexed but keeps
    /// its place.
    Sequence(Vec<Option<WordId>>),
}

#[derive(Debug, Clone)]
pub struct Derivation {
    pub kind: DerivationKind,
    pub typos: u8,
    pub shape: Shape,
    /// The first query term this derivation stands for.
    pub first_term: usize,
    /// Every query term it stands for (a bit per term): more than one for concatenations and
    /// multi-word synonyms.
    pub covers: u16,
    /// Attributes the match may come from, when restricted.
    pub filter: Option<Arc<AttributeFilter>>,
    /// Live documents it matches.
    pub docs: Arc<RoaringBitmap>,
    /// When it is one group of a word's cached derivations (prefixes, one typo, two typos):
    /// those derivations and the group's index, where unions are kept for later searches.
    pub group: Option<(Arc<CachedDerivations>, usize)>,
}

impl Derivation {
    /// How many word positions one match spans.
    pub fn span(&self) -> u32 {
        match &self.shape {
            Shape::Any(_) => 1,
            Shape::Sequence(words) => words.len() as u32,
        }
    }

    /// Whether it is the term as typed: what the exactness rule counts.
    pub fn is_exact(&self) -> bool {
        matches!(self.kind, DerivationKind::Exact | DerivationKind::Phrase)
    }
}

/// One query term: a word or a phrase.
#[derive(Debug, Clone)]
pub struct Term {
    /// Normalized text (a phrase's words joined by spaces).
    pub text: String,
    pub is_prefix: bool,
    pub is_phrase: bool,
    /// Typos allowed on this term by the settings.
    pub max_typos: u8,
}

/// A query with every derivation of its terms, ready for the ranking rules.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub terms: Vec<Term>,
    pub derivations: Vec<Derivation>,
    /// Every word some derivation matches.
    pub words: Vec<String>,
    /// The live documents of each word (whatever attribute it is in).
    pub word_docs: Vec<Arc<RoaringBitmap>>,
    /// Documents excluded by negations.
    pub negated: RoaringBitmap,
}

impl Query {
    /// The letters typed for the terms a derivation covers: what a matched word completes is
    /// its own letters beyond these.
    pub fn letters_typed(&self, covers: u16) -> usize {
        (0..16u8)
            .filter(|t| covers & (1 << t) != 0)
            .filter_map(|t| self.terms.get(t as usize))
            .map(|term| term.text.chars().count())
            .sum()
    }

    /// A cache key naming some words of the query in order, `None` (a position left free in a
    /// sequence) as `\u{3}`: word texts joined by `\u{1}`, which no word holds.
    pub fn words_key(&self, words: impl IntoIterator<Item = Option<u32>>) -> String {
        let names: Vec<&str> = words
            .into_iter()
            .map(|w| w.map_or("\u{3}", |w| self.words[w as usize].as_str()))
            .collect();
        names.join("\u{1}")
    }

    /// A bit per term, all set.
    pub fn all_terms(&self) -> u16 {
        if self.terms.len() >= 16 {
            u16::MAX
        } else {
            (1u16 << self.terms.len()) - 1
        }
    }

    /// Documents of `universe` matching term `term` with at most `k` typos, for k = 0, 1, 2,
    /// using only derivations whose terms are all in `mask`; `None` when every document of the
    /// universe matches the term as typed (every level would be the universe: the term adds no
    /// typo to any document).
    pub fn term_docs_by_typos(
        &self,
        term: usize,
        mask: u16,
        universe: &RoaringBitmap,
    ) -> Option<[RoaringBitmap; 3]> {
        let levels = self.cached_levels(term, mask);
        let mut out: [RoaringBitmap; 3] = Default::default();
        for d in &self.derivations {
            if d.covers & (1 << term) == 0 || d.covers & !mask != 0 {
                continue;
            }
            if levels.is_some() && d.group.is_some() {
                continue;
            }
            // A derivation standing for several terms costs its typos once, on its first term.
            let cost = if d.first_term == term {
                d.typos.min(2) as usize
            } else {
                0
            };
            // Restricted before they are united: a universe is often a small part of a frequent
            // word's documents, and uniting those in full cost more than the ranking after it.
            out[cost] |= d.docs.as_ref() & universe;
        }
        if let Some(levels) = levels {
            // The cached unions are intersected where they lie, not copied first. A level
            // shared with the one below it (no derivation of that many typos) adds nothing the
            // union below does not, and none is restricted once the first holds the universe.
            for k in 0..3 {
                if k > 0 && Arc::ptr_eq(&levels[k], &levels[k - 1]) {
                    continue;
                }
                out[k] |= levels[k].as_ref() & universe;
                if k == 0 && out[0].len() == universe.len() {
                    return None;
                }
            }
        }
        let (zero, rest) = out.split_at_mut(1);
        rest[0] |= &zero[0];
        let (one, two) = rest.split_at_mut(1);
        two[0] |= &one[0];
        (out[0].len() != universe.len()).then_some(out)
    }

    /// Documents matching term `term` through derivations allowed by `mask`; the word's kept
    /// union itself (not a copy) when nothing else adds to it.
    pub fn term_docs(&self, term: usize, mask: u16) -> Cow<'_, RoaringBitmap> {
        let levels = self.cached_levels(term, mask);
        let mut out: Cow<'_, RoaringBitmap> = match levels {
            Some(levels) => Cow::Borrowed(levels[2].as_ref()),
            None => Cow::Owned(RoaringBitmap::new()),
        };
        for d in &self.derivations {
            if levels.is_some() && d.group.is_some() {
                continue;
            }
            if d.covers & (1 << term) != 0 && d.covers & !mask == 0 {
                *out.to_mut() |= d.docs.as_ref();
            }
        }
        out
    }

    /// The union of the term's word derivations (exact, prefixes, typos) up to each typo
    /// level, kept with the word's cached derivations, when every one of them is in this query
    /// unrestricted (no attribute filter): then it is exactly their documents. `None` too when
    /// `mask` leaves the term out.
    fn cached_levels(&self, term: usize, mask: u16) -> Option<&[Arc<RoaringBitmap>; 3]> {
        if mask & (1 << term) == 0 {
            return None;
        }
        let mut found: Option<&Arc<CachedDerivations>> = None;
        for d in &self.derivations {
            let Some((group, _)) = &d.group else {
                continue;
            };
            if d.first_term != term {
                continue;
            }
            if d.filter.is_some() || found.is_some_and(|f| !Arc::ptr_eq(f, group)) {
                return None;
            }
            found = Some(group);
        }
        found?.levels.get()
    }

    /// The typos allowed on the terms of `mask`, summed: the worst a document can do.
    pub fn max_typos(&self, mask: u16) -> u32 {
        self.terms
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(i, t)| {
                let concat = self
                    .derivations
                    .iter()
                    .any(|d| d.first_term == i && d.typos > t.max_typos);
                u32::from(if concat {
                    t.max_typos.max(1)
                } else {
                    t.max_typos
                })
            })
            .sum()
    }
}

/// A word's kept typo level above `below`: the same set, shared, when no derivation adds to
/// it (a prefix or a short word allows no typo), so it takes memory and is restricted to a
/// universe once.
fn level_above(below: &Arc<RoaringBitmap>, added: RoaringBitmap) -> Arc<RoaringBitmap> {
    if added.is_empty() {
        below.clone()
    } else {
        Arc::new(added | below.as_ref())
    }
}

/// Typos allowed on a word. `relaxed`: words one letter short of a typo get one too (the
/// fallback when no document matches every term).
pub fn allowed_typos_relaxed(settings: &IndexSettings, word: &str, relaxed: bool) -> u8 {
    let len = word.chars().count();
    if relaxed && len >= 3 {
        typos_for_length(settings, word, len + 1).min(allowed_typos(settings, word).max(1))
    } else {
        allowed_typos(settings, word)
    }
}

/// Typos the settings allow on a word.
pub fn allowed_typos(settings: &IndexSettings, word: &str) -> u8 {
    typos_for_length(settings, word, word.chars().count())
}

fn typos_for_length(settings: &IndexSettings, word: &str, len: usize) -> u8 {
    let typo = &settings.typo_tolerance;
    if !typo.enabled
        || typo
            .disable_on_words
            .iter()
            .any(|w| crate::analysis::normalize_word(w) == word)
    {
        return 0;
    }
    if typo.disable_on_numbers && word.chars().all(|c| c.is_ascii_digit()) {
        return 0;
    }
    if len >= usize::from(typo.two_typos_min_len) {
        2
    } else if len >= usize::from(typo.one_typo_min_len) {
        1
    } else {
        0
    }
}

fn builder(distance: u8) -> &'static LevenshteinAutomatonBuilder {
    static BUILDERS: [OnceLock<LevenshteinAutomatonBuilder>; 2] =
        [OnceLock::new(), OnceLock::new()];
    BUILDERS[usize::from(distance.clamp(1, 2) - 1)]
        .get_or_init(|| LevenshteinAutomatonBuilder::new(distance, true))
}

/// Walks the term dictionary for words within typos of a query word. A typo on the first
/// letter counts as two, as in Meilisearch: with one typo allowed the first letter must be
/// right; with two, a word whose first letter differs may have no other typo.
struct TypoAutomaton<'a> {
    dfas: &'a TypoDfas,
    /// The query word's bytes and, when the words below its parent (the word without its last
    /// letter) are known already ([`KnownParent`]), the parent's length: the walk then leaves
    /// that part of the dictionary, the parent itself included, except the branch of the last
    /// letter's first byte.
    word: &'a [u8],
    cut_at: Option<usize>,
}

const FIRST_MISMATCH: u8 = u8::MAX;
/// `TypoState::along` once the path left the query word's own bytes.
const OFF_THE_WORD: u8 = u8::MAX;

#[derive(Clone)]
struct TypoState {
    one: u32,
    max: u32,
    first: u8,
    /// How many bytes of the query word the path spells exactly, or [`OFF_THE_WORD`].
    along: u8,
}

impl TypoAutomaton<'_> {
    /// Whether `s` is the parent's node, whose subtree is known (see `cut_at`).
    fn at_cut(&self, s: &TypoState) -> bool {
        self.cut_at.is_some_and(|at| usize::from(s.along) == at)
    }
}

impl tantivy_fst::Automaton for TypoAutomaton<'_> {
    type State = TypoState;

    fn start(&self) -> TypoState {
        TypoState {
            one: self.dfas.one.initial_state(),
            max: self.dfas.max().initial_state(),
            first: 0,
            along: 0,
        }
    }

    fn is_match(&self, s: &TypoState) -> bool {
        if self.at_cut(s) {
            return false;
        }
        if s.first == FIRST_MISMATCH {
            self.dfas.two.is_some() && matches!(self.dfas.one.distance(s.one), Distance::Exact(_))
        } else {
            usize::from(s.first) >= self.dfas.first.len()
                && matches!(self.dfas.max().distance(s.max), Distance::Exact(_))
        }
    }

    fn can_match(&self, s: &TypoState) -> bool {
        if s.first == FIRST_MISMATCH {
            self.dfas.two.is_some() && s.one != SINK_STATE
        } else {
            s.max != SINK_STATE
        }
    }

    fn accept(&self, s: &TypoState, byte: u8) -> TypoState {
        // Only a walk with a cut follows the word's own path.
        let along = match self.word.get(usize::from(s.along)) {
            Some(&expected) if self.cut_at.is_some() && expected == byte => s.along + 1,
            _ => OFF_THE_WORD,
        };
        if along == OFF_THE_WORD && self.at_cut(s) {
            // Below the parent, off the last letter's branch: known, not walked.
            return TypoState {
                one: SINK_STATE,
                max: SINK_STATE,
                first: FIRST_MISMATCH,
                along,
            };
        }
        let first = match s.first {
            FIRST_MISMATCH => FIRST_MISMATCH,
            n if usize::from(n) < self.dfas.first.len() => {
                if self.dfas.first[usize::from(n)] == byte {
                    n + 1
                } else {
                    FIRST_MISMATCH
                }
            }
            n => n,
        };
        TypoState {
            one: if self.dfas.two.is_some() {
                self.dfas.one.transition(s.one, byte)
            } else {
                s.one
            },
            max: self.dfas.max().transition(s.max, byte),
            first,
            along,
        }
    }
}

/// A word found in the dictionary for a query word.
struct Found {
    typos: u8,
    doc_freq: u64,
}

/// The single-word derivations of one query word: exact, prefix and typo'd words, from the
/// snapshot's cache when a previous keystroke already found them.
fn word_derivations(
    ctx: &SearchContext,
    word: &str,
    is_prefix: bool,
    max_typos: u8,
) -> Result<Arc<CachedDerivations>> {
    let key = (word.to_string(), is_prefix, max_typos);
    if let Some(found) = ctx.cache.derivations(&key) {
        return Ok(found);
    }
    let mut found = find_derivations(ctx, word, is_prefix, max_typos)?;
    found.key = key.clone();
    let words = found
        .exact
        .iter()
        .chain(&found.prefixes)
        .chain(found.typos.iter().map(|t| &t.0));
    let mut docs = Vec::with_capacity(found.prefixes.len() + found.typos.len() + 1);
    for w in words {
        docs.push(cached_word_docs(ctx, w)?);
    }
    found.docs = docs;
    let found = Arc::new(found);
    ctx.cache.put_derivations(key, found.clone());
    Ok(found)
}

pub(super) fn find_derivations(
    ctx: &SearchContext,
    word: &str,
    is_prefix: bool,
    max_typos: u8,
) -> Result<CachedDerivations> {
    if max_typos == 0 {
        return find_derivations_below(ctx, word, is_prefix, 0, None);
    }
    if !is_prefix {
        if let Some(before) = prefix_walk_kept(ctx, word, max_typos) {
            return Ok(derivations_among(word, max_typos, &before));
        }
        return find_derivations_below(ctx, word, false, max_typos, None);
    }
    let parent = known_parent(ctx, word);
    find_derivations_below(ctx, word, true, max_typos, parent.as_ref())
}

/// At most how many words a typo walk keeps as it found them ([`CachedDerivations::walked`]).
/// Walks with two typos find few words (five for `pastedepl` on PyPI) but cost
/// milliseconds, most of it in the dictionary's branches one or two typos away that lead
/// nowhere.
const WALKED_KEPT: usize = 1024;

/// The prefix walk of `word` that the cache keeps every word of, with at least `max_typos`
/// typos allowed: a word within `k` typos of `word` is found by the prefix walk too (its
/// completion is nothing), so the walk without a prefix, once the user has typed the word and
/// a space after it, is a filter of that one. (With a prefix, the walk of the keystroke before
/// does not hold every word of the next one: the prefix automata do not make every completion
/// of a word they accept free, `ac` being two typos from `abec` and `aco` three, so `acorn` is
/// found for `abeco` but not for `abec`.)
fn prefix_walk_kept(
    ctx: &SearchContext,
    word: &str,
    max_typos: u8,
) -> Option<Arc<CachedDerivations>> {
    (max_typos..=2).find_map(|t| {
        ctx.cache
            .derivations(&(word.to_string(), true, t))
            .filter(|d| d.walked.is_some())
    })
}

/// The derivations of `word` without a prefix among the words its prefix walk found
/// (`before`): exactly those its own walk would find, classified the same way.
fn derivations_among(word: &str, max_typos: u8, before: &CachedDerivations) -> CachedDerivations {
    let dfas = TypoDfas::new(word, false, max_typos);
    let mut found: HashMap<Vec<u8>, Found> = HashMap::new();
    for (text, doc_freq) in before.walked.iter().flatten() {
        if let Some(typos) = dfas.typos(text.as_bytes()) {
            found.insert(
                text.as_bytes().to_vec(),
                Found {
                    typos,
                    doc_freq: *doc_freq,
                },
            );
        }
    }
    keep_most_frequent(word, found, false)
}

/// The automata of a typo walk: one typo, and two when allowed.
struct TypoDfas {
    one: DFA,
    two: Option<DFA>,
    /// The word's first letter.
    first: Vec<u8>,
}

impl TypoDfas {
    fn new(word: &str, is_prefix: bool, max_typos: u8) -> TypoDfas {
        let build = |distance: u8| {
            if is_prefix {
                builder(distance).build_prefix_dfa(word)
            } else {
                builder(distance).build_dfa(word)
            }
        };
        TypoDfas {
            one: build(1),
            two: (max_typos >= 2).then(|| build(2)),
            first: word
                .chars()
                .next()
                .map_or_else(Vec::new, |c| c.to_string().into_bytes()),
        }
    }

    fn max(&self) -> &DFA {
        self.two.as_ref().unwrap_or(&self.one)
    }

    /// The typos of dictionary word `key` for the query word, or `None` when the walk does not
    /// find it: a first letter wrong counts as two (allowed only with two typos), and then
    /// nothing else may differ.
    fn typos(&self, key: &[u8]) -> Option<u8> {
        let first = self.first.as_slice();
        if key.starts_with(first) {
            return match self.max().eval(key) {
                Distance::Exact(d) => Some(d),
                Distance::AtLeast(_) => None,
            };
        }
        if self.two.is_none() || first.starts_with(key) {
            return None;
        }
        match self.one.eval(key) {
            Distance::Exact(_) => Some(2),
            Distance::AtLeast(_) => None,
        }
    }
}

/// What a prefix word's typo walk can take from the previous keystroke instead of walking it
/// again. With a typo allowed, every word that extends the query word without its last letter
/// (its parent: `code` for `codeu`) is within one typo of it (the last letter left out), so the
/// walk enumerated that whole part of the dictionary (every `code...` word) to keep the most
/// frequent; the parent's own derivations, cached by the keystroke before, already list the
/// most frequent words extending it. They stand for the part off the last letter's branch
/// when none of them lies in that branch (else the ones after them would be needed) and the
/// snapshot has one segment (with several, those lists keep each segment's most frequent).
pub(super) struct KnownParent {
    /// The parent's length in bytes.
    len: usize,
    /// The parent's derivations: the parent itself if it is a word, then the most frequent
    /// words extending it, with their document frequencies.
    derivations: Arc<CachedDerivations>,
}

/// The [`KnownParent`] of a prefix query word, when the cache has the parent's derivations
/// and they can stand for that part of the walk.
fn known_parent(ctx: &SearchContext, word: &str) -> Option<KnownParent> {
    if ctx.segments().len() != 1 {
        return None;
    }
    let parent = parent_of(word)?;
    let cached = (0..=2u8).find_map(|t| ctx.cache.derivations(&(parent.to_string(), true, t)))?;
    KnownParent::from_derivations(cached, word)
}

/// `word` without its last letter, unless that leaves nothing.
fn parent_of(word: &str) -> Option<&str> {
    let last = word.chars().next_back()?;
    Some(&word[..word.len() - last.len_utf8()]).filter(|p| !p.is_empty())
}

impl KnownParent {
    /// The part of `parent`'s derivations that can stand for the walk below it for `word`
    /// (`parent` is `word` without its last letter).
    pub(super) fn from_derivations(
        parent: Arc<CachedDerivations>,
        word: &str,
    ) -> Option<KnownParent> {
        let len = parent_of(word)?.len();
        if word.len() >= usize::from(OFF_THE_WORD) {
            return None;
        }
        let branch = word.as_bytes()[len];
        if parent
            .prefixes
            .iter()
            .any(|w| w.as_bytes().get(len) == Some(&branch))
        {
            return None;
        }
        Some(KnownParent {
            len,
            derivations: parent,
        })
    }

    /// The parent if it is a word, then the words extending it, with document frequencies.
    fn words(&self) -> impl Iterator<Item = (u64, &str)> {
        let d = &self.derivations;
        let exact = d.exact.as_deref().map(|w| (d.exact_freq, w));
        let longer = d
            .prefix_freqs
            .iter()
            .copied()
            .zip(d.prefixes.iter().map(String::as_str));
        exact.into_iter().chain(longer)
    }
}

/// Calls `each` with every word of a segment's dictionary the automaton matches and its
/// document frequency: from the copy of the dictionary when given, else from tantivy's stream.
fn walk_typos(
    view: &SegmentView,
    automaton: &TypoAutomaton,
    dictionary: Option<Arc<TypoDictionary>>,
    each: &mut dyn FnMut(&[u8], u32),
) -> Result<()> {
    if let Some(dictionary) = dictionary {
        dictionary.walk(automaton, each);
        return Ok(());
    }
    let mut stream = view.inverted.terms().search(automaton).into_stream()?;
    while stream.advance() {
        each(stream.key(), stream.value().doc_freq);
    }
    Ok(())
}

/// [`find_derivations`], with the words below the parent taken from `parent` when given.
pub(super) fn find_derivations_below(
    ctx: &SearchContext,
    word: &str,
    is_prefix: bool,
    max_typos: u8,
    parent: Option<&KnownParent>,
) -> Result<CachedDerivations> {
    let mut found: HashMap<Vec<u8>, Found> = HashMap::new();
    if max_typos == 0 {
        let freq = ctx.doc_freq(word)?;
        if freq > 0 {
            found.insert(
                word.as_bytes().to_vec(),
                Found {
                    typos: 0,
                    doc_freq: freq,
                },
            );
        }
        if is_prefix {
            let upper = prefix_upper_bound(word.as_bytes());
            let short = word.chars().count() <= MAX_PREFIX_CHARS;
            for view in ctx.segments() {
                // The segment's table when it is ready and has the prefix; else the walk.
                let table = short.then(|| ready_prefix_tops(ctx, view)).flatten();
                let kept: Option<Vec<(u64, Vec<u8>)>> = table.as_ref().and_then(|table| {
                    let words = table.words(word.as_bytes())?;
                    Some(words.map(|(freq, key)| (freq, key.to_vec())).collect())
                });
                let top = match kept {
                    Some(top) => top,
                    None => walk_prefix(view, word, upper.as_deref())?,
                };
                for (freq, key) in top {
                    found
                        .entry(key)
                        .or_insert(Found {
                            typos: 0,
                            doc_freq: 0,
                        })
                        .doc_freq += freq;
                }
            }
        }
        return Ok(keep_most_frequent(word, found, false));
    }
    let dfas = TypoDfas::new(word, is_prefix, max_typos);
    for view in ctx.segments() {
        let automaton = TypoAutomaton {
            dfas: &dfas,
            word: word.as_bytes(),
            cut_at: parent.map(|p| p.len),
        };
        let mut add = |key: &[u8], doc_freq: u32| {
            if let Some(typos) = dfas.typos(key) {
                let entry = found
                    .entry(key.to_vec())
                    .or_insert(Found { typos, doc_freq: 0 });
                entry.doc_freq += u64::from(doc_freq);
            }
        };
        let dictionary = ready_table::<TypoDictionary>(ctx, view);
        walk_typos(view, &automaton, dictionary, &mut add)?;
    }
    // A prefix walk that went everywhere is kept when it found few words (`prefix_walk_kept`).
    let complete = is_prefix && parent.is_none();
    // One typo each: the last letter left out, the rest of the word spelled as typed.
    for (doc_freq, text) in parent.into_iter().flat_map(KnownParent::words) {
        found.insert(text.as_bytes().to_vec(), Found { typos: 1, doc_freq });
    }
    Ok(keep_most_frequent(word, found, complete))
}

/// The derivations out of every word found for `word`: the word itself, its most frequent
/// prefix completions and its most frequent typo'd words (fewer typos first); with
/// `keep_walked`, every word found too when they are at most [`WALKED_KEPT`].
fn keep_most_frequent(
    word: &str,
    found: HashMap<Vec<u8>, Found>,
    keep_walked: bool,
) -> CachedDerivations {
    let mut walked = (keep_walked && found.len() <= WALKED_KEPT).then(Vec::new);
    let mut exact = None;
    let mut exact_freq = 0;
    let mut prefixes: Vec<(u64, String)> = Vec::new();
    let mut typos: Vec<(u8, u64, String)> = Vec::new();
    for (key, f) in found {
        let Ok(text) = String::from_utf8(key) else {
            continue;
        };
        if let Some(walked) = &mut walked {
            walked.push((text.clone(), f.doc_freq));
        }
        if text == word {
            exact = Some(text);
            exact_freq = f.doc_freq;
        } else if f.typos == 0 {
            prefixes.push((f.doc_freq, text));
        } else {
            typos.push((f.typos, f.doc_freq, text));
        }
    }
    prefixes.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    prefixes.truncate(MAX_PREFIX_DERIVATIONS);
    typos.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(b.1.cmp(&a.1))
            .then_with(|| a.2.cmp(&b.2))
    });
    typos.truncate(MAX_TYPO_DERIVATIONS);
    CachedDerivations {
        exact,
        exact_freq,
        prefix_freqs: prefixes.iter().map(|p| p.0).collect(),
        prefixes: prefixes.into_iter().map(|p| p.1).collect(),
        typos: typos.into_iter().map(|t| (t.2, t.0)).collect(),
        walked,
        ..Default::default()
    }
}

/// The most frequent words of one segment that `word` is a strict prefix of, walking every such
/// word of its dictionary (`upper`: the prefix's upper bound): the top
/// [`MAX_PREFIX_DERIVATIONS`] by document frequency, ties to the smaller word.
pub(super) fn walk_prefix(
    view: &SegmentView,
    word: &str,
    upper: Option<&[u8]>,
) -> Result<Vec<(u64, Vec<u8>)>> {
    let mut stream = longer_words(view, word.as_bytes(), upper)?;
    let mut seen = TopK::new(MAX_PREFIX_DERIVATIONS);
    while stream.advance() {
        seen.offer(u64::from(stream.value().doc_freq), stream.key());
    }
    Ok(seen.into_items())
}

/// The words of a segment's dictionary that `prefix` is a strict prefix of, in dictionary order
/// (`upper`: the prefix's upper bound).
pub(super) fn longer_words<'a>(
    view: &'a SegmentView,
    prefix: &[u8],
    upper: Option<&[u8]>,
) -> Result<tantivy::termdict::TermStreamer<'a>> {
    let mut range = view.inverted.terms().range().gt(prefix);
    if let Some(upper) = upper {
        range = range.lt(upper);
    }
    Ok(range.into_stream()?)
}

/// The live documents of a word, from the snapshot's cache when already read.
fn cached_word_docs(ctx: &SearchContext, word: &str) -> Result<Arc<RoaringBitmap>> {
    if let Some(docs) = ctx.cache.word(word) {
        return Ok(docs);
    }
    let docs = Arc::new(ctx.word_docs(word)?);
    ctx.cache.put_word(word, docs.clone());
    Ok(docs)
}

/// The `k` keys with the highest counts seen so far; offered in key order, ties keep the
/// smaller key (a stable sort, and a floor that refuses equal counts once full).
pub(super) struct TopK {
    k: usize,
    items: Vec<(u64, Vec<u8>)>,
    /// The smallest count kept once full.
    floor: u64,
}

impl TopK {
    /// Allocates nothing until offered a key: the prefix tables start one per prefix.
    pub(super) fn new(k: usize) -> TopK {
        TopK {
            k,
            items: Vec::new(),
            floor: 0,
        }
    }

    pub(super) fn offer(&mut self, count: u64, key: &[u8]) {
        if self.items.len() >= self.k && count <= self.floor {
            return;
        }
        self.items.push((count, key.to_vec()));
        if self.items.len() >= self.k * 2 {
            self.shrink();
        }
    }

    fn shrink(&mut self) {
        self.items.sort_by_key(|item| std::cmp::Reverse(item.0));
        self.items.truncate(self.k);
        self.floor = self.items.last().map_or(0, |i| i.0);
    }

    pub(super) fn into_items(mut self) -> Vec<(u64, Vec<u8>)> {
        self.shrink();
        self.items
    }
}

/// Builds a [`Query`]: derivations, their documents, and the negated documents.
pub struct QueryBuilder<'a> {
    ctx: &'a SearchContext,
    analyzer: &'a Analyzer,
    /// Restriction from `attributesToSearchOn`.
    search_on: Option<Arc<AttributeFilter>>,
    /// Restriction of typo'd derivations (`disableOnAttributes`, and `search_on`).
    typo_filter: Option<Arc<AttributeFilter>>,
    query: Query,
    word_ids: FxHashMap<String, WordId>,
    relaxed: bool,
}

impl<'a> QueryBuilder<'a> {
    pub fn new(
        ctx: &'a SearchContext,
        analyzer: &'a Analyzer,
        search_on: Option<Arc<AttributeFilter>>,
        typo_filter: Option<Arc<AttributeFilter>>,
    ) -> QueryBuilder<'a> {
        QueryBuilder {
            ctx,
            analyzer,
            search_on,
            typo_filter,
            query: Query::default(),
            word_ids: FxHashMap::default(),
            relaxed: false,
        }
    }

    /// Allows a typo on words one letter shorter than the settings ask (see [`allowed_typos_relaxed`]).
    pub fn relaxed(mut self, relaxed: bool) -> QueryBuilder<'a> {
        self.relaxed = relaxed;
        self
    }

    fn word(&mut self, text: &str) -> Result<WordId> {
        if let Some(id) = self.word_ids.get(text) {
            return Ok(*id);
        }
        let docs = cached_word_docs(self.ctx, text)?;
        Ok(self.known_word(text, &docs))
    }

    /// The id of a word whose documents are already known.
    fn known_word(&mut self, text: &str, docs: &Arc<RoaringBitmap>) -> WordId {
        if let Some(id) = self.word_ids.get(text) {
            return *id;
        }
        let id = self.query.words.len() as WordId;
        self.query.words.push(text.to_string());
        self.query.word_docs.push(docs.clone());
        self.word_ids.insert(text.to_string(), id);
        id
    }

    fn push(
        &mut self,
        kind: DerivationKind,
        typos: u8,
        shape: Shape,
        first_term: usize,
        covers: u16,
    ) -> Result<()> {
        self.push_in_group(kind, typos, shape, first_term, covers, None)
    }

    fn push_in_group(
        &mut self,
        kind: DerivationKind,
        typos: u8,
        shape: Shape,
        first_term: usize,
        covers: u16,
        group: Option<(Arc<CachedDerivations>, usize)>,
    ) -> Result<()> {
        let filter = if matches!(kind, DerivationKind::Typo | DerivationKind::Split) {
            self.typo_filter.clone()
        } else {
            self.search_on.clone()
        };
        let union = group
            .as_ref()
            .filter(|_| filter.is_none())
            .and_then(|(found, index)| Some((found, found.unions.get(*index)?)));
        let docs = match union {
            Some((found, union)) => match union.get() {
                Some(docs) => docs.clone(),
                None => {
                    let words: &[WordId] = match &shape {
                        Shape::Any(words) => words,
                        Shape::Sequence(_) => &[],
                    };
                    let docs: RoaringBitmap = words
                        .iter()
                        .map(|w| self.query.word_docs[*w as usize].as_ref())
                        .union();
                    let docs = Arc::new(docs);
                    if union.set(docs.clone()).is_ok() {
                        let bytes = super::cache::set_bytes(&docs);
                        self.ctx.cache.charge_derivations(&found.key, bytes);
                    }
                    docs
                }
            },
            _ => self.shape_docs(&shape, filter.as_deref())?,
        };
        if docs.is_empty() {
            return Ok(());
        }
        self.query.derivations.push(Derivation {
            kind,
            typos,
            shape,
            first_term,
            covers,
            filter,
            docs,
            group,
        });
        Ok(())
    }

    /// Keeps with a word's cached derivations the union of their documents up to each typo
    /// level (`CachedDerivations::levels`), from the derivations just pushed for it (from
    /// `first` on), when none is restricted to some attributes.
    fn keep_levels(&self, found: &Arc<CachedDerivations>, first: usize) {
        let pushed = &self.query.derivations[first..];
        if found.levels.get().is_some() || pushed.iter().any(|d| d.filter.is_some()) {
            return;
        }
        let mut levels: [RoaringBitmap; 3] = Default::default();
        for d in pushed {
            levels[usize::from(d.typos.min(2))] |= d.docs.as_ref();
        }
        let [zero, one, two] = levels;
        let zero = Arc::new(zero);
        let one = level_above(&zero, one);
        let two = level_above(&one, two);
        let levels = [zero, one, two];
        let bytes = (0..3)
            .filter(|k| *k == 0 || !Arc::ptr_eq(&levels[*k], &levels[k - 1]))
            .map(|k| super::cache::set_bytes(&levels[k]))
            .sum();
        if found.levels.set(levels).is_ok() {
            self.ctx.cache.charge_derivations(&found.key, bytes);
        }
    }

    fn shape_docs(
        &self,
        shape: &Shape,
        filter: Option<&AttributeFilter>,
    ) -> Result<Arc<RoaringBitmap>> {
        match shape {
            Shape::Any(words) if words.len() == 1 && filter.is_none() => {
                Ok(self.query.word_docs[words[0] as usize].clone())
            }
            Shape::Any(words) => {
                // Unions of many words (prefixes, typos) are what keystrokes repeat most.
                let key = (filter.is_none() && words.len() > 2)
                    .then(|| self.query.words_key(words.iter().map(|w| Some(*w))));
                self.kept_docs(key, || {
                    let Some(filter) = filter else {
                        // One pass over all the sets: merging them pairwise re-copies the
                        // growing union once per word.
                        return Ok(words
                            .iter()
                            .map(|w| self.query.word_docs[*w as usize].as_ref())
                            .union());
                    };
                    let mut docs = RoaringBitmap::new();
                    for w in words {
                        for view in self.ctx.segments() {
                            let word = &self.query.words[*w as usize];
                            if let Some(info) = view.inverted.terms().get(word.as_bytes())? {
                                self.ctx.push_docs(view, &info, Some(filter), &mut docs)?;
                            }
                        }
                    }
                    Ok(docs)
                })
            }
            Shape::Sequence(words) => {
                // A word cut in two (`pythono` as `python o`) or a phrase: its documents come
                // from positions, and every later keystroke of the query asks again. Kept with
                // the unions (the key cannot be a union's: those have no `\u{2}`).
                let key = filter
                    .is_none()
                    .then(|| format!("\u{2}{}", self.query.words_key(words.iter().copied())));
                self.kept_docs(key, || sequence_docs(self.ctx, &self.query, words, filter))
            }
        }
    }

    /// The documents kept under `key` in the snapshot's cache, else those `compute` finds, kept
    /// there for the next searches (without a key, computed every time).
    fn kept_docs(
        &self,
        key: Option<String>,
        compute: impl FnOnce() -> Result<RoaringBitmap>,
    ) -> Result<Arc<RoaringBitmap>> {
        if let Some(docs) = key.as_deref().and_then(|k| self.ctx.cache.union(k)) {
            return Ok(docs);
        }
        let docs = Arc::new(compute()?);
        if let Some(key) = key {
            self.ctx.cache.put_union(&key, docs.clone());
        }
        Ok(docs)
    }

    pub fn build(mut self, parsed: &ParsedQuery) -> Result<Query> {
        let settings = &self.ctx.settings;
        // Terms first, so that every derivation can name the terms it covers.
        for part in &parsed.parts {
            let term = match part {
                QueryPart::Word(w) => Term {
                    text: w.text.clone(),
                    is_prefix: w.is_prefix
                        && settings.prefix_search != crate::settings::PrefixSearch::Disabled,
                    is_phrase: false,
                    max_typos: allowed_typos_relaxed(settings, &w.text, self.relaxed),
                },
                QueryPart::Phrase(words) => Term {
                    text: words
                        .iter()
                        .flatten()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" "),
                    is_prefix: false,
                    is_phrase: true,
                    max_typos: 0,
                },
            };
            self.query.terms.push(term);
        }
        for (i, part) in parsed.parts.iter().enumerate() {
            let bit = 1u16 << i;
            match part {
                QueryPart::Phrase(words) => {
                    let mut seq = Vec::with_capacity(words.len());
                    for w in words {
                        seq.push(match w {
                            Some(w) => Some(self.word(w)?),
                            None => None,
                        });
                    }
                    self.push(DerivationKind::Phrase, 0, Shape::Sequence(seq), i, bit)?;
                }
                QueryPart::Word(_) => {
                    let term = self.query.terms[i].clone();
                    let found =
                        word_derivations(self.ctx, &term.text, term.is_prefix, term.max_typos)?;
                    let first_of_word = self.query.derivations.len();
                    let mut docs = found.docs.iter();
                    if let Some(exact) = &found.exact {
                        let id = self.known_word(exact, docs.next().expect("docs of every word"));
                        let group = Some((found.clone(), EXACT_GROUP));
                        self.push_in_group(
                            DerivationKind::Exact,
                            0,
                            Shape::Any(vec![id]),
                            i,
                            bit,
                            group,
                        )?;
                    }
                    if !found.prefixes.is_empty() {
                        let ids: Vec<WordId> = found
                            .prefixes
                            .iter()
                            .map(|w| self.known_word(w, docs.next().expect("docs of every word")))
                            .collect();
                        let group = Some((found.clone(), 0));
                        self.push_in_group(
                            DerivationKind::Prefix,
                            0,
                            Shape::Any(ids),
                            i,
                            bit,
                            group,
                        )?;
                    }
                    let typo_docs: Vec<&Arc<RoaringBitmap>> = docs.collect();
                    for level in 1..=2u8 {
                        let ids: Vec<WordId> = found
                            .typos
                            .iter()
                            .zip(&typo_docs)
                            .filter(|(t, _)| t.1 == level)
                            .map(|(t, d)| self.known_word(&t.0, d))
                            .collect();
                        if !ids.is_empty() {
                            let group = Some((found.clone(), usize::from(level)));
                            self.push_in_group(
                                DerivationKind::Typo,
                                level,
                                Shape::Any(ids),
                                i,
                                bit,
                                group,
                            )?;
                        }
                    }
                    self.keep_levels(&found, first_of_word);
                    if term.max_typos >= 1 {
                        if let Some((left, right)) = best_split(self.ctx, &term.text)? {
                            let seq = vec![Some(self.word(&left)?), Some(self.word(&right)?)];
                            self.push(DerivationKind::Split, 1, Shape::Sequence(seq), i, bit)?;
                        }
                    }
                }
            }
        }
        self.concatenations(parsed)?;
        self.synonyms(parsed)?;
        self.negations(parsed)?;
        Ok(self.query)
    }

    /// Adjacent word terms glued together, when the glued word exists.
    fn concatenations(&mut self, parsed: &ParsedQuery) -> Result<()> {
        let n = parsed.parts.len();
        for start in 0..n {
            let mut glued = String::new();
            let mut covers = 0u16;
            for end in start..n.min(start + MAX_NGRAM) {
                let QueryPart::Word(w) = &parsed.parts[end] else {
                    break;
                };
                glued.push_str(&w.text);
                covers |= 1 << end;
                if end == start {
                    continue;
                }
                let is_prefix = self.query.terms[end].is_prefix;
                let mut ids = Vec::new();
                if self.ctx.doc_freq(&glued)? > 0 {
                    ids.push(self.word(&glued)?);
                }
                if is_prefix {
                    let found = word_derivations(self.ctx, &glued, true, 0)?;
                    for p in found.prefixes.iter().take(MAX_PREFIX_DERIVATIONS / 4) {
                        ids.push(self.word(p)?);
                    }
                }
                if !ids.is_empty() {
                    self.push(DerivationKind::Concat, 0, Shape::Any(ids), start, covers)?;
                }
            }
        }
        Ok(())
    }

    /// Synonyms of one term or of a few adjacent terms, from the settings.
    fn synonyms(&mut self, parsed: &ParsedQuery) -> Result<()> {
        if self.ctx.settings.synonyms.is_empty() {
            return Ok(());
        }
        let analyze = |text: &str| -> Vec<String> {
            self.analyzer
                .tokenize(text)
                .into_iter()
                .map(|t| t.text)
                .filter(|w| !self.analyzer.is_stop_word(w))
                .collect()
        };
        let mut table: Vec<(Vec<String>, Vec<Vec<String>>)> = Vec::new();
        for (key, alternatives) in &self.ctx.settings.synonyms {
            let key = analyze(key);
            if key.is_empty() {
                continue;
            }
            let alternatives: Vec<Vec<String>> = alternatives
                .iter()
                .map(|a| analyze(a))
                .filter(|a| !a.is_empty() && *a != key)
                .collect();
            table.push((key, alternatives));
        }
        let n = parsed.parts.len();
        for start in 0..n {
            let mut words: Vec<String> = Vec::new();
            let mut covers = 0u16;
            for end in start..n.min(start + MAX_NGRAM) {
                let QueryPart::Word(w) = &parsed.parts[end] else {
                    break;
                };
                words.push(w.text.clone());
                covers |= 1 << end;
                let matching: Vec<Vec<String>> = table
                    .iter()
                    .filter(|(key, _)| *key == words)
                    .flat_map(|(_, alternatives)| alternatives.iter().cloned())
                    .collect();
                for alternative in matching {
                    let shape = if alternative.len() == 1 {
                        Shape::Any(vec![self.word(&alternative[0])?])
                    } else {
                        let mut seq = Vec::with_capacity(alternative.len());
                        for w in &alternative {
                            seq.push(Some(self.word(w)?));
                        }
                        Shape::Sequence(seq)
                    };
                    self.push(DerivationKind::Synonym, 0, shape, start, covers)?;
                }
            }
        }
        Ok(())
    }

    fn negations(&mut self, parsed: &ParsedQuery) -> Result<()> {
        for part in &parsed.negations {
            let docs = match part {
                QueryPart::Word(w) => self.ctx.word_docs(&w.text)?,
                QueryPart::Phrase(words) => {
                    let mut seq = Vec::with_capacity(words.len());
                    for w in words {
                        seq.push(match w {
                            Some(w) => Some(self.word(w)?),
                            None => None,
                        });
                    }
                    sequence_docs(self.ctx, &self.query, &seq, None)?
                }
            };
            self.query.negated |= docs;
        }
        Ok(())
    }
}

/// The most useful cut of `word` into two words that both exist: the one whose rarer half is
/// the most frequent.
fn best_split(ctx: &SearchContext, word: &str) -> Result<Option<(String, String)>> {
    let mut best: Option<(u64, usize)> = None;
    for (i, _) in word.char_indices().skip(1) {
        let (left, right) = word.split_at(i);
        let left_freq = ctx.doc_freq(left)?;
        if left_freq == 0 {
            continue;
        }
        let freq = left_freq.min(ctx.doc_freq(right)?);
        if freq > 0 && best.is_none_or(|(f, _)| freq > f) {
            best = Some((freq, i));
        }
    }
    Ok(best.map(|(_, i)| (word[..i].to_string(), word[i..].to_string())))
}

/// Where the words of `seq` follow each other (the position of the first), among positions
/// lists given per word. `None` words (stop words) match any position.
pub fn sequence_starts(
    lists: &[Option<&[u32]>],
    filter: Option<&AttributeFilter>,
    out: &mut Vec<u32>,
) {
    out.clear();
    let Some((anchor_index, anchor)) = lists
        .iter()
        .enumerate()
        .find_map(|(i, l)| l.map(|l| (i, l)))
    else {
        return;
    };
    'starts: for &p in anchor {
        let Some(start) = p.checked_sub(anchor_index as u32) else {
            continue;
        };
        for (i, list) in lists.iter().enumerate() {
            if let Some(list) = list {
                if list.binary_search(&(start + i as u32)).is_err() {
                    continue 'starts;
                }
            }
        }
        // A sequence never straddles two attributes.
        let end = start + lists.len() as u32 - 1;
        if start >> 16 != end >> 16 {
            continue;
        }
        if filter.is_some_and(|f| !f.allows(start)) {
            continue;
        }
        out.push(start);
    }
}

/// Live documents where the words of `seq` follow each other.
fn sequence_docs(
    ctx: &SearchContext,
    query: &Query,
    seq: &[Option<WordId>],
    filter: Option<&AttributeFilter>,
) -> Result<RoaringBitmap> {
    let present: Vec<WordId> = seq.iter().flatten().copied().collect();
    let Some(first) = present.first() else {
        return Ok(RoaringBitmap::new());
    };
    let mut candidates = query.word_docs[*first as usize].as_ref().clone();
    for w in &present[1..] {
        candidates &= query.word_docs[*w as usize].as_ref();
    }
    let mut docs = RoaringBitmap::new();
    if candidates.is_empty() {
        return Ok(docs);
    }
    let mut buffers: Vec<Vec<u32>> = vec![Vec::new(); seq.len()];
    let mut starts = Vec::new();
    for view in ctx.segments() {
        let range = view.range();
        let in_segment: Vec<u32> = candidates.range(range.clone()).collect();
        if in_segment.is_empty() {
            continue;
        }
        let mut cursors = Vec::with_capacity(seq.len());
        for w in seq {
            cursors.push(match w {
                Some(w) => ctx.postings(view, &query.words[*w as usize])?,
                None => None,
            });
        }
        for doc in in_segment {
            let local = doc - view.base;
            if !super::positions::positions_at(&mut cursors, &mut buffers, local) {
                continue;
            }
            let lists: Vec<Option<&[u32]>> = seq
                .iter()
                .zip(&buffers)
                .map(|(w, b)| w.map(|_| b.as_slice()))
                .collect();
            sequence_starts(&lists, filter, &mut starts);
            if !starts.is_empty() {
                docs.insert(doc);
            }
        }
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::Analyzer;
    use crate::search::query::parse;

    /// `term_docs_by_typos` and `term_docs` from scratch: every derivation, one by one.
    fn reference(
        query: &Query,
        term: usize,
        mask: u16,
        universe: &RoaringBitmap,
    ) -> [RoaringBitmap; 4] {
        let mut out: [RoaringBitmap; 4] = Default::default();
        for d in &query.derivations {
            if d.covers & (1 << term) == 0 || d.covers & !mask != 0 {
                continue;
            }
            let cost = if d.first_term == term {
                usize::from(d.typos.min(2))
            } else {
                0
            };
            for level in &mut out[cost..3] {
                *level |= d.docs.as_ref() & universe;
            }
            out[3] |= d.docs.as_ref();
        }
        out
    }

    /// The unions kept with a word's cached derivations (`CachedDerivations::levels`) give what
    /// the derivations give one by one: on the first search that keeps them and on later ones
    /// that read them, for every term and every mask, with typos, prefixes, splits and
    /// concatenations, and not at all when the search is restricted to some attributes.
    #[test]
    fn kept_typo_levels_are_the_derivations_documents() {
        let dir = tempfile::TempDir::new().unwrap();
        let index = crate::search::ranking_equivalence::corpus_index("debian", 6_000, dir.path());
        let ctx = SearchContext::new(&index).unwrap();
        let analyzer = Analyzer::new(&ctx.settings);
        let restricted = Some(Arc::new(AttributeFilter::new(vec![true])));
        let universe: RoaringBitmap = (0..ctx.universe().len() as u32).step_by(3).collect();
        let queries = crate::search::ranking_equivalence::DEBIAN_TYPO_QUERIES;
        let mut kept = 0;
        for round in 0..2 {
            for q in queries {
                for search_on in [None, restricted.clone()] {
                    let parsed = parse(&analyzer, q);
                    let query =
                        QueryBuilder::new(&ctx, &analyzer, search_on.clone(), search_on.clone())
                            .build(&parsed)
                            .unwrap();
                    for term in 0..query.terms.len() {
                        let used = query.cached_levels(term, query.all_terms()).is_some();
                        assert_eq!(
                            used,
                            search_on.is_none(),
                            "{q:?} term {term}, round {round}"
                        );
                        kept += usize::from(used);
                        for mask in 1..=query.all_terms() {
                            if mask & (1 << term) == 0 {
                                continue;
                            }
                            let [zero, one, two, all] = reference(&query, term, mask, &universe);
                            let by_typos = query.term_docs_by_typos(term, mask, &universe);
                            // `None` stands for every level being the universe.
                            let expected = (zero != universe).then_some([zero, one, two]);
                            assert_eq!(by_typos, expected, "{q:?} term {term} mask {mask}");
                            assert_eq!(
                                *query.term_docs(term, mask),
                                all,
                                "{q:?} term {term} mask {mask}"
                            );
                        }
                    }
                }
            }
        }
        assert!(kept > 0);
    }

    /// The distinct words of the Debian keystroke log, lowercased, in order.
    fn debian_log_words() -> Vec<String> {
        let log = std::fs::read_to_string(
            crate::search::ranking_equivalence::shared().join("queries/debian.dev.keystrokes.txt"),
        )
        .unwrap();
        let mut words: Vec<String> = log
            .split(|c: char| !c.is_alphanumeric())
            .map(str::to_lowercase)
            .filter(|w| !w.is_empty())
            .collect();
        words.sort_unstable();
        words.dedup();
        words
    }

    /// Every word a typo walk finds, with its document frequency, in the order found.
    fn walked(
        view: &SegmentView,
        automaton: &TypoAutomaton,
        dictionary: Option<Arc<TypoDictionary>>,
    ) -> Vec<(Vec<u8>, u32)> {
        let mut words = Vec::new();
        walk_typos(view, automaton, dictionary, &mut |key, freq| {
            words.push((key.to_vec(), freq))
        })
        .unwrap();
        words
    }

    /// The copy of a segment's dictionary and tantivy's stream give a typo walk the same words,
    /// with the same frequencies, in the same order: for every beginning of three letters or
    /// more of one word in five of the Debian keystroke log, with and without a prefix, one
    /// typo and two, and with the walk below the parent cut off.
    #[test]
    fn typo_walks_find_the_same_words_in_the_copy_and_in_the_stream() {
        use crate::search::segment_tables::TextFieldTable;
        let dir = tempfile::TempDir::new().unwrap();
        let index = crate::search::ranking_equivalence::corpus_index("debian", 6_000, dir.path());
        let ctx = SearchContext::new(&index).unwrap();
        let copies: Vec<Arc<TypoDictionary>> = ctx
            .segments()
            .iter()
            .map(|view| {
                let copy = TypoDictionary::read(&view.inverted, view.max_doc, usize::MAX);
                Arc::new(copy.unwrap())
            })
            .collect();
        let (mut walks, mut found, mut cut) = (0, 0, 0);
        for word in debian_log_words().iter().step_by(5) {
            let ends = word.char_indices().map(|(i, c)| i + c.len_utf8()).skip(2);
            for end in ends {
                let typed = &word[..end];
                let parent = parent_of(typed).map(str::len);
                for (is_prefix, typos) in [(true, 1), (true, 2), (false, 1), (false, 2)] {
                    let dfas = TypoDfas::new(typed, is_prefix, typos);
                    let cuts = if is_prefix {
                        vec![None, parent]
                    } else {
                        vec![None]
                    };
                    for cut_at in cuts {
                        let automaton = TypoAutomaton {
                            dfas: &dfas,
                            word: typed.as_bytes(),
                            cut_at,
                        };
                        for (view, copy) in ctx.segments().iter().zip(&copies) {
                            let streamed = walked(view, &automaton, None);
                            let stepped = walked(view, &automaton, Some(copy.clone()));
                            assert_eq!(
                                stepped, streamed,
                                "{typed:?}, prefix {is_prefix}, {typos} typos, cut {cut_at:?}"
                            );
                            walks += 1;
                            found += streamed.len();
                            cut += usize::from(cut_at.is_some());
                        }
                    }
                }
            }
        }
        assert!(walks > 20_000, "only {walks} walks");
        assert!(found > 1_000_000, "only {found} words found");
        assert!(cut > 5_000, "only {cut} walks with a cut");
    }

    /// The word and its frequency, the kept prefixes with theirs, the kept typo'd words.
    type Kept = (Option<String>, u64, Vec<(String, u64)>, Vec<(String, u8)>);

    /// What a typo walk finds, as compared: the word, its kept prefixes and typo'd words with
    /// their frequencies.
    fn kept(d: &CachedDerivations) -> Kept {
        let prefixes = d
            .prefixes
            .iter()
            .cloned()
            .zip(d.prefix_freqs.iter().copied());
        (
            d.exact.clone(),
            d.exact_freq,
            prefixes.collect(),
            d.typos.clone(),
        )
    }

    /// Typo derivations taken from what a previous keystroke found (the parent's most frequent
    /// completions standing for the walk below the parent; the words of the prefix walk for
    /// the same word without a prefix) are exactly those of a full walk: for every beginning
    /// of one word in fifteen of the Debian keystroke log, with one typo and two.
    #[test]
    fn derivations_from_the_keystroke_before_are_those_of_a_full_walk() {
        let dir = tempfile::TempDir::new().unwrap();
        let index = crate::search::ranking_equivalence::corpus_index("debian", 6_000, dir.path());
        // One segment, as `known_parent` requires (and as idle merges leave an index).
        let mut batch = index.write(false).unwrap();
        batch.merge_all_segments().unwrap();
        batch.commit(2, Default::default()).unwrap();
        let ctx = SearchContext::new(&index).unwrap();
        assert_eq!(ctx.segments().len(), 1);
        let mut words = debian_log_words();
        words.retain(|w| w.chars().count() >= 3);
        let (mut from_walked, mut from_parent, mut fallbacks) = (0, 0, 0);
        for word in words.iter().step_by(15) {
            let ends: Vec<usize> = word
                .char_indices()
                .map(|(i, _)| i)
                .chain([word.len()])
                .collect();
            for pair in ends.windows(2).skip(2) {
                let (parent, typed) = (&word[..pair[0]], &word[..pair[1]]);
                for typos in 1..=2u8 {
                    let walk = find_derivations_below(&ctx, typed, true, typos, None).unwrap();
                    // Without a prefix, among the prefix walk of the word itself.
                    if walk.walked.is_some() {
                        from_walked += 1;
                        let whole =
                            find_derivations_below(&ctx, typed, false, typos, None).unwrap();
                        let among = derivations_among(typed, typos, &walk);
                        assert_eq!(kept(&among), kept(&whole), "{typed:?} whole, {typos} typos");
                    }
                    for parent_typos in 0..=2u8 {
                        let derived =
                            find_derivations_below(&ctx, parent, true, parent_typos, None).unwrap();
                        match KnownParent::from_derivations(Arc::new(derived), typed) {
                            Some(known) => {
                                from_parent += 1;
                                let cut =
                                    find_derivations_below(&ctx, typed, true, typos, Some(&known))
                                        .unwrap();
                                assert_eq!(
                                    kept(&cut),
                                    kept(&walk),
                                    "{typed:?} below {parent:?} ({parent_typos}), {typos} typos"
                                );
                                assert!(cut.walked.is_none(), "a cut walk is not every word");
                            }
                            None => fallbacks += 1,
                        }
                    }
                }
            }
        }
        assert!(
            from_walked > 500,
            "only {from_walked} words with their prefix walk kept"
        );
        assert!(
            from_parent > 500,
            "only {from_parent} keystrokes below a known parent"
        );
        assert!(
            fallbacks > 0,
            "no parent listed a word of the branch walked"
        );
    }
}
