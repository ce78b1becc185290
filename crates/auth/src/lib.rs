//! Quarry's authorization primitives: comparing secrets without leaking their content through
//! timing. API keys with actions and tenant tokens build on this crate.

/// Compares two secrets in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn equal_only_when_identical() {
        assert!(constant_time_eq(b"masterKey123", b"masterKey123"));
        assert!(!constant_time_eq(b"masterKey123", b"masterKey124"));
        assert!(!constant_time_eq(b"short", b"longer key"));
    }
}
