//! Which of the requested attribute patterns (`attributesToHighlight`, `attributesToCrop`) apply
//! to one leaf of a document, named by its dotted path (`author.name`; array elements share the
//! path of their array). Kept apart from the text formatting so that the pattern rules are read
//! and tested in one place.

/// How a pattern relates to a leaf path, from the least to the most specific; used to pick the
/// crop length when several crop patterns apply to the same leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Specificity {
    /// A pattern with a `*` in it (`*`, `author.*`, `*_title`).
    Wildcard,
    /// A plain name of an ancestor object or array (`author` for `author.name`); the longer the
    /// ancestor name, the closer to the leaf.
    Ancestor(usize),
    /// The leaf itself.
    Exact,
}

/// Whether `pattern` selects the leaf at `path`, and how specifically.
///
/// A pattern selects a leaf when it names the leaf, or one of the objects the leaf is nested in,
/// or, with `*` standing for any run of characters (dots included), matches either of those.
pub(crate) fn applies(pattern: &str, path: &str) -> Option<Specificity> {
    if pattern.contains('*') {
        let mut candidate = path;
        loop {
            if glob_matches(pattern.as_bytes(), candidate.as_bytes()) {
                return Some(Specificity::Wildcard);
            }
            match candidate.rfind('.') {
                Some(dot) => candidate = &candidate[..dot],
                None => return None,
            }
        }
    }
    if pattern == path {
        return Some(Specificity::Exact);
    }
    let is_ancestor = path.len() > pattern.len()
        && path.starts_with(pattern)
        && path.as_bytes()[pattern.len()] == b'.';
    is_ancestor.then_some(Specificity::Ancestor(pattern.len()))
}

/// Wildcard matching where `*` matches any sequence of bytes, including an empty one and dots.
/// Linear in practice: the classic backtrack-to-last-star algorithm, no allocation.
fn glob_matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            last_star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((star_p, star_t)) = last_star {
            p = star_p + 1;
            t = star_t + 1;
            last_star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        use Specificity::*;
        let cases: &[(&str, &str, Option<Specificity>)] = &[
            ("*", "title", Some(Wildcard)),
            ("*", "author.name", Some(Wildcard)),
            ("title", "title", Some(Exact)),
            ("title", "titles", None),
            ("title", "subtitle", None),
            ("author", "author.name", Some(Ancestor(6))),
            ("author", "author.address.city", Some(Ancestor(6))),
            ("author.address", "author.address.city", Some(Ancestor(14))),
            ("author.name", "author", None),
            ("author.*", "author.name", Some(Wildcard)),
            ("author.*", "author.address.city", Some(Wildcard)),
            ("author.*", "author", None),
            ("author.*", "authors.name", None),
            ("*_title", "movie_title", Some(Wildcard)),
            ("*_title", "movie_title.en", Some(Wildcard)),
            ("*_title", "movie_name", None),
            ("a*c", "abbbc", Some(Wildcard)),
            ("a*c", "abbbcd", None),
            ("", "title", None),
        ];
        for (pattern, path, expected) in cases {
            assert_eq!(applies(pattern, path), *expected, "{pattern:?} on {path:?}");
        }
    }
}
