//! Folding a word to the form stored in the term dictionary: lowercase, diacritics removed, and
//! the few letters Unicode does not decompose (ß, ø, æ, ł...) spelled out, so that a user typing
//! on a plain keyboard finds accented text.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// The normalized form of one word.
pub fn normalize_word(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    normalize_word_into(word, &mut out);
    out
}

/// Appends the normalized form of `word` to `out`.
pub fn normalize_word_into(word: &str, out: &mut String) {
    if word.is_ascii() {
        let start = out.len();
        out.push_str(word);
        out[start..].make_ascii_lowercase();
        return;
    }
    for c in word.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            'ß' | 'ẞ' => out.push_str("ss"),
            'æ' | 'Æ' => out.push_str("ae"),
            'œ' | 'Œ' => out.push_str("oe"),
            'ø' | 'Ø' => out.push('o'),
            'ł' | 'Ł' => out.push('l'),
            'đ' | 'Đ' | 'ð' | 'Ð' => out.push('d'),
            'þ' | 'Þ' => out.push_str("th"),
            'ı' => out.push('i'),
            _ => out.extend(c.to_lowercase()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_word;

    #[test]
    fn folds() {
        let cases = [
            ("Hello", "hello"),
            ("Ångström", "angstrom"),
            ("Æsir", "aesir"),
            ("Łódź", "lodz"),
            ("ﬁle", "file"),
            ("Ελληνικά", "ελληνικα"),
            ("日本", "日本"),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize_word(input), expected, "{input}");
        }
    }
}
