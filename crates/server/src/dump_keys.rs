//! The bridge between the API key store and dumps: a dump carries the key records as JSON and
//! an import puts them back under their own uids (their values derive from the master key).

use std::sync::Arc;

use quarry_auth::{ApiKey, PersistentKeyStore};
use serde_json::Value;

/// The persisted key store, seen by the scheduler's dump code.
pub struct DumpKeys(pub Arc<PersistentKeyStore>);

impl quarry_scheduler::dump::KeyStore for DumpKeys {
    fn export_keys(&self) -> Result<Vec<Value>, String> {
        self.0
            .all_keys()
            .iter()
            .map(|key| serde_json::to_value(key).map_err(|e| e.to_string()))
            .collect()
    }

    fn import_keys(&self, keys: Vec<Value>) -> Result<(), String> {
        for value in keys {
            let key: ApiKey = serde_json::from_value(value)
                .map_err(|e| format!("a key record of the dump is invalid: {e}"))?;
            self.0.put_key(key).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}
