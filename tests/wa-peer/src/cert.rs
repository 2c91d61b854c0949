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
    /// The key that signed the intermediate (the peer's stand-in for WhatsApp's root).
    pub root_pub: [u8; 32],
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
        }
        .encode_to_vec();
        let leaf_details = noise_certificate::Details {
            serial: Some(2),
            issuer_serial: Some(1),
            key: Some(static_kp.public_key.public_key_bytes().to_vec()),
            not_before: Some(not_before as u64),
            not_after: Some(not_after as u64),
        }
        .encode_to_vec();
        let sign = |kp: &KeyPair, msg: &[u8]| -> Vec<u8> {
            kp.private_key.calculate_signature(msg, &mut rand::rng()).map(|s| s.to_vec()).unwrap_or_default()
        };
        let chain = wa::CertChain {
            intermediate: buffa::MessageField::some(wa::cert_chain::NoiseCertificate {
                signature: Some(sign(&root, &intermediate_details)),
                details: Some(intermediate_details),
            }),
            leaf: buffa::MessageField::some(wa::cert_chain::NoiseCertificate {
                signature: Some(sign(&intermediate, &leaf_details)),
                details: Some(leaf_details),
            }),
        }
        .encode_to_vec();
        let mut root_pub = [0u8; 32];
        root_pub.copy_from_slice(root.public_key.public_key_bytes());
        Self { static_kp, chain, root_pub }
    }

    pub fn static_pub(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.static_kp.public_key.public_key_bytes());
        out
    }
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wacore_libsignal::protocol::PublicKey;
    use wacore_noise::WA_CERT_PUB_KEY;

    fn intermediate(chain: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let chain = wa::CertChain::decode_from_slice(chain).expect("chain decodes");
        let i = chain.intermediate.into_option().expect("intermediate");
        (i.details.expect("details"), i.signature.expect("signature"))
    }

    /// The chain is well formed and signed, but by the peer's own root: WhatsApp's
    /// root key does not verify it, so a client that checks the chain refuses the peer.
    #[test]
    fn the_chain_verifies_with_the_peer_root_and_not_with_whatsapps() {
        let id = ServerIdentity::generate();
        let (details, signature) = intermediate(&id.chain);
        let peer_root = PublicKey::from_djb_public_key_bytes(&id.root_pub).expect("key");
        assert!(peer_root.verify_signature(&details, &signature));
        let wa_root = PublicKey::from_djb_public_key_bytes(&WA_CERT_PUB_KEY).expect("key");
        assert!(!wa_root.verify_signature(&details, &signature));
    }
}
