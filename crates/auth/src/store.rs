//! The storage-agnostic key store: the master key and the API keys held in memory, and the one
//! decision every route makes, "may this `Authorization` header perform this action on this
//! index?". Persistence belongs to the server; it loads keys into a `KeyStore` and writes back
//! what changes. The answer is either an [`AuthContext`] (who is calling, which indexes it may
//! touch, which tenant-token filters to force) or an [`AuthError`] carrying Meilisearch's code.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::actions::Action;
use crate::key::{default_keys, derive_key_value, ApiKey, IndexPattern};
use crate::tenant_token::{self, SearchRules};

/// Why a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No usable `Authorization: Bearer ...` header (HTTP 401).
    #[error("The Authorization header is missing. It must use the bearer authorization method.")]
    MissingAuthorizationHeader,
    /// A key or token was given but does not allow the request (HTTP 403).
    #[error("The provided API key is invalid.")]
    InvalidApiKey,
    /// The key management routes were called on an instance without a master key (HTTP 401).
    #[error("Meilisearch is running without a master key. To access this API endpoint, you must have set a master key at launch.")]
    MissingMasterKey,
    /// A tenant token past its `exp` (HTTP 403, `invalid_api_key`); Meilisearch says when.
    #[error("Tenant token expired. Was valid up to `{exp}` and we're now `{now}`.")]
    ExpiredTenantToken { exp: i64, now: i64 },
}

impl AuthError {
    /// Meilisearch's error code.
    pub fn code(self) -> &'static str {
        match self {
            AuthError::MissingAuthorizationHeader => "missing_authorization_header",
            AuthError::InvalidApiKey | AuthError::ExpiredTenantToken { .. } => "invalid_api_key",
            AuthError::MissingMasterKey => "missing_master_key",
        }
    }

    /// The HTTP status Meilisearch answers with.
    pub fn status(self) -> u16 {
        match self {
            AuthError::MissingAuthorizationHeader | AuthError::MissingMasterKey => 401,
            AuthError::InvalidApiKey | AuthError::ExpiredTenantToken { .. } => 403,
        }
    }
}

/// Who made an authorized request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    /// No master key is set: the instance is open.
    Open,
    /// The master key itself.
    MasterKey,
    /// An API key, by uid.
    ApiKey(Uuid),
    /// A tenant token signed by the API key `api_key_uid`.
    TenantToken { api_key_uid: Uuid },
}

/// What an authorized request may do beyond the check already made: the server uses it to
/// filter index lists, check each index of a multi-search, and force tenant-token filters.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthContext {
    pub principal: Principal,
    /// Index patterns of the key; `None` means every index (open instance or master key).
    indexes: Option<Vec<IndexPattern>>,
    search_rules: Option<SearchRules>,
}

impl AuthContext {
    fn unrestricted(principal: Principal) -> Self {
        AuthContext {
            principal,
            indexes: None,
            search_rules: None,
        }
    }

    /// Whether the caller may act on `index` (with the action it was authorized for).
    pub fn is_index_authorized(&self, index: &str) -> bool {
        let key_ok = self
            .indexes
            .as_ref()
            .is_none_or(|patterns| patterns.iter().any(|p| p.matches(index)));
        key_ok && self.search_rules.as_ref().is_none_or(|r| r.allows(index))
    }

    /// Whether the caller may act on every index (needed, for instance, by `/metrics`). A
    /// tenant token never does.
    pub fn allows_all_indexes(&self) -> bool {
        self.search_rules.is_none()
            && self
                .indexes
                .as_ref()
                .is_none_or(|patterns| patterns.iter().any(IndexPattern::matches_all))
    }

    /// The tenant token's search rules, if the caller used a tenant token.
    pub fn search_rules(&self) -> Option<&SearchRules> {
        self.search_rules.as_ref()
    }

    /// The filter that must be ANDed into every search on `index`: `Ok(None)` when nothing is
    /// forced, `Err(AuthError::InvalidApiKey)` when the caller may not search `index`.
    pub fn search_filter(&self, index: &str) -> Result<Option<Value>, AuthError> {
        if !self.is_index_authorized(index) {
            return Err(AuthError::InvalidApiKey);
        }
        match &self.search_rules {
            None => Ok(None),
            Some(rules) => rules
                .filter_for(index)
                .map_err(|_| AuthError::InvalidApiKey),
        }
    }
}

/// The master key and the API keys, in memory.
#[derive(Clone)]
pub struct KeyStore {
    master_key: Option<String>,
    keys: BTreeMap<Uuid, ApiKey>,
    /// SHA-256 of each key's value -> uid, so a presented value is found without comparing
    /// secrets byte by byte.
    by_value: HashMap<[u8; 32], Uuid>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the master key or key values.
        f.debug_struct("KeyStore")
            .field("master_key_set", &self.master_key.is_some())
            .field("keys", &self.keys.len())
            .finish()
    }
}

fn digest(value: &str) -> [u8; 32] {
    Sha256::digest(value.as_bytes()).into()
}

impl KeyStore {
    /// A store for an instance with (or, for an open development instance, without) a master
    /// key. It holds no API keys yet.
    pub fn new(master_key: Option<String>) -> Self {
        KeyStore {
            master_key,
            keys: BTreeMap::new(),
            by_value: HashMap::new(),
        }
    }

    /// Whether a master key is set.
    pub fn has_master_key(&self) -> bool {
        self.master_key.is_some()
    }

    /// Adds the default keys if a master key is set and the store holds no key yet (default
    /// keys are created once; deleting them later does not bring them back). Returns the keys
    /// added so the caller can persist them.
    pub fn insert_default_keys_if_empty(&mut self, now: OffsetDateTime) -> Vec<ApiKey> {
        if self.master_key.is_none() || !self.keys.is_empty() {
            return Vec::new();
        }
        let keys = default_keys(now);
        for key in &keys {
            self.insert(key.clone());
        }
        keys
    }

    /// Inserts or replaces a key; returns the previous record with that uid.
    pub fn insert(&mut self, key: ApiKey) -> Option<ApiKey> {
        if let Some(master) = &self.master_key {
            self.by_value
                .insert(digest(&derive_key_value(&key.uid, master)), key.uid);
        }
        self.keys.insert(key.uid, key)
    }

    /// Removes a key; returns it if it existed.
    pub fn remove(&mut self, uid: &Uuid) -> Option<ApiKey> {
        let removed = self.keys.remove(uid)?;
        self.by_value.retain(|_, u| u != uid);
        Some(removed)
    }

    /// The key with this uid.
    pub fn get(&self, uid: &Uuid) -> Option<&ApiKey> {
        self.keys.get(uid)
    }

    /// The key whose value is `value` (as given to `/keys/{uidOrKey}` or in a header).
    pub fn get_by_value(&self, value: &str) -> Option<&ApiKey> {
        self.by_value
            .get(&digest(value))
            .and_then(|uid| self.keys.get(uid))
    }

    /// The key named by `/keys/{uidOrKey}`: a uuid is taken as a uid, anything else as a value.
    pub fn get_by_uid_or_value(&self, uid_or_value: &str) -> Option<&ApiKey> {
        match Uuid::parse_str(uid_or_value) {
            Ok(uid) => self.get(&uid),
            Err(_) => self.get_by_value(uid_or_value),
        }
    }

    /// The secret value of the key `uid`, if it exists and a master key is set.
    pub fn key_value(&self, uid: &Uuid) -> Option<String> {
        let master = self.master_key.as_deref()?;
        self.keys
            .contains_key(uid)
            .then(|| derive_key_value(uid, master))
    }

    /// All keys, most recently created first (the order of `GET /keys`).
    pub fn list(&self) -> Vec<&ApiKey> {
        let mut keys: Vec<&ApiKey> = self.keys.values().collect();
        keys.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.uid.cmp(&b.uid)));
        keys
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the store holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// [`KeyStore::authorize_at`] at the current time.
    pub fn authorize(
        &self,
        header_value: Option<&str>,
        action: Action,
        index: Option<&str>,
    ) -> Result<AuthContext, AuthError> {
        self.authorize_at(header_value, action, index, OffsetDateTime::now_utc())
    }

    /// Decides whether the request carrying the `Authorization` header `header_value` may
    /// perform `action` on `index` (`None` for routes that are not about one index; the
    /// returned context then tells which indexes may be touched).
    ///
    /// - Without a master key everything is open, except key management (`missing_master_key`).
    /// - No header, or a scheme other than `Bearer`: `missing_authorization_header`.
    /// - The master key grants everything.
    /// - An API key must be unexpired, grant `action`, and cover `index`.
    /// - For `search` only, a tenant token is accepted when its signature, expiry and search
    ///   rules are valid and its parent key itself may search `index`.
    /// - Anything else: `invalid_api_key`.
    pub fn authorize_at(
        &self,
        header_value: Option<&str>,
        action: Action,
        index: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<AuthContext, AuthError> {
        let Some(master) = self.master_key.as_deref() else {
            return match action {
                Action::KeysGet | Action::KeysCreate | Action::KeysUpdate | Action::KeysDelete => {
                    Err(AuthError::MissingMasterKey)
                }
                _ => Ok(AuthContext::unrestricted(Principal::Open)),
            };
        };
        let header = header_value.ok_or(AuthError::MissingAuthorizationHeader)?;
        let mut parts = header.splitn(2, ' ');
        if parts.next() != Some("Bearer") {
            return Err(AuthError::MissingAuthorizationHeader);
        }
        let token = parts.next().ok_or(AuthError::InvalidApiKey)?;

        if crate::constant_time_eq(token.as_bytes(), master.as_bytes()) {
            return Ok(AuthContext::unrestricted(Principal::MasterKey));
        }

        if let Some(key) = self.get_by_value(token) {
            return if key.allows(action, index, now) {
                Ok(AuthContext {
                    principal: Principal::ApiKey(key.uid),
                    indexes: Some(key.indexes.clone()),
                    search_rules: None,
                })
            } else {
                Err(AuthError::InvalidApiKey)
            };
        }

        if action == Action::Search {
            return self.authorize_tenant_token(token, index, now);
        }
        Err(AuthError::InvalidApiKey)
    }

    fn authorize_tenant_token(
        &self,
        token: &str,
        index: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<AuthContext, AuthError> {
        let verified =
            tenant_token::verify(token, |uid| self.key_value(uid), now).map_err(|e| match e {
                tenant_token::TokenError::Expired { exp, now } => {
                    AuthError::ExpiredTenantToken { exp, now }
                }
                _ => AuthError::InvalidApiKey,
            })?;
        let parent = self
            .get(&verified.api_key_uid)
            .ok_or(AuthError::InvalidApiKey)?;
        // The token can only narrow its parent: the parent must itself be allowed to search.
        if !parent.allows(Action::Search, index, now) {
            return Err(AuthError::InvalidApiKey);
        }
        if index.is_some_and(|uid| !verified.search_rules.allows(uid)) {
            return Err(AuthError::InvalidApiKey);
        }
        Ok(AuthContext {
            principal: Principal::TenantToken {
                api_key_uid: parent.uid,
            },
            indexes: Some(parent.indexes.clone()),
            search_rules: Some(verified.search_rules),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant_token::{sign, Algorithm};
    use serde_json::json;
    use time::Duration;

    const MASTER: &str = "a-master-key-of-16+bytes";

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
    }

    fn key(actions: &[&str], indexes: &[&str], expires_at: Option<OffsetDateTime>) -> ApiKey {
        ApiKey {
            uid: Uuid::new_v4(),
            name: None,
            description: None,
            actions: actions.iter().map(|a| Action::parse(a).unwrap()).collect(),
            indexes: indexes
                .iter()
                .map(|i| IndexPattern::parse(i).unwrap())
                .collect(),
            expires_at,
            created_at: now(),
            updated_at: now(),
        }
    }

    struct Fixture {
        store: KeyStore,
        search_movies: ApiKey,
        search_all: ApiKey,
        docs_prefix: ApiKey,
        expired: ApiKey,
        admin: ApiKey,
        keys_get_on_index: ApiKey,
    }

    fn fixture() -> Fixture {
        let mut store = KeyStore::new(Some(MASTER.to_owned()));
        let search_movies = key(&["search"], &["movies"], Some(now() + Duration::hours(1)));
        let search_all = key(&["search"], &["*"], None);
        let docs_prefix = key(&["documents.*"], &["movies*"], None);
        let expired = key(&["*"], &["*"], Some(now() - Duration::seconds(1)));
        let admin = key(&["*"], &["*"], None);
        let keys_get_on_index = key(&["keys.get"], &["movies"], None);
        for k in [
            &search_movies,
            &search_all,
            &docs_prefix,
            &expired,
            &admin,
            &keys_get_on_index,
        ] {
            store.insert(k.clone());
        }
        Fixture {
            store,
            search_movies,
            search_all,
            docs_prefix,
            expired,
            admin,
            keys_get_on_index,
        }
    }

    type Expected = Result<(), AuthError>;

    fn bearer(value: &str) -> String {
        format!("Bearer {value}")
    }

    fn value_of(k: &ApiKey) -> String {
        derive_key_value(&k.uid, MASTER)
    }

    #[test]
    fn authorize_matrix() {
        let f = fixture();
        let master = bearer(MASTER);
        let search_movies = bearer(&value_of(&f.search_movies));
        let docs_prefix = bearer(&value_of(&f.docs_prefix));
        let expired = bearer(&value_of(&f.expired));
        let admin = bearer(&value_of(&f.admin));
        let keys_get = bearer(&value_of(&f.keys_get_on_index));
        let other_master_value = bearer(&derive_key_value(&f.admin.uid, "another-master-key!!"));
        let uid_as_token = bearer(&f.admin.uid.to_string());
        let two_spaces = format!("Bearer  {MASTER}");
        let master_suffix = format!("{master}x");
        use Action::*;
        use AuthError::*;
        type Case<'a> = (&'a str, Option<&'a str>, Action, Option<&'a str>, Expected);
        let cases: Vec<Case> = vec![
            (
                "no header",
                None,
                Search,
                Some("movies"),
                Err(MissingAuthorizationHeader),
            ),
            (
                "basic scheme",
                Some("Basic abc"),
                Search,
                Some("movies"),
                Err(MissingAuthorizationHeader),
            ),
            (
                "lowercase bearer",
                Some("bearer x"),
                Search,
                Some("movies"),
                Err(MissingAuthorizationHeader),
            ),
            (
                "empty header",
                Some(""),
                Search,
                Some("movies"),
                Err(MissingAuthorizationHeader),
            ),
            (
                "bare key without scheme",
                Some(MASTER),
                Search,
                Some("movies"),
                Err(MissingAuthorizationHeader),
            ),
            (
                "bearer without token",
                Some("Bearer"),
                Search,
                Some("movies"),
                Err(InvalidApiKey),
            ),
            (
                "bearer empty token",
                Some("Bearer "),
                Search,
                Some("movies"),
                Err(InvalidApiKey),
            ),
            (
                "bearer two spaces",
                Some(&two_spaces),
                Search,
                Some("movies"),
                Err(InvalidApiKey),
            ),
            (
                "wrong key",
                Some("Bearer 0000"),
                Search,
                Some("movies"),
                Err(InvalidApiKey),
            ),
            (
                "value under another master key",
                Some(&other_master_value),
                Search,
                Some("movies"),
                Err(InvalidApiKey),
            ),
            (
                "uid is not a key value",
                Some(&uid_as_token),
                Search,
                Some("movies"),
                Err(InvalidApiKey),
            ),
            ("master key", Some(&master), KeysCreate, None, Ok(())),
            (
                "master key on index",
                Some(&master),
                DocumentsDelete,
                Some("anything"),
                Ok(()),
            ),
            (
                "master key with suffix",
                Some(&master_suffix),
                Search,
                None,
                Err(InvalidApiKey),
            ),
            (
                "search key",
                Some(&search_movies),
                Search,
                Some("movies"),
                Ok(()),
            ),
            (
                "search key other index",
                Some(&search_movies),
                Search,
                Some("books"),
                Err(InvalidApiKey),
            ),
            (
                "search key prefix-looking index",
                Some(&search_movies),
                Search,
                Some("movies2"),
                Err(InvalidApiKey),
            ),
            (
                "search key missing action",
                Some(&search_movies),
                DocumentsAdd,
                Some("movies"),
                Err(InvalidApiKey),
            ),
            (
                "search key no-index route",
                Some(&search_movies),
                Search,
                None,
                Ok(()),
            ),
            (
                "group wildcard",
                Some(&docs_prefix),
                DocumentsDelete,
                Some("movies_fr"),
                Ok(()),
            ),
            (
                "group wildcard other group",
                Some(&docs_prefix),
                SettingsUpdate,
                Some("movies_fr"),
                Err(InvalidApiKey),
            ),
            (
                "prefix pattern miss",
                Some(&docs_prefix),
                DocumentsGet,
                Some("films"),
                Err(InvalidApiKey),
            ),
            (
                "expired key",
                Some(&expired),
                Search,
                Some("movies"),
                Err(InvalidApiKey),
            ),
            (
                "expired key no index",
                Some(&expired),
                Version,
                None,
                Err(InvalidApiKey),
            ),
            (
                "admin star",
                Some(&admin),
                SettingsUpdate,
                Some("x"),
                Ok(()),
            ),
            (
                "admin star manages keys",
                Some(&admin),
                KeysDelete,
                None,
                Ok(()),
            ),
            (
                "keys.get on index, global route",
                Some(&keys_get),
                KeysGet,
                None,
                Ok(()),
            ),
            (
                "keys.get cannot create",
                Some(&keys_get),
                KeysCreate,
                None,
                Err(InvalidApiKey),
            ),
        ];
        for (what, header, action, index, expected) in cases {
            let got = f
                .store
                .authorize_at(header, action, index, now())
                .map(|_| ());
            assert_eq!(got, expected, "{what}");
        }
    }

    #[test]
    fn key_expiring_exactly_now_is_refused() {
        let mut store = KeyStore::new(Some(MASTER.to_owned()));
        let k = key(&["search"], &["*"], Some(now()));
        store.insert(k.clone());
        let h = bearer(&value_of(&k));
        assert_eq!(
            store.authorize_at(Some(&h), Action::Search, Some("m"), now()),
            Err(AuthError::InvalidApiKey)
        );
        assert!(store
            .authorize_at(
                Some(&h),
                Action::Search,
                Some("m"),
                now() - Duration::seconds(1)
            )
            .is_ok());
    }

    #[test]
    fn removed_and_replaced_keys() {
        let mut f = fixture();
        let h = bearer(&value_of(&f.search_all));
        assert!(f
            .store
            .authorize_at(Some(&h), Action::Search, Some("m"), now())
            .is_ok());
        let mut narrowed = f.search_all.clone();
        narrowed.indexes = vec![IndexPattern::parse("books").unwrap()];
        assert!(f.store.insert(narrowed).is_some());
        assert_eq!(
            f.store
                .authorize_at(Some(&h), Action::Search, Some("m"), now()),
            Err(AuthError::InvalidApiKey)
        );
        assert!(f.store.remove(&f.search_all.uid).is_some());
        assert_eq!(
            f.store
                .authorize_at(Some(&h), Action::Search, Some("books"), now()),
            Err(AuthError::InvalidApiKey)
        );
        assert!(f.store.remove(&f.search_all.uid).is_none());
    }

    #[test]
    fn open_instance_without_master_key() {
        let store = KeyStore::new(None);
        for header in [None, Some("Bearer whatever")] {
            let ctx = store
                .authorize_at(header, Action::DocumentsAdd, Some("movies"), now())
                .unwrap();
            assert_eq!(ctx.principal, Principal::Open);
            assert!(ctx.allows_all_indexes());
            assert_eq!(
                store.authorize_at(header, Action::KeysGet, None, now()),
                Err(AuthError::MissingMasterKey)
            );
        }
    }

    #[test]
    fn context_index_scoping() {
        let f = fixture();
        let ctx = f
            .store
            .authorize_at(
                Some(&bearer(&value_of(&f.docs_prefix))),
                Action::DocumentsGet,
                None,
                now(),
            )
            .unwrap();
        assert_eq!(ctx.principal, Principal::ApiKey(f.docs_prefix.uid));
        assert!(ctx.is_index_authorized("movies_en"));
        assert!(!ctx.is_index_authorized("books"));
        assert!(!ctx.allows_all_indexes());
        let master = f
            .store
            .authorize_at(Some(&bearer(MASTER)), Action::MetricsGet, None, now())
            .unwrap();
        assert!(master.allows_all_indexes());
        assert_eq!(master.search_filter("anything"), Ok(None));
    }

    #[test]
    fn lookups_by_uid_or_value() {
        let f = fixture();
        let v = value_of(&f.admin);
        assert_eq!(
            f.store.get_by_uid_or_value(&v).map(|k| k.uid),
            Some(f.admin.uid)
        );
        assert_eq!(
            f.store
                .get_by_uid_or_value(&f.admin.uid.to_string())
                .map(|k| k.uid),
            Some(f.admin.uid)
        );
        assert!(f.store.get_by_uid_or_value("nope").is_none());
        assert_eq!(f.store.key_value(&f.admin.uid), Some(v));
        assert_eq!(f.store.len(), 6);
        assert!(!format!("{:?}", f.store).contains(MASTER));
    }

    #[test]
    fn default_keys_created_once() {
        let mut store = KeyStore::new(Some(MASTER.to_owned()));
        let added = store.insert_default_keys_if_empty(now());
        assert_eq!(added.len(), 4);
        assert!(store.insert_default_keys_if_empty(now()).is_empty());
        let search = bearer(&store.key_value(&added[0].uid).unwrap());
        assert!(store
            .authorize_at(Some(&search), Action::Search, Some("m"), now())
            .is_ok());
        assert_eq!(
            store.authorize_at(Some(&search), Action::DocumentsAdd, Some("m"), now()),
            Err(AuthError::InvalidApiKey)
        );
        let mut open = KeyStore::new(None);
        assert!(open.insert_default_keys_if_empty(now()).is_empty());
    }

    fn token(parent: &ApiKey, claims: serde_json::Value) -> String {
        let mut c = claims;
        c["apiKeyUid"] = json!(parent.uid.to_string());
        bearer(&sign(Algorithm::HS256, &c, &value_of(parent)))
    }

    #[test]
    fn tenant_token_matrix() {
        let f = fixture();
        let t = now().unix_timestamp();
        let all_rules = json!({"searchRules": ["*"]});
        let filtered = json!({"searchRules": {"movies": {"filter": "user = 1"}}});
        let unknown_parent = {
            let ghost = key(&["search"], &["*"], None);
            token(&ghost, all_rules.clone())
        };
        let signed_by_master = {
            let c = json!({"searchRules": ["*"], "apiKeyUid": f.admin.uid.to_string()});
            bearer(&sign(Algorithm::HS256, &c, MASTER))
        };
        let signed_by_other_key = {
            let c = json!({"searchRules": ["*"], "apiKeyUid": f.admin.uid.to_string()});
            bearer(&sign(Algorithm::HS256, &c, &value_of(&f.search_all)))
        };
        use Action::*;
        use AuthError::*;
        type Case<'a> = (&'a str, String, Action, Option<&'a str>, Expected);
        let cases: Vec<Case> = vec![
            (
                "valid",
                token(&f.search_all, all_rules.clone()),
                Search,
                Some("movies"),
                Ok(()),
            ),
            (
                "valid, no index route",
                token(&f.search_all, all_rules.clone()),
                Search,
                None,
                Ok(()),
            ),
            (
                "valid filtered",
                token(&f.search_all, filtered.clone()),
                Search,
                Some("movies"),
                Ok(()),
            ),
            (
                "index outside searchRules",
                token(&f.search_all, filtered.clone()),
                Search,
                Some("books"),
                Err(InvalidApiKey),
            ),
            (
                "not for other actions",
                token(&f.admin, all_rules.clone()),
                DocumentsGet,
                Some("movies"),
                Err(InvalidApiKey),
            ),
            (
                "not for key management",
                token(&f.admin, all_rules.clone()),
                KeysGet,
                None,
                Err(InvalidApiKey),
            ),
            (
                "widening: parent limited to movies",
                token(&f.search_movies, all_rules.clone()),
                Search,
                Some("books"),
                Err(InvalidApiKey),
            ),
            (
                "narrow parent, allowed index",
                token(&f.search_movies, all_rules.clone()),
                Search,
                Some("movies"),
                Ok(()),
            ),
            (
                "widening: parent cannot search",
                token(&f.docs_prefix, all_rules.clone()),
                Search,
                Some("movies"),
                Err(InvalidApiKey),
            ),
            (
                "parent expired",
                token(&f.expired, all_rules.clone()),
                Search,
                Some("movies"),
                Err(InvalidApiKey),
            ),
            (
                "token expired",
                token(&f.search_all, json!({"searchRules": ["*"], "exp": t - 1})),
                Search,
                Some("movies"),
                Err(ExpiredTenantToken { exp: t - 1, now: t }),
            ),
            (
                "token not yet expired",
                token(&f.search_all, json!({"searchRules": ["*"], "exp": t + 60})),
                Search,
                Some("movies"),
                Ok(()),
            ),
            (
                "unknown apiKeyUid",
                unknown_parent,
                Search,
                Some("movies"),
                Err(InvalidApiKey),
            ),
            (
                "signed with the master key",
                signed_by_master,
                Search,
                Some("movies"),
                Err(InvalidApiKey),
            ),
            (
                "signed with another key",
                signed_by_other_key,
                Search,
                Some("movies"),
                Err(InvalidApiKey),
            ),
            (
                "garbage",
                bearer("a.b.c"),
                Search,
                Some("movies"),
                Err(InvalidApiKey),
            ),
        ];
        for (what, header, action, index, expected) in cases {
            let got = f
                .store
                .authorize_at(Some(&header), action, index, now())
                .map(|_| ());
            assert_eq!(got, expected, "{what}");
        }
    }

    #[test]
    fn tenant_token_context_filters() {
        let f = fixture();
        let header = token(
            &f.search_movies,
            json!({"searchRules": {"*": null, "movies": {"filter": ["user = 1", ["a = 1", "b = 2"]]}}}),
        );
        let ctx = f
            .store
            .authorize_at(Some(&header), Action::Search, None, now())
            .unwrap();
        assert_eq!(
            ctx.principal,
            Principal::TenantToken {
                api_key_uid: f.search_movies.uid
            }
        );
        assert_eq!(
            ctx.search_filter("movies"),
            Ok(Some(json!(["user = 1", ["a = 1", "b = 2"]])))
        );
        // `*` in the token does not reach past the parent key's `movies`.
        assert!(!ctx.is_index_authorized("books"));
        assert_eq!(ctx.search_filter("books"), Err(AuthError::InvalidApiKey));
        assert!(!ctx.allows_all_indexes());
        assert!(ctx.search_rules().is_some());

        let header = token(&f.search_all, json!({"searchRules": ["movies"]}));
        let ctx = f
            .store
            .authorize_at(Some(&header), Action::Search, None, now())
            .unwrap();
        assert_eq!(ctx.search_filter("movies"), Ok(None));
        assert_eq!(ctx.search_filter("books"), Err(AuthError::InvalidApiKey));
    }

    #[test]
    fn error_codes() {
        let cases = [
            (
                AuthError::MissingAuthorizationHeader,
                401,
                "missing_authorization_header",
            ),
            (AuthError::InvalidApiKey, 403, "invalid_api_key"),
            (AuthError::MissingMasterKey, 401, "missing_master_key"),
        ];
        for (err, status, code) in cases {
            assert_eq!((err.status(), err.code()), (status, code));
        }
    }
}
