//! Creating users and checking their credentials.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use uuid::Uuid;

use super::AuthService;
use crate::db::entities::user;
use crate::error::Problem;

/// A syntactically plausible, lower-cased email address.
pub fn normalize_email(raw: &str) -> Result<String, Problem> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(Problem::unprocessable("invalid_email", "Enter a valid email address."))
    }
}

pub fn check_password_strength(password: &str) -> Result<(), Problem> {
    let len = password.chars().count();
    if !(8..=256).contains(&len) {
        return Err(Problem::unprocessable("weak_password", "Passwords must be 8 to 256 characters long."));
    }
    Ok(())
}

/// Creates a user. The first user of an empty database becomes `admin` unless `role` says otherwise.
pub async fn create_user(
    auth: &AuthService,
    email: &str,
    password: &str,
    display_name: Option<String>,
    force_admin: bool,
) -> Result<user::Model, Problem> {
    let email = normalize_email(email)?;
    check_password_strength(password)?;
    let display_name = display_name.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
    if display_name.as_ref().is_some_and(|d| d.chars().count() > 100) {
        return Err(Problem::validation("display_name is at most 100 characters."));
    }
    if display_name.as_deref().is_some_and(crate::domain::text::has_control) {
        return Err(Problem::validation("display_name must not contain control characters."));
    }
    // Hash first: an existing email costs the same work as a new one, so timing does not
    // tell them apart (docs/contract-notes.md).
    let hash = super::password::hash(password.to_owned()).await.map_err(Problem::internal)?;
    if user::Entity::find().filter(user::Column::Email.eq(&email)).one(&auth.db).await?.is_some() {
        return Err(Problem::conflict("email_taken", "An account with this email already exists."));
    }
    let first = user::Entity::find().count(&auth.db).await? == 0;
    let role = if force_admin || first { "admin" } else { "user" };
    let row = user::ActiveModel {
        id: Set(Uuid::new_v4()),
        email: Set(email),
        password_hash: Set(hash),
        display_name: Set(display_name),
        role: Set(role.to_owned()),
        created_at: Set(chrono::Utc::now()),
        disabled: Set(false),
        max_sessions: Set(None),
        daily_message_limit: Set(None),
    };
    row.insert(&auth.db).await.map_err(|e| {
        if crate::db::constraint::violated(&e) == Some(crate::db::constraint::Unique::UserEmail) {
            Problem::conflict("email_taken", "An account with this email already exists.")
        } else {
            Problem::internal(e)
        }
    })
}

/// The user with these credentials. Unknown email and wrong password look the same.
pub async fn verify_login(auth: &AuthService, email: &str, password: &str) -> Result<user::Model, Problem> {
    let invalid = || Problem::unauthorized("invalid_credentials", "Email or password is wrong.");
    let email = email.trim().to_lowercase();
    let found = user::Entity::find().filter(user::Column::Email.eq(&email)).one(&auth.db).await?;
    let stored = found.as_ref().map(|u| u.password_hash.clone()).unwrap_or_else(|| auth.dummy_password_hash.clone());
    let ok = super::password::verify(password.to_owned(), stored).await;
    match found {
        Some(user) if ok && user.disabled => {
            Err(Problem::forbidden("account_disabled", "This account is disabled. Ask an administrator."))
        }
        Some(user) if ok => Ok(user),
        _ => Err(invalid()),
    }
}
