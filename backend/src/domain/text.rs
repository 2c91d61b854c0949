//! `Text`: a request string that must be a JSON string. poem-openapi's `String` also
//! accepts numbers and booleans (`{"name": 42}` → "42"); the contract wants wrong
//! types refused with a 4xx instead. A `Text` never holds NUL (U+0000): PostgreSQL's
//! text type cannot store it, so it is refused here, at the boundary, with 422.
//!
//! `NetworkText` is the same for what stands in for the network (the simulated phone):
//! NUL is accepted there so the storage side's stripping can be exercised.

use std::borrow::Cow;
use std::ops::Deref;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Text(pub String);

impl Deref for Text {
    type Target = String;
    fn deref(&self) -> &String {
        &self.0
    }
}

impl From<Text> for String {
    fn from(t: Text) -> Self {
        t.0
    }
}

/// poem-openapi's `Type` for a newtype over `String`: schema `string`, the inner value raw.
macro_rules! string_type {
    ($name:ident, $pattern:expr) => {
        impl Type for $name {
            const IS_REQUIRED: bool = true;
            type RawValueType = String;
            type RawElementValueType = String;

            fn name() -> Cow<'static, str> {
                "string".into()
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Inline(Box::new(MetaSchema { pattern: $pattern, ..MetaSchema::new("string") }))
            }

            fn as_raw_value(&self) -> Option<&String> {
                Some(&self.0)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
                Box::new(std::iter::once(&self.0))
            }

            fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }
    };
}

// The schema says what the parser refuses: NUL.
string_type!(Text, Some("^[^\\u0000]*$".to_owned()));

/// The parse error's message; `error::from_poem_error` answers it with 422 `invalid_text`.
pub const NUL_REFUSED: &str = "text must not contain NUL (U+0000)";

impl ParseFromJSON for Text {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(s)) if s.contains('\0') => Err(ParseError::custom(NUL_REFUSED)),
            Some(Value::String(s)) => Ok(Text(s)),
            Some(other) => Err(ParseError::expected_type(other)),
            None => Err(ParseError::expected_input()),
        }
    }
}

/// Whether a name-like string holds control characters (NUL, escape sequences, BEL...).
pub fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Network-sourced text as it may be stored: without NUL.
pub fn without_nul(s: String) -> String {
    if s.contains('\0') {
        s.replace('\0', "")
    } else {
        s
    }
}

impl ToJSON for Text {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

/// A JSON string from what plays the network (the simulated phone): may contain NUL.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetworkText(pub String);

impl Deref for NetworkText {
    type Target = String;
    fn deref(&self) -> &String {
        &self.0
    }
}

string_type!(NetworkText, None);

impl ParseFromJSON for NetworkText {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(s)) => Ok(NetworkText(s)),
            Some(other) => Err(ParseError::expected_type(other)),
            None => Err(ParseError::expected_input()),
        }
    }
}

impl ToJSON for NetworkText {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_refused_and_stripped() {
        assert!(Text::parse_from_json(Some(Value::String("a\0b".into()))).is_err());
        assert_eq!(Text::parse_from_json(Some(Value::String("ab".into()))).ok(), Some(Text("ab".into())));
        assert!(NetworkText::parse_from_json(Some(Value::String("a\0b".into()))).is_ok());
        assert_eq!(without_nul("a\0b\0".into()), "ab");
        assert!(has_control("a\u{1b}[31m") && has_control("\u{7}") && !has_control("Zoë"));
    }
}
