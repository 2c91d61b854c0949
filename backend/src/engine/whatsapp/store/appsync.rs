//! App-state sync: sync keys, collection versions, mutation MACs.

use async_trait::async_trait;
use whatsapp_rust::wacore::appstate::hash::HashState;
use whatsapp_rust::wacore::appstate::processor::AppStateMutationMAC;
use whatsapp_rust::wacore::store::error::Result;
use whatsapp_rust::wacore::store::traits::{AppStateSyncKey, AppSyncStore};

use super::{join, join_prefix, ns, KeyStoreBackend};

const LATEST_SYNC_KEY_ID: &str = "latest_sync_key_id";

fn mac_key(name: &str, index_mac: &[u8]) -> String {
    join(&[name, &hex::encode(index_mac)])
}

#[async_trait]
impl AppSyncStore for KeyStoreBackend {
    async fn get_sync_key(&self, key_id: &[u8]) -> Result<Option<AppStateSyncKey>> {
        self.get_json(ns::APP_STATE_SYNC_KEY, &hex::encode(key_id)).await
    }

    async fn set_sync_key(&self, key_id: &[u8], key: AppStateSyncKey) -> Result<()> {
        self.put_json(ns::APP_STATE_SYNC_KEY, &hex::encode(key_id), &key).await?;
        self.put(ns::APP_STATE_META, LATEST_SYNC_KEY_ID, key_id).await
    }

    async fn get_version(&self, name: &str) -> Result<HashState> {
        Ok(self.get_json(ns::APP_STATE_VERSION, name).await?.unwrap_or_default())
    }

    async fn set_version(&self, name: &str, state: HashState) -> Result<()> {
        self.put_json(ns::APP_STATE_VERSION, name, &state).await
    }

    async fn put_mutation_macs(&self, name: &str, _version: u64, mutations: &[AppStateMutationMAC]) -> Result<()> {
        for m in mutations {
            self.put(ns::MUTATION_MAC, &mac_key(name, &m.index_mac), &m.value_mac).await?;
        }
        Ok(())
    }

    async fn get_mutation_mac(&self, name: &str, index_mac: &[u8]) -> Result<Option<Vec<u8>>> {
        self.get(ns::MUTATION_MAC, &mac_key(name, index_mac)).await
    }

    async fn delete_mutation_macs(&self, name: &str, index_macs: &[Vec<u8>]) -> Result<()> {
        for index_mac in index_macs {
            self.delete(ns::MUTATION_MAC, &mac_key(name, index_mac)).await?;
        }
        Ok(())
    }

    async fn clear_mutation_macs(&self, name: &str) -> Result<()> {
        for (key, _) in self.list(ns::MUTATION_MAC, &join_prefix(&[name])).await? {
            self.delete(ns::MUTATION_MAC, &key).await?;
        }
        Ok(())
    }

    async fn get_latest_sync_key_id(&self) -> Result<Option<Vec<u8>>> {
        self.get(ns::APP_STATE_META, LATEST_SYNC_KEY_ID).await
    }
}
