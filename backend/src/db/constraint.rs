//! Which unique constraint a failed write ran into, by its name (PostgreSQL names it;
//! SQLite names the columns instead), so callers answer a precise problem instead of
//! guessing from error text.

use sea_orm::{DbErr, SqlErr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unique {
    /// `users.email`
    UserEmail,
    /// `idx_sessions_user_name`: session names are unique per user.
    SessionName,
    /// `idx_sessions_one_primary`: at most one primary session per user.
    OnePrimary,
    /// `idx_messages_session_external`: a network message is stored once per session.
    MessageExternalId,
}

impl Unique {
    const ALL: [Unique; 4] = [Unique::UserEmail, Unique::SessionName, Unique::OnePrimary, Unique::MessageExternalId];

    /// The PostgreSQL constraint name and the SQLite column list of this constraint.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Unique::UserEmail => ("users_email_key", "users.email"),
            Unique::SessionName => ("idx_sessions_user_name", "sessions.user_id, sessions.name"),
            Unique::OnePrimary => ("idx_sessions_one_primary", "sessions.user_id"),
            Unique::MessageExternalId => {
                ("idx_messages_session_external", "messages.session_id, messages.direction, messages.external_id")
            }
        }
    }
}

/// The unique constraint `err` violated, if it is one wahub knows.
pub fn violated(err: &DbErr) -> Option<Unique> {
    let Some(SqlErr::UniqueConstraintViolation(message)) = err.sql_err() else { return None };
    Unique::ALL.into_iter().find(|u| {
        let (pg, sqlite) = u.names();
        message.contains(&format!("\"{pg}\"")) || message.trim_end().ends_with(&format!("failed: {sqlite}"))
    })
}

/// A failure PostgreSQL reports when concurrent transactions collided (deadlock or
/// serialization failure): nothing was written and running the transaction again is safe.
pub fn transient(err: &DbErr) -> bool {
    let text = err.to_string();
    text.contains("deadlock detected") || text.contains("could not serialize access")
}
