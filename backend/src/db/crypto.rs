//! AES-256-GCM sealing of sensitive columns.

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Nonce};

const NONCE_LEN: usize = 12;

/// Encrypts and decrypts values with one 256-bit key. Output layout: nonce ‖ ciphertext.
pub struct Cipher {
    aead: Aes256Gcm,
}

impl Cipher {
    pub fn new(key: [u8; 32]) -> Self {
        Self { aead: Aes256Gcm::new(&key.into()) }
    }

    pub fn encrypt(&self, plain: &[u8], aad: &[u8]) -> Vec<u8> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        // Encryption with a valid key and in-memory buffers cannot fail.
        let sealed = self.aead.encrypt(&nonce, Payload { msg: plain, aad }).unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// `None` when the value was not sealed with this key (or was tampered with).
    pub fn decrypt(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        #[allow(deprecated)] // generic-array 0.14 API, still what aes-gcm 0.10 takes
        self.aead.decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad }).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_key() {
        let c = Cipher::new([7; 32]);
        let sealed = c.encrypt(b"secret", b"ctx");
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(c.decrypt(&sealed, b"ctx").as_deref(), Some(&b"secret"[..]));
        assert_eq!(c.decrypt(&sealed, b"other"), None);
        assert_eq!(Cipher::new([8; 32]).decrypt(&sealed, b"ctx"), None);
        assert_ne!(c.encrypt(b"secret", b"ctx"), sealed, "nonce must be random");
    }
}
