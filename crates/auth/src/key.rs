//! API keys as Meilisearch defines them: the key record (uid, name, description, actions,
//! index patterns, expiry), the index patterns that scope a key, the derivation of a key's
//! secret value from its uid and the master key (so values survive restarts and dumps and match
//! the values Meilisearch computes), and the default keys created when a master key is set.

use std::fmt;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Sha256;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::actions::{any_grants, Action};

/// Longest index uid Meilisearch accepts, in bytes.
pub const MAX_INDEX_UID_LEN: usize = 400;

/// Which indexes a key (or a tenant token rule) applies to: `*`, an exact index uid, or a
/// prefix pattern such as `movies*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IndexPattern {
    /// `*`: every index.
    All,
    /// One index, by uid.
    Exact(String),
    /// Every index whose uid starts with the given (non-empty) prefix; written `prefix*`.
    Prefix(String),
}

/// Why a string is not a valid index pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a valid index uid pattern: index uids are 1 to 400 characters of a-z, A-Z, 0-9, `-` and `_`, optionally ending with `*`")]
pub struct InvalidIndexPattern(pub String);

fn is_index_uid_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

fn is_valid_uid_part(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_INDEX_UID_LEN && s.chars().all(is_index_uid_char)
}

impl IndexPattern {
    /// Parses `*`, `uid` or `prefix*`. A `*` anywhere but at the end is refused.
    pub fn parse(s: &str) -> Result<IndexPattern, InvalidIndexPattern> {
        if s == "*" {
            return Ok(IndexPattern::All);
        }
        let pattern = match s.strip_suffix('*') {
            Some(prefix) if is_valid_uid_part(prefix) => IndexPattern::Prefix(prefix.to_owned()),
            None if is_valid_uid_part(s) => IndexPattern::Exact(s.to_owned()),
            _ => return Err(InvalidIndexPattern(s.to_owned())),
        };
        Ok(pattern)
    }

    /// Whether the index `uid` falls under this pattern.
    pub fn matches(&self, uid: &str) -> bool {
        match self {
            IndexPattern::All => true,
            IndexPattern::Exact(exact) => exact == uid,
            IndexPattern::Prefix(prefix) => uid.starts_with(prefix.as_str()),
        }
    }

    /// Whether this is `*`.
    pub fn matches_all(&self) -> bool {
        matches!(self, IndexPattern::All)
    }

    /// Ordering key for "most specific pattern wins": exact uids first, then longer prefixes,
    /// `*` last.
    pub(crate) fn specificity(&self) -> (u8, usize) {
        match self {
            IndexPattern::All => (0, 0),
            IndexPattern::Prefix(p) => (1, p.len()),
            IndexPattern::Exact(e) => (2, e.len()),
        }
    }
}

impl fmt::Display for IndexPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndexPattern::All => f.write_str("*"),
            IndexPattern::Exact(uid) => f.write_str(uid),
            IndexPattern::Prefix(prefix) => write!(f, "{prefix}*"),
        }
    }
}

impl std::str::FromStr for IndexPattern {
    type Err = InvalidIndexPattern;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IndexPattern::parse(s)
    }
}

impl Serialize for IndexPattern {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IndexPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        IndexPattern::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An API key record. Its secret value is not stored: it is derived from `uid` and the master
/// key with [`derive_key_value`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    pub uid: Uuid,
    pub name: Option<String>,
    pub description: Option<String>,
    pub actions: Vec<Action>,
    pub indexes: Vec<IndexPattern>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl ApiKey {
    /// Whether the key has expired at `now` (a key expiring exactly now is expired).
    pub fn is_expired_at(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|exp| exp <= now)
    }

    /// Whether one of the key's actions grants `action`.
    pub fn grants_action(&self, action: Action) -> bool {
        any_grants(&self.actions, action)
    }

    /// Whether the key's index patterns cover the index `uid`.
    pub fn covers_index(&self, uid: &str) -> bool {
        self.indexes.iter().any(|p| p.matches(uid))
    }

    /// Whether the key's patterns cover every index (contain `*`).
    pub fn covers_all_indexes(&self) -> bool {
        self.indexes.iter().any(IndexPattern::matches_all)
    }

    /// Whether the key, at `now`, may perform `action` on `index` (or on a route that is not
    /// about one index when `index` is `None`).
    pub fn allows(&self, action: Action, index: Option<&str>, now: OffsetDateTime) -> bool {
        !self.is_expired_at(now)
            && self.grants_action(action)
            && index.is_none_or(|uid| self.covers_index(uid))
    }
}

/// Lowercase hexadecimal encoding.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// The secret value of the API key `uid` under `master_key`: HMAC-SHA256 keyed with the master
/// key's bytes over the uid written as a lowercase hyphenated UUID, as 64 lowercase hex digits.
/// This is the construction Meilisearch uses, so both compute the same values.
pub fn derive_key_value(uid: &Uuid, master_key: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master_key.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(uid.hyphenated().to_string().as_bytes());
    to_hex(&mac.finalize().into_bytes())
}

/// Name of the default key that may only search.
pub const DEFAULT_SEARCH_KEY_NAME: &str = "Default Search API Key";
/// Description of the default search key.
pub const DEFAULT_SEARCH_KEY_DESCRIPTION: &str = "Use it to search from the frontend";
/// Name of the default administration key.
pub const DEFAULT_ADMIN_KEY_NAME: &str = "Default Admin API Key";
/// Description of the default administration key.
pub const DEFAULT_ADMIN_KEY_DESCRIPTION: &str =
    "Use it for anything that is not a search operation. Caution! Do not expose it on a public frontend";
/// Name of the default read-only administration key.
pub const DEFAULT_READ_ONLY_ADMIN_KEY_NAME: &str = "Default Read-Only Admin API Key";
/// Description of the default read-only administration key.
pub const DEFAULT_READ_ONLY_ADMIN_KEY_DESCRIPTION: &str =
    "Use it to read information across the whole database. Caution! Do not expose this key on a public frontend";
/// Name of the default chat key.
pub const DEFAULT_CHAT_KEY_NAME: &str = "Default Chat API Key";
/// Description of the default chat key.
pub const DEFAULT_CHAT_KEY_DESCRIPTION: &str = "Use it to chat and search from the frontend";

fn default_key(name: &str, description: &str, actions: Vec<Action>, now: OffsetDateTime) -> ApiKey {
    ApiKey {
        uid: Uuid::new_v4(),
        name: Some(name.to_owned()),
        description: Some(description.to_owned()),
        actions,
        indexes: vec![IndexPattern::All],
        expires_at: None,
        created_at: now,
        updated_at: now,
    }
}

/// The keys created on first start with a master key, in the order Meilisearch lists them:
/// search (`search` on `*`), admin (`*` on `*`), read-only admin (`*.get` and `keys.get`), and
/// chat (`chatCompletions` and `search`). Their uids are random v4 uuids.
pub fn default_keys(now: OffsetDateTime) -> Vec<ApiKey> {
    vec![
        default_key(
            DEFAULT_SEARCH_KEY_NAME,
            DEFAULT_SEARCH_KEY_DESCRIPTION,
            vec![Action::Search],
            now,
        ),
        default_key(
            DEFAULT_ADMIN_KEY_NAME,
            DEFAULT_ADMIN_KEY_DESCRIPTION,
            vec![Action::All],
            now,
        ),
        default_key(
            DEFAULT_READ_ONLY_ADMIN_KEY_NAME,
            DEFAULT_READ_ONLY_ADMIN_KEY_DESCRIPTION,
            vec![Action::AllGet, Action::KeysGet],
            now,
        ),
        default_key(
            DEFAULT_CHAT_KEY_NAME,
            DEFAULT_CHAT_KEY_DESCRIPTION,
            vec![Action::ChatCompletions, Action::Search],
            now,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_pattern_parse_table() {
        let long = "a".repeat(MAX_INDEX_UID_LEN);
        let too_long = "a".repeat(MAX_INDEX_UID_LEN + 1);
        let cases: Vec<(&str, Option<IndexPattern>)> = vec![
            ("*", Some(IndexPattern::All)),
            ("movies", Some(IndexPattern::Exact("movies".into()))),
            ("movies*", Some(IndexPattern::Prefix("movies".into()))),
            ("Mov-ies_2", Some(IndexPattern::Exact("Mov-ies_2".into()))),
            (&long, Some(IndexPattern::Exact(long.clone()))),
            (&too_long, None),
            ("", None),
            ("**", None),
            ("mo*vies", None),
            ("*movies", None),
            ("movies**", None),
            ("mov ies", None),
            ("movies.fr", None),
            ("films/é", None),
        ];
        for (input, expected) in cases {
            assert_eq!(
                IndexPattern::parse(input).ok(),
                expected,
                "parsing {input:?}"
            );
        }
    }

    #[test]
    fn index_pattern_matches_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "movies", true),
            ("*", "anything_else", true),
            ("movies", "movies", true),
            ("movies", "movies2", false),
            ("movies", "movie", false),
            ("movies", "Movies", false),
            ("movies*", "movies", true),
            ("movies*", "movies_fr", true),
            ("movies*", "movie", false),
            ("movies*", "old_movies", false),
        ];
        for (pattern, uid, expected) in cases {
            let p = IndexPattern::parse(pattern).unwrap();
            assert_eq!(p.matches(uid), *expected, "{pattern} ~ {uid}");
            assert_eq!(p.to_string(), *pattern);
        }
    }

    #[test]
    fn index_pattern_serde() {
        let ps: Vec<IndexPattern> = serde_json::from_str(r#"["*","a","b*"]"#).unwrap();
        assert_eq!(serde_json::to_string(&ps).unwrap(), r#"["*","a","b*"]"#);
        assert!(serde_json::from_str::<IndexPattern>(r#""a*b""#).is_err());
    }

    #[test]
    fn key_value_derivation() {
        // Vectors computed independently of this code (`printf %s "$UID" | openssl dgst -sha256
        // -hmac "$MASTER_KEY"`, and Python's hmac module): HMAC-SHA256(key = master key bytes, message = hyphenated uid).
        let cases: &[(&str, &str, &str)] = &[
            (
                "74c9c733-3368-4738-bbe5-1d18a5fecb37",
                "MASTER_KEY",
                "381fdbc9147f01606b5c04c34e30f1e953caf969562826a0921ae91a463cff2a",
            ),
            (
                "00000000-0000-0000-0000-000000000000",
                "a-master-key-of-16+bytes",
                "ae4539eb997336932f574daeaf423f9427e7d58b11a6695ad5ede9483e676201",
            ),
        ];
        for (uid, master, expected) in cases {
            let uid = Uuid::parse_str(uid).unwrap();
            let value = derive_key_value(&uid, master);
            assert_eq!(value, *expected);
            assert_eq!(value.len(), 64);
            assert!(value
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
            assert_eq!(value, derive_key_value(&uid, master), "deterministic");
            assert_ne!(value, derive_key_value(&uid, "OTHER_MASTER_KEY"));
            assert_ne!(
                value,
                derive_key_value(&Uuid::from_u128(uid.as_u128() ^ 1), master)
            );
        }
    }

    #[test]
    fn hex_encoding() {
        assert_eq!(to_hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert_eq!(to_hex(&[]), "");
    }

    #[test]
    fn default_keys_match_meilisearch() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let keys = default_keys(now);
        let summary: Vec<(&str, &str, Vec<&str>)> = keys
            .iter()
            .map(|k| {
                (
                    k.name.as_deref().unwrap(),
                    k.description.as_deref().unwrap(),
                    k.actions.iter().map(|a| a.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (DEFAULT_SEARCH_KEY_NAME, "Use it to search from the frontend", vec!["search"]),
                (
                    DEFAULT_ADMIN_KEY_NAME,
                    "Use it for anything that is not a search operation. Caution! Do not expose it on a public frontend",
                    vec!["*"]
                ),
                (
                    DEFAULT_READ_ONLY_ADMIN_KEY_NAME,
                    "Use it to read information across the whole database. Caution! Do not expose this key on a public frontend",
                    vec!["*.get", "keys.get"]
                ),
                (
                    DEFAULT_CHAT_KEY_NAME,
                    "Use it to chat and search from the frontend",
                    vec!["chatCompletions", "search"]
                ),
            ]
        );
        for k in &keys {
            assert_eq!(k.indexes, vec![IndexPattern::All]);
            assert_eq!(k.expires_at, None);
            assert_eq!(k.uid.get_version_num(), 4);
        }
        let search = &keys[0];
        assert!(search.allows(Action::Search, Some("movies"), now));
        assert!(!search.allows(Action::DocumentsAdd, Some("movies"), now));
        let read_only = &keys[2];
        assert!(read_only.allows(Action::KeysGet, None, now));
        assert!(!read_only.allows(Action::KeysCreate, None, now));
        assert!(!read_only.allows(Action::DocumentsAdd, Some("movies"), now));
    }

    #[test]
    fn api_key_serde_is_camel_case_rfc3339() {
        let key = ApiKey {
            uid: Uuid::nil(),
            name: None,
            description: Some("d".into()),
            actions: vec![Action::Search, Action::DocumentsAll],
            indexes: vec![IndexPattern::Prefix("mov".into())],
            expires_at: Some(OffsetDateTime::UNIX_EPOCH),
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        };
        let json = serde_json::to_value(&key).unwrap();
        assert_eq!(json["expiresAt"], "1970-01-01T00:00:00Z");
        assert_eq!(
            json["actions"],
            serde_json::json!(["search", "documents.*"])
        );
        assert_eq!(json["indexes"], serde_json::json!(["mov*"]));
        let back: ApiKey = serde_json::from_value(json).unwrap();
        assert_eq!(back, key);
    }
}
