//! The peer's Noise identity: a static key pair and a certificate chain for it.
//!
//! The chain has the real shape (intermediate issued by serial 0, leaf issued by the
//! intermediate, both XEdDSA-signed, validity windows around now) but its root is the
//! peer's own key, not WhatsApp's: a client that verifies the chain against
//! `WA_CERT_PUB_KEY` refuses it. Only a build with whatsapp-rust's
//! `danger-skip-cert-chain-verify` accepts it, which is the point.

use buffa::Message as _;
use wacore_libsignal::protocol::KeyPair;
use waproto::buffa;
use waproto::whatsapp::{self as wa, cert_chain::noise_certificate};

pub struct ServerIdentity {
    pub static_kp: KeyPair,
    pub chain: Vec<u8>,
}

impl ServerIdentity {
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let static_kp = KeyPair::generate(&mut rng);
        let root = KeyPair::generate(&mut rng);
        let intermediate = KeyPair::generate(&mut rng);
        let now = now_secs();
        let (not_before, not_after) = (now - 3_600, now + 10 * 365 * 86_400);

        let intermediate_details = noise_certificate::Details {
            serial: Some(1),
            issuer_serial: Some(0),
            key: Some(intermediate.public_key.public_key_bytes().to_vec()),
            not_before: Some(not_before as u64),
            not_after: Some(not_after as u64),
            ..Default::default()
        }
        .encode_to_vec();
        let leaf_details = noise_certificate::Details {
            serial: Some(2),
            issuer_serial: Some(1),
            key: Some(static_kp.public_key.public_key_bytes().to_vec()),
            not_before: Some(not_before as u64),
            not_after: Some(not_after as u64),
            ..Default::default()
        }
        .encode_to_vec();
        let sign = |kp: &KeyPair, msg: &[u8]| -> Vec<u8> {
            kp.private_key
                .calculate_signature(msg, &mut rand::rng())
                .map(|s| s.to_vec())
                .unwrap_or_default()
        };
        let chain = wa::CertChain {
            intermediate: buffa::MessageField::some(wa::cert_chain::NoiseCertificate {
                signature: Some(sign(&root, &intermediate_details)),
                details: Some(intermediate_details),
                ..Default::default()
            }),
            leaf: buffa::MessageField::some(wa::cert_chain::NoiseCertificate {
                signature: Some(sign(&intermediate, &leaf_details)),
                details: Some(leaf_details),
                ..Default::default()
            }),
            ..Default::default()
        }
        .encode_to_vec();
        Self { static_kp, chain }
    }

    pub fn static_pub(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.static_kp.public_key.public_key_bytes());
        out
    }
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
