//! Webhook signatures, two schemes over one secret:
//!
//! - Standard Webhooks (`webhook-signature: v1,<base64>`): HMAC-SHA256 over
//!   `"{webhook-id}.{webhook-timestamp}.{body}"`, keyed with [`standard_key`].
//! - The original `X-Wahub-Signature: sha256=<hex>`: HMAC-SHA256 over
//!   `"{timestamp}.{body}"`, keyed with the secret's UTF-8 bytes.
//!
//! Binding the timestamp into the MAC lets receivers refuse replays of old deliveries.

use base64::alphabet::STANDARD as ALPHABET;
use base64::engine::general_purpose::STANDARD as B64;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const WHSEC: &str = "whsec_";

/// Standard base64, padded or not: the libraries add the padding a secret lacks.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &ALPHABET,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC takes keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return Vec::new();
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// The value of `X-Wahub-Signature`: `sha256=<hex>`.
pub fn signature(secret: &[u8], timestamp: i64, body: &str) -> String {
    let mac = hmac(secret, &[timestamp.to_string().as_bytes(), b".", body.as_bytes()]);
    format!("sha256={}", hex::encode(mac))
}

/// The Standard Webhooks key of a secret: a `whsec_<base64>` secret (standard alphabet,
/// padding optional) is its decoded bytes, as every `standardwebhooks` library reads it;
/// any other secret, such as one a user chose before this scheme existed or one generated
/// by earlier versions (URL-safe alphabet), is its UTF-8 bytes.
pub fn standard_key(secret: &[u8]) -> Vec<u8> {
    secret
        .strip_prefix(WHSEC.as_bytes())
        .and_then(|rest| LENIENT.decode(rest).ok())
        .filter(|key| !key.is_empty())
        .unwrap_or_else(|| secret.to_vec())
}

/// The secret in the form Standard Webhooks libraries take: itself when it already is
/// `whsec_<base64>`, else `whsec_` + base64 of its bytes.
pub fn standard_secret(secret: &[u8]) -> String {
    format!("{WHSEC}{}", B64.encode(standard_key(secret)))
}

/// The value of `webhook-signature`: `v1,<base64>`.
pub fn standard_signature(secret: &[u8], msg_id: &str, timestamp: i64, body: &str) -> String {
    let key = standard_key(secret);
    let mac = hmac(&key, &[msg_id.as_bytes(), b".", timestamp.to_string().as_bytes(), b".", body.as_bytes()]);
    format!("v1,{}", B64.encode(mac))
}

/// A new generated secret: 256 random bits as `whsec_<base64>`.
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("{WHSEC}{}", B64.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_known_vector() {
        // python3 -c 'import hmac,hashlib;print(hmac.new(b"key",b"1700000000.{}",hashlib.sha256).hexdigest())'
        assert_eq!(
            signature(b"key", 1_700_000_000, "{}"),
            "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
    }

    #[test]
    fn matches_the_standard_webhooks_vector() {
        // The example of the Standard Webhooks specification and its reference libraries.
        let secret = b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let sig = standard_signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, r#"{"test": 2432232314}"#);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_map_to_one_key() {
        let generated = new_secret();
        assert_eq!(standard_secret(generated.as_bytes()), generated, "a whsec_ secret is used as it is");
        assert_eq!(standard_key(generated.as_bytes()).len(), 32);
        // A chosen secret: its bytes, shown base64-encoded.
        assert_eq!(standard_secret(b"a-test-secret-of-some-length"), "whsec_YS10ZXN0LXNlY3JldC1vZi1zb21lLWxlbmd0aA==");
        // An old generated secret with URL-safe characters does not decode as standard base64.
        let old = "whsec_Zm9v-_ZhaGVsbG8td29ybGQtaGVsbG8td29ybGQ";
        assert_eq!(standard_key(old.as_bytes()), old.as_bytes());
        // Unpadded standard base64 decodes, as the libraries read it.
        assert_eq!(standard_key(b"whsec_Zm9vYmFy"), b"foobar");
        assert_eq!(standard_key(b"whsec_Zm9vYg"), b"foob");
    }
}
