//! The linked device itself: keys, identity, registration, app version.

use async_trait::async_trait;
use whatsapp_rust::wacore::store::error::Result;
use whatsapp_rust::wacore::store::traits::DeviceStore;
use whatsapp_rust::wacore::store::Device;

use super::{ns, KeyStoreBackend};

/// One device per session, under a fixed key.
const DEVICE_KEY: &str = "device";
/// The id reported by `create`; a session holds exactly one device.
const DEVICE_ID: i32 = 1;

#[async_trait]
impl DeviceStore for KeyStoreBackend {
    async fn save(&self, device: &Device) -> Result<()> {
        self.put_json(ns::DEVICE, DEVICE_KEY, device).await
    }

    async fn load(&self) -> Result<Option<Device>> {
        self.get_json(ns::DEVICE, DEVICE_KEY).await
    }

    async fn exists(&self) -> Result<bool> {
        Ok(self.get(ns::DEVICE, DEVICE_KEY).await?.is_some())
    }

    async fn create(&self) -> Result<i32> {
        let _guard = self.rmw.lock().await;
        if !self.exists().await? {
            self.save(&Device::new()).await?;
        }
        Ok(DEVICE_ID)
    }
}
