//! The one rule every index uid follows (ASCII letters, digits, `-` and `_`, 1 to 400 bytes),
//! checked in a single place so that path segments, request bodies and task filters all reject
//! the same uids with the same message.

use crate::error::{Code, ResponseError};

/// The longest index uid accepted, in bytes.
pub const MAX_INDEX_UID_BYTES: usize = 400;

/// Whether `uid` is a well-formed index uid.
pub fn is_valid_index_uid(uid: &str) -> bool {
    !uid.is_empty()
        && uid.len() <= MAX_INDEX_UID_BYTES
        && uid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The explanation given for a malformed uid, without any location prefix.
pub fn invalid_index_uid_message(uid: &str) -> String {
    format!(
        "`{uid}` is not a valid index uid. Index uid can be an integer or a string containing only \
         alphanumeric characters, hyphens (-) and underscores (_), and can not be more than \
         {MAX_INDEX_UID_BYTES} bytes."
    )
}

/// Checks an index uid, answering with `invalid_index_uid` when it is malformed.
pub fn validate_index_uid(uid: &str) -> Result<(), ResponseError> {
    if is_valid_index_uid(uid) {
        Ok(())
    } else {
        Err(ResponseError::new(
            Code::InvalidIndexUid,
            invalid_index_uid_message(uid),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_well_formed_uids() {
        let long = "a".repeat(MAX_INDEX_UID_BYTES);
        for uid in ["movies", "1", "a-b_c", "ABC123", "-", "_", long.as_str()] {
            assert!(validate_index_uid(uid).is_ok(), "{uid}");
        }
    }

    #[test]
    fn rejects_malformed_uids() {
        let too_long = "a".repeat(MAX_INDEX_UID_BYTES + 1);
        for uid in [
            "",
            "the good doggo",
            "hé",
            "a.b",
            "a/b",
            "a%20b",
            "ünï",
            too_long.as_str(),
        ] {
            let err = validate_index_uid(uid).unwrap_err();
            assert_eq!(err.code, Code::InvalidIndexUid, "{uid}");
            assert_eq!(err.message, invalid_index_uid_message(uid));
        }
    }

    #[test]
    fn message_matches_meilisearch() {
        assert_eq!(
            invalid_index_uid_message("the good doggo"),
            "`the good doggo` is not a valid index uid. Index uid can be an integer or a string \
             containing only alphanumeric characters, hyphens (-) and underscores (_), and can not \
             be more than 400 bytes."
        );
    }
}
