//! Tenant tokens: JWTs (HS256/HS384/HS512) that a backend signs with one of its API keys to hand
//! a front-end user a narrower search right. The claims say which indexes may be searched
//! (`searchRules`), with which filters forced into every search, which key signed the token
//! (`apiKeyUid`) and optionally when it expires (`exp`). This module decodes and verifies the
//! token itself; checking that the parent key really grants the search lives in the key store.
//! JWT verification is implemented directly on `hmac` + `sha2` to accept exactly these three
//! algorithms and nothing else.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::{Sha256, Sha384, Sha512};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::key::IndexPattern;

/// Tokens longer than this are refused before any decoding.
pub const MAX_TOKEN_LEN: usize = 64 * 1024;

/// The signature algorithms a tenant token may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    HS256,
    HS384,
    HS512,
}

impl Algorithm {
    fn parse(name: &str) -> Option<Algorithm> {
        match name {
            "HS256" => Some(Algorithm::HS256),
            "HS384" => Some(Algorithm::HS384),
            "HS512" => Some(Algorithm::HS512),
            _ => None,
        }
    }

    /// The JOSE name (`"HS256"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::HS256 => "HS256",
            Algorithm::HS384 => "HS384",
            Algorithm::HS512 => "HS512",
        }
    }

    fn mac(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
            let mut mac = <M as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
        match self {
            Algorithm::HS256 => run::<Hmac<Sha256>>(key, message),
            Algorithm::HS384 => run::<Hmac<Sha384>>(key, message),
            Algorithm::HS512 => run::<Hmac<Sha512>>(key, message),
        }
    }

    fn verify(self, key: &[u8], message: &[u8], signature: &[u8]) -> bool {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8], sig: &[u8]) -> bool {
            let mut mac = <M as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
            mac.update(message);
            // `verify_slice` compares in constant time.
            mac.verify_slice(sig).is_ok()
        }
        match self {
            Algorithm::HS256 => run::<Hmac<Sha256>>(key, message, signature),
            Algorithm::HS384 => run::<Hmac<Sha384>>(key, message, signature),
            Algorithm::HS512 => run::<Hmac<Sha512>>(key, message, signature),
        }
    }
}

/// Why a tenant token was refused. All of them surface to clients as `invalid_api_key`; the
/// detail is for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the tenant token is malformed")]
    Malformed,
    #[error(
        "the tenant token uses an unsupported algorithm (only HS256, HS384 and HS512 are accepted)"
    )]
    UnsupportedAlgorithm,
    #[error("the tenant token claims are invalid: {0}")]
    InvalidClaims(&'static str),
    #[error("the tenant token's `apiKeyUid` does not name an existing API key")]
    UnknownApiKey,
    #[error("the tenant token's signature is invalid")]
    BadSignature,
    /// The token's `exp` (a Unix timestamp) is not after `now`.
    #[error("the tenant token expired at {exp} (now {now})")]
    Expired { exp: i64, now: i64 },
}

/// The rule applying to one index: the filter, if any, that must be ANDed into every search.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexRule {
    pub filter: Option<Value>,
}

/// The `searchRules` claim.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchRules {
    /// `["movies", "books*"]`: these indexes, without forced filters.
    Set(Vec<IndexPattern>),
    /// `{"movies": {"filter": "..."}, "books*": null}`: these indexes, each with an optional
    /// forced filter.
    Map(Vec<(IndexPattern, IndexRule)>),
}

fn is_valid_filter(value: &Value) -> bool {
    match value {
        Value::String(_) => true,
        Value::Array(items) => items.iter().all(|item| match item {
            Value::String(_) => true,
            Value::Array(inner) => inner.iter().all(Value::is_string),
            _ => false,
        }),
        _ => false,
    }
}

impl SearchRules {
    /// Decodes the claim. Invalid index patterns or filters of the wrong shape make the whole
    /// token invalid rather than being skipped.
    pub fn from_json(value: &Value) -> Result<SearchRules, TokenError> {
        let bad = |why| TokenError::InvalidClaims(why);
        match value {
            Value::Array(items) => {
                let patterns = items
                    .iter()
                    .map(|item| {
                        item.as_str()
                            .and_then(|s| IndexPattern::parse(s).ok())
                            .ok_or(bad("searchRules lists an invalid index pattern"))
                    })
                    .collect::<Result<_, _>>()?;
                Ok(SearchRules::Set(patterns))
            }
            Value::Object(map) => {
                let mut rules = Vec::with_capacity(map.len());
                for (pattern, rule) in map {
                    let pattern = IndexPattern::parse(pattern)
                        .map_err(|_| bad("searchRules names an invalid index pattern"))?;
                    let filter = match rule {
                        Value::Null => None,
                        Value::Object(fields) => match fields.get("filter") {
                            None | Some(Value::Null) => None,
                            Some(f) if is_valid_filter(f) => Some(f.clone()),
                            Some(_) => return Err(bad("a searchRules filter is not a filter")),
                        },
                        _ => return Err(bad("a searchRules entry must be null or an object")),
                    };
                    rules.push((pattern, IndexRule { filter }));
                }
                Ok(SearchRules::Map(rules))
            }
            _ => Err(bad("searchRules must be an array or an object")),
        }
    }

    /// The rule for `index`, or `None` when the token does not allow searching it. When several
    /// patterns match, the most specific wins: an exact uid, then the longest prefix, then `*`.
    pub fn rule_for(&self, index: &str) -> Option<IndexRule> {
        match self {
            SearchRules::Set(patterns) => patterns
                .iter()
                .any(|p| p.matches(index))
                .then_some(IndexRule { filter: None }),
            SearchRules::Map(rules) => rules
                .iter()
                .filter(|(p, _)| p.matches(index))
                .max_by_key(|(p, _)| p.specificity())
                .map(|(_, rule)| rule.clone()),
        }
    }

    /// Whether the token allows searching `index` at all.
    pub fn allows(&self, index: &str) -> bool {
        self.rule_for(index).is_some()
    }

    /// The filter to AND into searches on `index`: `Ok(None)` for no filter, an error when the
    /// index is not allowed.
    pub fn filter_for(&self, index: &str) -> Result<Option<Value>, IndexNotAllowed> {
        self.rule_for(index)
            .map(|r| r.filter)
            .ok_or(IndexNotAllowed)
    }
}

/// The token does not allow searching the index asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the tenant token does not allow searching this index")]
pub struct IndexNotAllowed;

/// A verified tenant token.
#[derive(Debug, Clone, PartialEq)]
pub struct TenantToken {
    pub api_key_uid: Uuid,
    pub search_rules: SearchRules,
    pub expires_at: Option<i64>,
    pub algorithm: Algorithm,
}

fn decode_part(part: &str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed)
}

fn decode_json_object(part: &str) -> Result<Map<String, Value>, TokenError> {
    match serde_json::from_slice(&decode_part(part)?) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(TokenError::Malformed),
    }
}

/// Decodes and verifies `token`.
///
/// `signing_key` is asked for the secret value of the API key named by `apiKeyUid` (`None`
/// when there is no such key). Nothing from the payload is trusted before the signature has
/// been checked with that key's value; `exp` is then checked against `now` (a token is expired
/// from its `exp` second on).
pub fn verify(
    token: &str,
    signing_key: impl FnOnce(&Uuid) -> Option<String>,
    now: OffsetDateTime,
) -> Result<TenantToken, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };

    let header = decode_json_object(header_b64)?;
    let algorithm = match header.get("alg") {
        Some(Value::String(alg)) => {
            Algorithm::parse(alg).ok_or(TokenError::UnsupportedAlgorithm)?
        }
        _ => return Err(TokenError::Malformed),
    };
    if header.contains_key("crit") {
        // No critical extension is understood, so any listed one must be refused.
        return Err(TokenError::UnsupportedAlgorithm);
    }
    let signature = decode_part(signature_b64)?;
    if signature.is_empty() {
        return Err(TokenError::BadSignature);
    }

    let claims = decode_json_object(payload_b64)?;
    let api_key_uid = match claims.get("apiKeyUid") {
        Some(Value::String(s)) => {
            Uuid::parse_str(s).map_err(|_| TokenError::InvalidClaims("apiKeyUid is not a uuid"))?
        }
        Some(_) => return Err(TokenError::InvalidClaims("apiKeyUid must be a string")),
        None => return Err(TokenError::InvalidClaims("apiKeyUid is missing")),
    };
    let key_value = signing_key(&api_key_uid).ok_or(TokenError::UnknownApiKey)?;

    let signed = &token.as_bytes()[..header_b64.len() + 1 + payload_b64.len()];
    if !algorithm.verify(key_value.as_bytes(), signed, &signature) {
        return Err(TokenError::BadSignature);
    }

    let search_rules = match claims.get("searchRules") {
        Some(rules) => SearchRules::from_json(rules)?,
        None => return Err(TokenError::InvalidClaims("searchRules is missing")),
    };
    let expires_at = match claims.get("exp") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_i64() {
            Some(exp) => Some(exp),
            None => {
                return Err(TokenError::InvalidClaims(
                    "exp must be an integer timestamp",
                ))
            }
        },
        Some(_) => {
            return Err(TokenError::InvalidClaims(
                "exp must be an integer timestamp",
            ))
        }
    };
    if let Some(exp) = expires_at.filter(|exp| now.unix_timestamp() >= *exp) {
        return Err(TokenError::Expired {
            exp,
            now: now.unix_timestamp(),
        });
    }

    Ok(TenantToken {
        api_key_uid,
        search_rules,
        expires_at,
        algorithm,
    })
}

/// Signs `claims` into a compact JWT with `key_value` (an API key's value), as an SDK would.
/// Used by tests and tools; the server itself only verifies.
pub fn sign(algorithm: Algorithm, claims: &Value, key_value: &str) -> String {
    let header = serde_json::json!({ "alg": algorithm.as_str(), "typ": "JWT" });
    let mut token = URL_SAFE_NO_PAD.encode(header.to_string());
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = algorithm.mac(key_value.as_bytes(), token.as_bytes());
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature));
    token
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY_VALUE: &str = "381fdbc9147f01606b5c04c34e30f1e953caf969562826a0921ae91a463cff2a";

    fn uid() -> Uuid {
        Uuid::parse_str("74c9c733-3368-4738-bbe5-1d18a5fecb37").unwrap()
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
    }

    fn lookup(u: &Uuid) -> Option<String> {
        (*u == uid()).then(|| KEY_VALUE.to_owned())
    }

    fn claims(rules: Value) -> Value {
        json!({ "searchRules": rules, "apiKeyUid": uid().to_string() })
    }

    fn raw(header: &Value, payload: &Value, signature: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    #[test]
    fn valid_tokens_with_each_algorithm() {
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let token = sign(alg, &claims(json!(["movies"])), KEY_VALUE);
            let verified = verify(&token, lookup, now()).unwrap();
            assert_eq!(verified.api_key_uid, uid());
            assert_eq!(verified.algorithm, alg);
            assert!(verified.search_rules.allows("movies"));
            assert!(!verified.search_rules.allows("books"));
        }
    }

    #[test]
    fn known_hs256_vector() {
        // Signed outside this code (Python: hmac + base64url) so sign() and verify() cannot
        // agree on a shared mistake.
        let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzZWFyY2hSdWxlcyI6eyJtb3ZpZXMiOnsiZmlsdGVyIjoiZ2VucmUgPSBob3Jyb3IifX0sImFwaUtleVVpZCI6Ijc0YzljNzMzLTMzNjgtNDczOC1iYmU1LTFkMThhNWZlY2IzNyJ9.Jzlj6pDjqx0SIu2UaDrEgl-RFYy9KiJ7ZNLm6cJS6kw";
        let verified = verify(token, lookup, now()).unwrap();
        assert_eq!(
            verified.search_rules.filter_for("movies"),
            Ok(Some(json!("genre = horror")))
        );
    }

    #[test]
    fn expiry() {
        let t = now().unix_timestamp();
        let cases: &[(Value, Result<(), TokenError>)] = &[
            (json!(t + 60), Ok(())),
            (json!(t + 1), Ok(())),
            (json!(t), Err(TokenError::Expired { exp: t, now: t })),
            (
                json!(t - 1),
                Err(TokenError::Expired { exp: t - 1, now: t }),
            ),
            (json!(null), Ok(())),
            (
                json!("9999999999"),
                Err(TokenError::InvalidClaims(
                    "exp must be an integer timestamp",
                )),
            ),
            (
                json!(1.5e10),
                Err(TokenError::InvalidClaims(
                    "exp must be an integer timestamp",
                )),
            ),
        ];
        for (exp, expected) in cases {
            let mut c = claims(json!(["*"]));
            c["exp"] = exp.clone();
            let token = sign(Algorithm::HS256, &c, KEY_VALUE);
            assert_eq!(
                verify(&token, lookup, now()).map(|_| ()),
                *expected,
                "exp = {exp}"
            );
        }
    }

    #[test]
    fn forged_and_malformed_tokens() {
        let good = sign(Algorithm::HS256, &claims(json!(["*"])), KEY_VALUE);
        let other_key = sign(Algorithm::HS256, &claims(json!(["*"])), "not-the-key-value");
        let (head, rest) = good.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        // Payload swapped for a wider one, signature kept.
        let widened = format!(
            "{head}.{}.{sig}",
            URL_SAFE_NO_PAD.encode(claims(json!({"*": null})).to_string())
        );
        let hs = json!({"alg": "HS256", "typ": "JWT"});
        let none_alg = raw(&json!({"alg": "none"}), &claims(json!(["*"])), b"");
        let none_alg_upper = raw(&json!({"alg": "None"}), &claims(json!(["*"])), b"");
        let rs256 = raw(&json!({"alg": "RS256"}), &claims(json!(["*"])), b"sig");
        let no_alg = raw(&json!({"typ": "JWT"}), &claims(json!(["*"])), b"sig");
        let crit = {
            let h = json!({"alg": "HS256", "crit": ["b64"], "b64": false});
            let mut t = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(h.to_string()),
                URL_SAFE_NO_PAD.encode(claims(json!(["*"])).to_string())
            );
            let s = Algorithm::HS256.mac(KEY_VALUE.as_bytes(), t.as_bytes());
            t.push('.');
            t.push_str(&URL_SAFE_NO_PAD.encode(s));
            t
        };
        let padded = format!("{good}=");
        let array_payload = raw(&hs, &json!([1, 2]), b"sig");
        let cases: Vec<(&str, String, TokenError)> = vec![
            (
                "signed with another key",
                other_key,
                TokenError::BadSignature,
            ),
            ("payload swapped", widened, TokenError::BadSignature),
            (
                "signature stripped",
                format!("{head}.{}.", rest.split_once('.').unwrap().0),
                TokenError::BadSignature,
            ),
            ("alg none", none_alg, TokenError::UnsupportedAlgorithm),
            ("alg None", none_alg_upper, TokenError::UnsupportedAlgorithm),
            ("alg RS256", rs256, TokenError::UnsupportedAlgorithm),
            ("no alg", no_alg, TokenError::Malformed),
            ("crit header", crit, TokenError::UnsupportedAlgorithm),
            (
                "two parts",
                format!("{head}.{}", rest.split_once('.').unwrap().0),
                TokenError::Malformed,
            ),
            ("four parts", format!("{good}.x"), TokenError::Malformed),
            ("empty", String::new(), TokenError::Malformed),
            ("not base64", "a.b!.c".to_owned(), TokenError::Malformed),
            ("padding", padded, TokenError::Malformed),
            (
                "payload not an object",
                array_payload,
                TokenError::Malformed,
            ),
            ("plain api key", KEY_VALUE.to_owned(), TokenError::Malformed),
            (
                "too long",
                "a".repeat(MAX_TOKEN_LEN + 1),
                TokenError::Malformed,
            ),
        ];
        for (what, token, expected) in cases {
            assert_eq!(verify(&token, lookup, now()), Err(expected), "{what}");
        }
    }

    #[test]
    fn claim_validation() {
        let sign_raw = |c: Value| sign(Algorithm::HS256, &c, KEY_VALUE);
        let cases: Vec<(&str, Value, TokenError)> = vec![
            (
                "no apiKeyUid",
                json!({"searchRules": ["*"]}),
                TokenError::InvalidClaims("apiKeyUid is missing"),
            ),
            (
                "apiKeyUid not a uuid",
                json!({"searchRules": ["*"], "apiKeyUid": "nope"}),
                TokenError::InvalidClaims("apiKeyUid is not a uuid"),
            ),
            (
                "apiKeyUid number",
                json!({"searchRules": ["*"], "apiKeyUid": 3}),
                TokenError::InvalidClaims("apiKeyUid must be a string"),
            ),
            (
                "unknown apiKeyUid",
                json!({"searchRules": ["*"], "apiKeyUid": Uuid::nil().to_string()}),
                TokenError::UnknownApiKey,
            ),
            (
                "no searchRules",
                json!({"apiKeyUid": uid().to_string()}),
                TokenError::InvalidClaims("searchRules is missing"),
            ),
            (
                "searchRules string",
                claims(json!("*")),
                TokenError::InvalidClaims("searchRules must be an array or an object"),
            ),
            (
                "bad pattern in list",
                claims(json!(["mo*vies"])),
                TokenError::InvalidClaims("searchRules lists an invalid index pattern"),
            ),
            (
                "number in list",
                claims(json!([1])),
                TokenError::InvalidClaims("searchRules lists an invalid index pattern"),
            ),
            (
                "bad pattern in map",
                claims(json!({"a b": null})),
                TokenError::InvalidClaims("searchRules names an invalid index pattern"),
            ),
            (
                "rule is a string",
                claims(json!({"movies": "x"})),
                TokenError::InvalidClaims("a searchRules entry must be null or an object"),
            ),
            (
                "filter is a number",
                claims(json!({"movies": {"filter": 3}})),
                TokenError::InvalidClaims("a searchRules filter is not a filter"),
            ),
        ];
        for (what, c, expected) in cases {
            assert_eq!(verify(&sign_raw(c), lookup, now()), Err(expected), "{what}");
        }
    }

    #[test]
    fn search_rules_forms() {
        let rules = |v: Value| SearchRules::from_json(&v).unwrap();
        type Case<'a> = (Value, &'a str, Result<Option<Value>, IndexNotAllowed>);
        let cases: Vec<Case> = vec![
            (json!(["*"]), "movies", Ok(None)),
            (json!(["movies"]), "movies", Ok(None)),
            (json!(["movies"]), "books", Err(IndexNotAllowed)),
            (json!(["mov*"]), "movies", Ok(None)),
            (json!([]), "movies", Err(IndexNotAllowed)),
            (json!({}), "movies", Err(IndexNotAllowed)),
            (json!({"*": null}), "movies", Ok(None)),
            (json!({"*": {}}), "movies", Ok(None)),
            (json!({"*": {"filter": null}}), "movies", Ok(None)),
            (
                json!({"movies": {"filter": "a = 1"}}),
                "movies",
                Ok(Some(json!("a = 1"))),
            ),
            (
                json!({"movies": {"filter": "a = 1"}}),
                "books",
                Err(IndexNotAllowed),
            ),
            (
                json!({"movies": {"filter": ["a = 1", ["b = 2", "c = 3"]]}}),
                "movies",
                Ok(Some(json!(["a = 1", ["b = 2", "c = 3"]]))),
            ),
            // Most specific pattern wins, whatever the order in the object.
            (
                json!({"*": {"filter": "all"}, "mov*": {"filter": "prefix"}, "movies": {"filter": "exact"}}),
                "movies",
                Ok(Some(json!("exact"))),
            ),
            (
                json!({"movies": {"filter": "exact"}, "mov*": {"filter": "prefix"}, "*": {"filter": "all"}}),
                "movies_fr",
                Ok(Some(json!("prefix"))),
            ),
            (
                json!({"m*": {"filter": "short"}, "mov*": {"filter": "long"}}),
                "movies",
                Ok(Some(json!("long"))),
            ),
            (
                json!({"*": {"filter": "all"}, "mov*": null}),
                "books",
                Ok(Some(json!("all"))),
            ),
        ];
        for (v, index, expected) in cases {
            assert_eq!(
                rules(v.clone()).filter_for(index),
                expected,
                "{v} on {index}"
            );
        }
    }
}
