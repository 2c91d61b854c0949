//! Pairing by phone code (WhatsApp's "link with phone number"): the companion shows
//! an 8-character code; the phone's user types it in.
//!
//! 1. companion → server `link_code_companion_reg stage=companion_hello`: its
//!    ephemeral key wrapped with the code (PBKDF2 + AES-CTR); we answer with a ref.
//! 2. the phone, given the code, unwraps that key, wraps its own ephemeral with the
//!    same code and sends `primary_hello` (with its identity key) to the companion;
//! 3. companion → server `companion_finish`: a key bundle encrypted to the ephemeral
//!    DH; the phone decrypts it, derives the ADV secret from both DHs and answers
//!    with `pair-success` exactly as after a QR scan.

use anyhow::{anyhow, bail, Context, Result};
use wacore::pair_code::PairCodeUtils;
use wacore_libsignal::protocol::{KeyPair, PublicKey};

/// A companion waiting for its code to be entered.
pub struct CodeOffer {
    pub conn: u64,
    pub phone: String,
    pub pairing_ref: Vec<u8>,
    pub wrapped_companion_ephemeral: Vec<u8>,
    /// Set once the phone entered the code (stage 2 sent).
    pub primary_ephemeral: Option<KeyPair>,
    pub code: Option<String>,
    pub done: Option<tokio::sync::oneshot::Sender<Result<String, String>>>,
}

fn arr32(b: &[u8], what: &str) -> Result<[u8; 32]> {
    b.try_into().map_err(|_| anyhow!("{what} is not 32 bytes"))
}

/// Stage 2: unwrap the companion's key with `code` (proving the code is the one it
/// shows) and wrap ours. Returns (our ephemeral, the wrapped public key).
pub fn enter_code(offer: &CodeOffer, code: &str) -> Result<(KeyPair, Vec<u8>)> {
    let companion_eph = PairCodeUtils::decrypt_primary_ephemeral_pub(&offer.wrapped_companion_ephemeral, code)
        .map_err(|e| anyhow!("unwrap companion ephemeral: {e}"))?;
    // A wrong code yields 32 random-looking bytes; it fails later, at the bundle's AEAD.
    PublicKey::from_djb_public_key_bytes(&companion_eph).map_err(|e| anyhow!("companion ephemeral: {e}"))?;
    let primary = KeyPair::generate(&mut rand::rng());
    let pub32 = arr32(primary.public_key.public_key_bytes(), "ephemeral")?;
    Ok((primary, PairCodeUtils::encrypt_ephemeral_pub(&pub32, code).to_vec()))
}

/// Stage 3: decrypt the companion's key bundle; returns its identity key and the
/// ADV secret both sides now share.
pub fn open_key_bundle(
    primary_ephemeral: &KeyPair,
    account: &KeyPair,
    wrapped_companion_ephemeral: &[u8],
    code: &str,
    wrapped_bundle: &[u8],
) -> Result<([u8; 32], [u8; 32])> {
    let companion_eph = PairCodeUtils::decrypt_primary_ephemeral_pub(wrapped_companion_ephemeral, code)
        .map_err(|e| anyhow!("unwrap companion ephemeral: {e}"))?;
    let companion_eph = PublicKey::from_djb_public_key_bytes(&companion_eph).map_err(|e| anyhow!("{e}"))?;
    let eph_shared = primary_ephemeral.private_key.calculate_agreement(&companion_eph).map_err(|e| anyhow!("{e}"))?;
    if wrapped_bundle.len() < 32 + 12 + 16 {
        bail!("key bundle too short");
    }
    let (salt, rest) = wrapped_bundle.split_at(32);
    let (iv, sealed) = rest.split_at(12);
    let mut key = [0u8; 32];
    wacore::crypto::hkdf_sha256_into(&eph_shared, Some(salt), b"link_code_pairing_key_bundle_encryption_key", &mut key)
        .map_err(|_| anyhow!("hkdf"))?;
    let iv: [u8; 12] = iv.try_into().context("iv")?;
    let mut bundle = Vec::new();
    wacore_libsignal::crypto::aes_256_gcm_decrypt(&key, &iv, b"", sealed, &mut bundle)
        .map_err(|e| anyhow!("key bundle does not decrypt (wrong code?): {e:?}"))?;
    if bundle.len() != 96 {
        bail!("key bundle is {} bytes, expected 96", bundle.len());
    }
    let companion_identity = arr32(&bundle[..32], "companion identity")?;
    if &bundle[32..64] != account.public_key.public_key_bytes() {
        bail!("key bundle names another primary identity");
    }
    let identity_pub = PublicKey::from_djb_public_key_bytes(&companion_identity).map_err(|e| anyhow!("{e}"))?;
    let identity_shared = account.private_key.calculate_agreement(&identity_pub).map_err(|e| anyhow!("{e}"))?;
    let combined = [&eph_shared[..], &identity_shared[..], &bundle[64..96]].concat();
    let mut adv_secret = [0u8; 32];
    wacore::crypto::hkdf_sha256_into(&combined, None, b"adv_secret", &mut adv_secret).map_err(|_| anyhow!("hkdf"))?;
    Ok((companion_identity, adv_secret))
}
