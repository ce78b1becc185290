//! API keys kept durably in the data directory (`<db>/auth.redb`, one `keys` table: uid ->
//! JSON record) next to the in-memory [`KeyStore`] every request reads. A write is acknowledged
//! only once its redb transaction has committed; memory is updated after the commit, so a
//! failed write changes nothing. Key values are never stored: they are derived from the uid and
//! the master key, which is why keys survive restarts (and dumps) unchanged.

use std::path::Path;

use parking_lot::RwLock;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::key::ApiKey;
use crate::store::KeyStore;

const KEYS: TableDefinition<&str, &[u8]> = TableDefinition::new("keys");

/// File name of the key database inside the data directory.
pub const AUTH_DB_FILE: &str = "auth.redb";

/// A storage failure (I/O, corruption, or a record that cannot be decoded).
#[derive(Debug, thiserror::Error)]
#[error("the API key store failed: {0}")]
pub struct PersistError(String);

fn fail(e: impl std::fmt::Display) -> PersistError {
    PersistError(e.to_string())
}

/// The durable key store: the redb file and the in-memory [`KeyStore`] loaded from it.
pub struct PersistentKeyStore {
    db: Database,
    memory: RwLock<KeyStore>,
}

impl std::fmt::Debug for PersistentKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersistentKeyStore")
            .field("memory", &*self.memory.read())
            .finish()
    }
}

impl PersistentKeyStore {
    /// Opens (creating if needed) `<dir>/auth.redb`, loads every key, and, when a master key
    /// is set and no key exists yet, creates and persists the default keys.
    pub fn open(dir: &Path, master_key: Option<String>) -> Result<Self, PersistError> {
        std::fs::create_dir_all(dir).map_err(fail)?;
        let db = Database::create(dir.join(AUTH_DB_FILE)).map_err(fail)?;
        let txn = db.begin_write().map_err(fail)?;
        txn.open_table(KEYS).map_err(fail)?;
        txn.commit().map_err(fail)?;
        let mut memory = KeyStore::new(master_key);
        {
            let txn = db.begin_read().map_err(fail)?;
            let table = txn.open_table(KEYS).map_err(fail)?;
            for row in table.iter().map_err(fail)? {
                let (_, value) = row.map_err(fail)?;
                let key: ApiKey = serde_json::from_slice(value.value()).map_err(fail)?;
                memory.insert(key);
            }
        }
        let store = PersistentKeyStore {
            db,
            memory: RwLock::new(KeyStore::new(None)),
        };
        // If persisting the defaults fails, `open` fails and the in-memory copy is dropped.
        let defaults = memory.insert_default_keys_if_empty(OffsetDateTime::now_utc());
        store.write(&defaults, &[])?;
        *store.memory.write() = memory;
        Ok(store)
    }

    fn write(&self, put: &[ApiKey], delete: &[Uuid]) -> Result<(), PersistError> {
        if put.is_empty() && delete.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write().map_err(fail)?;
        {
            let mut table = txn.open_table(KEYS).map_err(fail)?;
            for key in put {
                let bytes = serde_json::to_vec(key).map_err(fail)?;
                table
                    .insert(key.uid.to_string().as_str(), bytes.as_slice())
                    .map_err(fail)?;
            }
            for uid in delete {
                table.remove(uid.to_string().as_str()).map_err(fail)?;
            }
        }
        txn.commit().map_err(fail)
    }

    /// Read access to the in-memory store (authorization, lookups).
    pub fn read(&self) -> parking_lot::RwLockReadGuard<'_, KeyStore> {
        self.memory.read()
    }

    /// Every key record, most recently created first, for listing and for dumps. Records
    /// carry uid, name, description, actions, indexes, expiresAt, createdAt and updatedAt; the
    /// key value is derived again from the uid where needed.
    pub fn all_keys(&self) -> Vec<ApiKey> {
        self.memory.read().list().into_iter().cloned().collect()
    }

    /// Inserts `key` (e.g. from a dump) under its own uid, replacing any record with that uid.
    /// Its value is derived from this instance's master key. Durable before it returns.
    pub fn put_key(&self, key: ApiKey) -> Result<(), PersistError> {
        let mut memory = self.memory.write();
        self.write(std::slice::from_ref(&key), &[])?;
        memory.insert(key);
        Ok(())
    }

    /// Inserts a new key; `Ok(false)` when a key with this uid already exists.
    pub fn create_key(&self, key: ApiKey) -> Result<bool, PersistError> {
        let mut memory = self.memory.write();
        if memory.get(&key.uid).is_some() {
            return Ok(false);
        }
        self.write(std::slice::from_ref(&key), &[])?;
        memory.insert(key);
        Ok(true)
    }

    /// Applies `change` to the key named by `uid_or_value` and persists it; `Ok(None)` when no
    /// such key exists.
    pub fn update_key(
        &self,
        uid_or_value: &str,
        change: impl FnOnce(&mut ApiKey),
    ) -> Result<Option<ApiKey>, PersistError> {
        let mut memory = self.memory.write();
        let Some(mut key) = memory.get_by_uid_or_value(uid_or_value).cloned() else {
            return Ok(None);
        };
        change(&mut key);
        self.write(std::slice::from_ref(&key), &[])?;
        memory.insert(key.clone());
        Ok(Some(key))
    }

    /// Deletes the key named by `uid_or_value`; `Ok(false)` when no such key exists.
    pub fn delete_key(&self, uid_or_value: &str) -> Result<bool, PersistError> {
        let mut memory = self.memory.write();
        let Some(uid) = memory.get_by_uid_or_value(uid_or_value).map(|k| k.uid) else {
            return Ok(false);
        };
        self.write(&[], &[uid])?;
        memory.remove(&uid);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::Action;
    use crate::key::{derive_key_value, IndexPattern};

    const MASTER: &str = "a-master-key-of-16+bytes";

    fn sample(uid: Uuid) -> ApiKey {
        ApiKey {
            uid,
            name: Some("n".into()),
            description: None,
            actions: vec![Action::Search],
            indexes: vec![IndexPattern::Prefix("mov".into())],
            expires_at: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn defaults_once_and_keys_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = PersistentKeyStore::open(dir.path(), Some(MASTER.into())).unwrap();
        let defaults = store.all_keys();
        assert_eq!(defaults.len(), 4);
        let uid = Uuid::new_v4();
        assert!(store.create_key(sample(uid)).unwrap());
        assert!(!store.create_key(sample(uid)).unwrap(), "duplicate uid");
        let value = derive_key_value(&uid, MASTER);
        let updated = store
            .update_key(&value, |k| k.name = Some("renamed".into()))
            .unwrap()
            .unwrap();
        assert_eq!(updated.name.as_deref(), Some("renamed"));
        assert!(store.delete_key(&defaults[0].uid.to_string()).unwrap());
        assert!(!store.delete_key("nope").unwrap());
        drop(store);

        let reopened = PersistentKeyStore::open(dir.path(), Some(MASTER.into())).unwrap();
        let keys = reopened.all_keys();
        assert_eq!(
            keys.len(),
            4,
            "3 defaults left + 1 created, no new defaults"
        );
        let got = reopened.read().get_by_value(&value).cloned().unwrap();
        assert_eq!(got.name.as_deref(), Some("renamed"));
        assert!(reopened.read().get(&defaults[0].uid).is_none());
        // Default key values are derived, hence identical after the restart.
        for k in &defaults[1..] {
            assert_eq!(
                reopened.read().key_value(&k.uid),
                Some(derive_key_value(&k.uid, MASTER))
            );
        }
    }

    #[test]
    fn put_key_imports_under_a_given_uid() {
        let dir = tempfile::tempdir().unwrap();
        let store = PersistentKeyStore::open(dir.path(), None).unwrap();
        assert!(
            store.all_keys().is_empty(),
            "no defaults without a master key"
        );
        drop(store);
        let store = PersistentKeyStore::open(dir.path(), Some(MASTER.into())).unwrap();
        let uid = Uuid::from_u128(42);
        store.put_key(sample(uid)).unwrap();
        assert_eq!(
            store.read().key_value(&uid),
            Some(derive_key_value(&uid, MASTER))
        );
        assert!(format!("{store:?}").find(MASTER).is_none());
    }
}
