//! Short-lived HS256 access tokens.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub role: String,
    pub iat: i64,
    pub exp: i64,
    /// The refresh-token family this token was issued with; revoking the family ends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fam: Option<Uuid>,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub ttl_secs: u64,
}

impl JwtKeys {
    pub fn new(secret: &[u8], ttl_secs: u64) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_secs,
        }
    }

    pub fn issue(&self, user_id: Uuid, role: &str) -> anyhow::Result<String> {
        self.issue_in_family(user_id, role, None)
    }

    pub fn issue_in_family(&self, user_id: Uuid, role: &str, family: Option<Uuid>) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims =
            Claims { sub: user_id, role: role.to_owned(), iat: now, exp: now + self.ttl_secs as i64, fam: family };
        Ok(encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?)
    }

    /// Validated claims, or `None` for an expired, tampered or malformed token.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        decode::<Claims>(token, &self.decoding, &self.validation).ok().map(|d| d.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_verify_and_reject_tampering() {
        let keys = JwtKeys::new(b"secret-secret-secret-secret-1234", 60);
        let id = Uuid::new_v4();
        let token = keys.issue(id, "user").unwrap();
        assert_eq!(keys.verify(&token).unwrap().sub, id);
        let other = JwtKeys::new(b"another-secret-another-secret-12", 60);
        assert!(other.verify(&token).is_none());
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert!(keys.verify(&tampered).is_none());
        let expired = JwtKeys { ttl_secs: 0, ..JwtKeys::new(b"secret-secret-secret-secret-1234", 0) };
        let t = expired.issue(id, "user").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert!(expired.verify(&t).is_none());
    }
}
