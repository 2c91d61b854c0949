//! Phone numbers as WhatsApp knows them: E.164 digits without `+`.

use std::fmt;

/// A validated phone number: 8 to 15 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a phone number has 8 to 15 digits, optionally with +, spaces, dashes or brackets")]
pub struct PhoneError;

impl Phone {
    /// Accepts `+62 812-3456-7890`, `(0062) 812...`-style punctuation, and JIDs such as
    /// `6281234567890@s.whatsapp.net` or `6281234567890:12@s.whatsapp.net` (device suffix).
    pub fn parse(raw: &str) -> Result<Self, PhoneError> {
        let raw = raw.trim();
        let user = match raw.split_once('@') {
            Some((user, server)) => {
                if !matches!(server, "s.whatsapp.net" | "c.us" | "lid") {
                    return Err(PhoneError);
                }
                user.split([':', '.']).next().unwrap_or("")
            }
            None => raw,
        };
        let mut digits = String::with_capacity(user.len());
        for (i, c) in user.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => {}
                ' ' | '-' | '(' | ')' | '.' => {}
                _ => return Err(PhoneError),
            }
        }
        if (8..=15).contains(&digits.len()) {
            Ok(Phone(digits))
        } else {
            Err(PhoneError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn jid(&self) -> String {
        format!("{}@s.whatsapp.net", self.0)
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// On the wire (between nodes) a phone is its digits; reading one validates it again.
impl serde::Serialize for Phone {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Phone {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Phone::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_accepted_forms() {
        for input in [
            "6281234567890",
            "+6281234567890",
            "+62 812-3456-7890",
            "+62 (812) 3456 7890",
            "6281234567890@s.whatsapp.net",
            "6281234567890:7@s.whatsapp.net",
            " 6281234567890 ",
        ] {
            assert_eq!(Phone::parse(input).unwrap().as_str(), "6281234567890", "{input}");
        }
    }

    #[test]
    fn rejects_bad_input() {
        for input in ["", "1234567", "1234567890123456", "62812abc4567", "6281+234567", "123@g.us", "++6281234567"] {
            assert!(Phone::parse(input).is_err(), "{input}");
        }
    }
}
