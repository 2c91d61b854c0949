//! Session names: what users call their linked accounts.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("name must be 1 to 64 characters.")]
    Length,
    #[error("name must not contain control characters.")]
    Control,
}

impl SessionName {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let name = raw.trim();
        let len = name.chars().count();
        if len == 0 || len > 64 {
            return Err(NameError::Length);
        }
        if name.chars().any(char::is_control) {
            return Err(NameError::Control);
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
