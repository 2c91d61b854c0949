//! What an API key may do. Bearer tokens carry no scopes: they act with the user's rights.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Every GET, and the WebSocket.
    Read,
    /// Sending messages.
    Send,
    /// Creating, starting, stopping, logging out, relinking and deleting sessions;
    /// managing webhooks and API keys.
    Control,
    /// The `/api/v1/admin/` routes (the user must also be an admin).
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Send, Scope::Control, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Send => "send",
            Scope::Control => "control",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Scope::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes, stored as `read,send,...` in a fixed order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

impl Scopes {
    pub fn of(scopes: impl IntoIterator<Item = Scope>) -> Self {
        Self(scopes.into_iter().fold(0, |bits, s| bits | Self::bit(s)))
    }

    fn bit(scope: Scope) -> u8 {
        1 << (scope as u8)
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & Self::bit(scope) != 0
    }

    pub fn is_subset_of(self, other: Scopes) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// The stored form. Unknown names in stored text are ignored (they grant nothing).
    pub fn from_stored(text: &str) -> Self {
        Self::of(text.split(',').filter_map(|s| Scope::parse(s.trim())))
    }

    pub fn to_stored(self) -> String {
        self.iter().map(Scope::as_str).collect::<Vec<_>>().join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_round_trips_and_ignores_unknown_names() {
        let s = Scopes::of([Scope::Send, Scope::Read]);
        assert_eq!(s.to_stored(), "read,send");
        assert_eq!(Scopes::from_stored("read,send"), s);
        assert_eq!(Scopes::from_stored("read, bogus,admin").to_stored(), "read,admin");
        assert!(Scopes::from_stored("").is_empty());
    }

    #[test]
    fn subset_and_contains() {
        let rs = Scopes::of([Scope::Read, Scope::Send]);
        assert!(rs.contains(Scope::Read) && !rs.contains(Scope::Control));
        assert!(Scopes::of([Scope::Read]).is_subset_of(rs));
        assert!(!Scopes::of([Scope::Admin]).is_subset_of(rs));
    }
}
