//! Quarry's authorization primitives, as in Meilisearch: the action list, API keys derived from
//! the master key, tenant tokens, and the key store that decides whether a request may proceed.
//! No HTTP here: the server maps [`AuthError`] to responses and loads/persists keys itself.
//! Comparing secrets must not leak their content through timing, hence [`constant_time_eq`].

pub mod actions;
pub mod key;
pub mod persist;
pub mod store;
pub mod tenant_token;

pub use actions::{grants, Action};
pub use key::{default_keys, derive_key_value, ApiKey, IndexPattern};
pub use persist::{PersistError, PersistentKeyStore};
pub use store::{AuthContext, AuthError, KeyStore, Principal};
pub use tenant_token::{SearchRules, TenantToken, TokenError};

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
