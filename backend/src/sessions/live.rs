//! What a running session shows that is not in its database row: the QR or pairing
//! code on offer. Shared between the session task (writer) and readers.

use std::sync::{Arc, Mutex};

use super::types::{PairCodeOut, QrOut};

#[derive(Debug, Default)]
pub struct LiveView {
    pub qr: Option<QrOut>,
    pub pair_code: Option<PairCodeOut>,
}

#[derive(Debug, Default, Clone)]
pub struct SharedLive(Arc<Mutex<LiveView>>);

impl SharedLive {
    pub fn qr(&self) -> Option<QrOut> {
        let view = self.0.lock().unwrap_or_else(|p| p.into_inner());
        view.qr.clone().filter(|q| q.expires_at.0 > chrono::Utc::now())
    }

    pub fn set_qr(&self, qr: Option<QrOut>) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).qr = qr;
    }

    pub fn set_pair_code(&self, code: Option<PairCodeOut>) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).pair_code = code;
    }

    pub fn pair_code(&self) -> Option<PairCodeOut> {
        let view = self.0.lock().unwrap_or_else(|p| p.into_inner());
        view.pair_code.clone().filter(|c| c.expires_at.0 > chrono::Utc::now())
    }
}
