//! The phone: a WhatsApp account whose primary device links companions.
//!
//! Scanning a QR does what a real phone does with it: read the ref, the companion's
//! noise and identity keys and its ADV secret; sign an `ADVDeviceIdentity` for the
//! companion's identity key with the account key; wrap it in an HMAC keyed by the ADV
//! secret. The companion's answer (`pair-device-sign`) is checked with its identity key.

use anyhow::{anyhow, bail, Context, Result};
use base64::prelude::*;
use buffa::Message as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use wacore_libsignal::protocol::{KeyPair, PublicKey};
use waproto::buffa;
use waproto::whatsapp as wa;

const ADV_PREFIX_ACCOUNT_SIGNATURE: &[u8] = &[6, 0];
const ADV_PREFIX_DEVICE_SIGNATURE: &[u8] = &[6, 1];

pub struct Phone {
    pub number: String,
    pub lid_user: String,
    pub push_name: String,
    pub account: KeyPair,
    pub next_device: u16,
    /// `(code, expire seconds)` while temporarily banned.
    pub ban: Option<(u32, u64)>,
    /// The account's ADV identity id (shared by every device identity it signs).
    pub raw_id: u32,
}

impl Phone {
    pub fn new(number: &str, push_name: &str) -> Self {
        Self {
            number: number.to_owned(),
            // A LID is an opaque number; derive a stable one from the phone number.
            lid_user: format!("9{number}"),
            push_name: push_name.to_owned(),
            account: KeyPair::generate(&mut rand::rng()),
            next_device: 1,
            ban: None,
            raw_id: rand::random::<u32>(),
        }
    }
}

/// What a QR string carries.
pub struct ScannedQr {
    pub pairing_ref: String,
    pub noise_pub: [u8; 32],
    pub identity_pub: [u8; 32],
    pub adv_secret: [u8; 32],
}

fn b64_32(field: &str, what: &str) -> Result<[u8; 32]> {
    let bytes = BASE64_STANDARD.decode(field).with_context(|| format!("QR {what} is not base64"))?;
    bytes.try_into().map_err(|_| anyhow!("QR {what} is not 32 bytes"))
}

pub fn parse_qr(qr: &str) -> Result<ScannedQr> {
    let body = qr.rsplit_once("linked_devices#").map(|(_, b)| b).unwrap_or(qr);
    let parts: Vec<&str> = body.split(',').collect();
    if parts.len() < 4 {
        bail!("QR has {} fields, expected ref,noise,identity,adv[,type]", parts.len());
    }
    Ok(ScannedQr {
        pairing_ref: parts[0].to_owned(),
        noise_pub: b64_32(parts[1], "noise key")?,
        identity_pub: b64_32(parts[2], "identity key")?,
        adv_secret: b64_32(parts[3], "ADV secret")?,
    })
}

/// The signed identity sent in `pair-success`, and what is needed to check the answer.
pub struct AdvIdentity {
    pub hmac_container: Vec<u8>,
    pub details: Vec<u8>,
    pub key_index: u32,
}

pub fn sign_device_identity(
    phone: &Phone,
    companion_identity: &[u8; 32],
    adv_secret: &[u8; 32],
    key_index: u32,
) -> Result<AdvIdentity> {
    let details = wa::ADVDeviceIdentity {
        raw_id: Some(phone.raw_id),
        timestamp: Some(crate::cert::now_secs() as u64),
        key_index: Some(key_index),
        account_type: Some(wa::ADVEncryptionType::E2EE),
        device_type: Some(wa::ADVEncryptionType::E2EE),
    }
    .encode_to_vec();
    let msg = [ADV_PREFIX_ACCOUNT_SIGNATURE, &details, companion_identity].concat();
    let account_signature = phone
        .account
        .private_key
        .calculate_signature(&msg, &mut rand::rng())
        .map_err(|e| anyhow!("account signature: {e}"))?;
    let signed = wa::ADVSignedDeviceIdentity {
        details: Some(details.clone()),
        account_signature_key: Some(phone.account.public_key.public_key_bytes().to_vec()),
        account_signature: Some(account_signature.to_vec()),
        device_signature: None,
    }
    .encode_to_vec();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(adv_secret).map_err(|e| anyhow!("hmac key: {e}"))?;
    mac.update(&signed);
    let hmac_container = wa::ADVSignedDeviceIdentityHMAC {
        details: Some(signed),
        hmac: Some(mac.finalize().into_bytes().to_vec()),
        account_type: Some(wa::ADVEncryptionType::E2EE),
    }
    .encode_to_vec();
    Ok(AdvIdentity { hmac_container, details, key_index })
}

/// Checks the companion's `pair-device-sign`: the account signature is ours and the
/// device signature verifies with the companion's identity key.
pub fn verify_device_sign(
    phone: &Phone,
    sent: &AdvIdentity,
    companion_identity: &[u8; 32],
    answer: &[u8],
) -> Result<()> {
    let signed = wa::ADVSignedDeviceIdentity::decode_from_slice(answer).context("ADVSignedDeviceIdentity")?;
    if signed.details.as_deref() != Some(sent.details.as_slice()) {
        bail!("pair-device-sign changed the identity details");
    }
    let account_key = phone.account.public_key.public_key_bytes();
    if signed.account_signature_key.as_deref() != Some(account_key) {
        bail!("pair-device-sign carries another account key");
    }
    let device_signature = signed.device_signature.as_deref().ok_or_else(|| anyhow!("no device signature"))?;
    let msg = [ADV_PREFIX_DEVICE_SIGNATURE, &sent.details, companion_identity, account_key].concat();
    let key = PublicKey::from_djb_public_key_bytes(companion_identity).map_err(|e| anyhow!("identity key: {e}"))?;
    if !key.verify_signature(&msg, device_signature) {
        bail!("device signature does not verify with the companion's identity key");
    }
    Ok(())
}

const ADV_PREFIX_KEY_INDEX_LIST: &[u8] = &[6, 2];

/// The phone's signed list of its companions' key indexes (sent in usync answers).
pub fn signed_key_index_list(phone: &Phone, indexes: &[u32]) -> Vec<u8> {
    let details = wa::ADVKeyIndexList {
        raw_id: Some(phone.raw_id),
        timestamp: Some(crate::cert::now_secs() as u64),
        current_index: indexes.iter().copied().max(),
        valid_indexes: indexes.to_vec(),
        account_type: Some(wa::ADVEncryptionType::E2EE),
    }
    .encode_to_vec();
    let msg = [ADV_PREFIX_KEY_INDEX_LIST, &details].concat();
    let signature = phone.account.private_key.calculate_signature(&msg, &mut rand::rng()).map(|s| s.to_vec()).ok();
    wa::ADVSignedKeyIndexList {
        details: Some(details),
        account_signature: signature,
        account_signature_key: Some(phone.account.public_key.public_key_bytes().to_vec()),
    }
    .encode_to_vec()
}
