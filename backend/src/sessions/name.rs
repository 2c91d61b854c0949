//! Session names: what users call their linked accounts.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionName(String);

impl SessionName {
    pub fn parse(raw: &str) -> Result<Self, crate::api::Problem> {
        let name = raw.trim();
        let len = name.chars().count();
        if len == 0 || len > 64 {
            return Err(crate::api::Problem::validation("name must be 1 to 64 characters."));
        }
        if name.chars().any(char::is_control) {
            return Err(crate::api::Problem::validation("name must not contain control characters."));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}
