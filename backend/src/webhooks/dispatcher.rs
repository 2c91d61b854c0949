//! Delivers due webhook deliveries: claims a row, POSTs it signed, records the result.
//!
//! A row is claimed by bumping its `attempts` from the value just read and pushing
//! `next_attempt_at` past the request timeout (a lease), so no two workers send it at
//! once and no transaction is held across the HTTP call. A crash mid-request leaves
//! the lease to run out and the row is sent again: at-least-once, never lost.
//!
//! On PostgreSQL the due rows are read `FOR UPDATE SKIP LOCKED` in the claiming
//! transaction, so the nodes of a cluster share the work instead of racing for the same
//! rows (the attempts check still decides who owns a row).
//!
//! Each endpoint has at most one delivery in flight, and only its oldest pending
//! delivery is ever sent: a later event never overtakes an earlier one (a retry holds
//! back what came after it), and a slow endpoint holds one of the slots, not all.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::LockBehavior;
use sea_orm::sea_query::{Alias, Expr, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use tokio::task::JoinSet;
use uuid::Uuid;

use super::retry::{self, Attempt, Verdict};
use super::WebhookService;
use super::{service, sign};
use crate::db::entities::{webhook, webhook_delivery};

/// Deliveries in flight at once, over all endpoints (one per endpoint at most).
const CONCURRENCY: usize = 16;
const BATCH: u64 = 64;
const LEASE_MARGIN: Duration = Duration::from_secs(30);
/// Finished deliveries stay in the log this long.
const LOG_RETENTION_DAYS: i64 = 30;
const PURGE_EVERY: Duration = Duration::from_secs(3600);

const UNREACHABLE: &str = "unreachable";

struct Dispatcher {
    svc: WebhookService,
    client: reqwest::Client,
    policy: crate::net::TargetPolicy,
    retry_base: Duration,
    max_attempts: i32,
    lease: Duration,
    /// Endpoints with a delivery in flight.
    busy: Mutex<HashSet<Uuid>>,
}

/// Marks an endpoint busy while its delivery runs; also released when the task is aborted.
struct Busy {
    d: Arc<Dispatcher>,
    webhook_id: Uuid,
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.d.busy().remove(&self.webhook_id);
    }
}

/// Delivers due deliveries until aborted (dropping it aborts the requests in flight).
pub async fn run(svc: WebhookService) {
    let timeout = Duration::from_millis(svc.settings.webhooks.webhook_timeout_ms.max(1));
    let policy = crate::net::TargetPolicy::from_settings(&svc.settings);
    let client = crate::net::outbound_client(
        policy,
        crate::net::OutboundOptions {
            timeout,
            connect_timeout: timeout.min(Duration::from_secs(10)),
            user_agent: concat!("wahub-webhooks/", env!("CARGO_PKG_VERSION")),
            proxy: svc.settings.webhooks.outbound_proxy.clone(),
        },
    );
    let client = match client {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook HTTP client; webhooks are not delivered");
            return std::future::pending().await;
        }
    };
    let poll = Duration::from_millis(svc.settings.webhooks.webhook_poll_ms.max(10));
    let d = Arc::new(Dispatcher {
        retry_base: Duration::from_millis(svc.settings.webhooks.webhook_retry_base_ms.max(1)),
        max_attempts: svc.settings.webhooks.webhook_max_attempts.max(1).try_into().unwrap_or(i32::MAX),
        lease: timeout + LEASE_MARGIN,
        busy: Mutex::new(HashSet::new()),
        client,
        policy,
        svc,
    });
    let mut in_flight = JoinSet::new();
    let mut next_purge = tokio::time::Instant::now();
    loop {
        while in_flight.try_join_next().is_some() {}
        if tokio::time::Instant::now() >= next_purge {
            next_purge += PURGE_EVERY;
            if let Err(e) = purge_finished(d.db()).await {
                tracing::warn!(error = %e, "webhook delivery log purge failed");
            }
        }
        let backlog = match d.dispatch_due(&mut in_flight).await {
            Ok(backlog) => backlog,
            Err(e) => {
                tracing::warn!(error = %e, "webhook dispatch failed");
                false
            }
        };
        // Go on as soon as a delivery finishes (its endpoint's next one may be due),
        // or after a poll when nothing is in flight.
        if in_flight.is_empty() {
            if !backlog {
                tokio::time::sleep(poll).await;
            }
        } else {
            let _ = tokio::time::timeout(poll, in_flight.join_next()).await;
        }
    }
}

impl Dispatcher {
    fn db(&self) -> &DatabaseConnection {
        &self.svc.db
    }

    fn busy(&self) -> std::sync::MutexGuard<'_, HashSet<Uuid>> {
        self.busy.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts due deliveries in the free slots; `true` when more may be due than fitted.
    async fn dispatch_due(self: &Arc<Self>, in_flight: &mut JoinSet<()>) -> Result<bool, DbErr> {
        let free = CONCURRENCY.saturating_sub(in_flight.len());
        if free == 0 {
            return Ok(true);
        }
        let batch = BATCH.min(free as u64);
        let busy: Vec<Uuid> = self.busy().iter().copied().collect();
        let txn = self.db().begin().await?;
        let mut due = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::Status.eq("pending"))
            .filter(webhook_delivery::Column::NextAttemptAt.lte(Utc::now()))
            .filter(webhook_delivery::Column::WebhookId.is_not_in(busy))
            .filter(Expr::exists(older_pending()).not())
            .order_by_asc(webhook_delivery::Column::NextAttemptAt)
            .limit(batch);
        if txn.get_database_backend() == DatabaseBackend::Postgres {
            due = due.lock_with_behavior(sea_orm::sea_query::LockType::Update, LockBehavior::SkipLocked);
        }
        let due = due.all(&txn).await?;
        let full = due.len() as u64 == batch;
        let mut claimed = Vec::with_capacity(due.len());
        for row in due {
            if let Some(row) = self.claim(&txn, row).await? {
                claimed.push(row);
            }
        }
        txn.commit().await?;
        for row in claimed {
            // Marked before the task starts, so the next round cannot pick the endpoint again.
            self.busy().insert(row.webhook_id);
            let busy = Busy { d: self.clone(), webhook_id: row.webhook_id };
            let me = self.clone();
            in_flight.spawn(async move {
                let _busy = busy;
                me.deliver(row).await
            });
        }
        Ok(full)
    }

    /// Takes the row unless someone else did since it was read.
    async fn claim<C: ConnectionTrait>(
        &self,
        conn: &C,
        mut row: webhook_delivery::Model,
    ) -> Result<Option<webhook_delivery::Model>, DbErr> {
        let lease_until = Utc::now() + chrono::Duration::from_std(self.lease).unwrap_or_default();
        let res = webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::Attempts, Expr::value(row.attempts + 1))
            .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(lease_until))
            .filter(webhook_delivery::Column::Id.eq(row.id))
            .filter(webhook_delivery::Column::Status.eq("pending"))
            .filter(webhook_delivery::Column::Attempts.eq(row.attempts))
            .exec(conn)
            .await?;
        if res.rows_affected != 1 {
            return Ok(None);
        }
        row.attempts += 1;
        Ok(Some(row))
    }

    async fn deliver(&self, row: webhook_delivery::Model) {
        let outcome = match webhook::Entity::find_by_id(row.webhook_id).one(self.db()).await {
            // Deleted meanwhile: its deliveries went with it.
            Ok(None) => return,
            Ok(Some(hook)) if !hook.active => Outcome::give_up(None, "the endpoint is paused (active: false)"),
            Ok(Some(hook)) => match service::open_secret(&self.svc.cipher, &hook) {
                None => Outcome::give_up(None, "the signing secret cannot be decrypted"),
                Some(secret) => self.outcome(&row, self.post(&hook.url, &secret, &row).await),
            },
            Err(e) => {
                tracing::warn!(delivery_id = %row.id, error = %e, "cannot load webhook");
                Outcome::retry(None, format!("database: {e}"), self.retry_base)
            }
        };
        if let Err(e) = self.record(&row, outcome).await {
            // The lease runs out and the row is sent again.
            tracing::warn!(delivery_id = %row.id, error = %e, "cannot record webhook delivery result");
        }
    }

    async fn post(&self, url: &str, secret: &[u8], row: &webhook_delivery::Model) -> Attempt {
        // Names are checked by the client's resolver on the address it connects to;
        // address literals never reach a resolver, so they are checked here.
        let allowed = url::Url::parse(url).ok().is_some_and(|u| crate::net::check_literal(self.policy, &u).is_ok());
        if !allowed {
            return Attempt::Transport(UNREACHABLE.into());
        }
        let timestamp = Utc::now().timestamp();
        let msg_id = row.id.to_string();
        let sent = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &msg_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", sign::standard_signature(secret, &msg_id, timestamp, &row.payload))
            .header("X-Wahub-Event", &row.event)
            .header("X-Wahub-Delivery", &msg_id)
            .header("X-Wahub-Timestamp", timestamp.to_string())
            .header("X-Wahub-Signature", sign::signature(secret, timestamp, &row.payload))
            .header("X-Wahub-Attempt", row.attempts.to_string())
            .body(row.payload.clone())
            .send()
            .await;
        match sent {
            Ok(resp) => Attempt::Status { code: resp.status().as_u16(), retry_after: retry_after(&resp) },
            Err(e) if e.is_timeout() => {
                Attempt::Transport(format!("timed out after {} ms", self.svc.settings.webhooks.webhook_timeout_ms))
            }
            // Never the OS error: "connection refused" versus "timed out" would turn wahub
            // into a port scanner of whatever network it sits in.
            Err(_) => Attempt::Transport(UNREACHABLE.into()),
        }
    }

    fn outcome(&self, row: &webhook_delivery::Model, attempt: Attempt) -> Outcome {
        let (code, error) = match &attempt {
            Attempt::Status { code, .. } => (Some(i32::from(*code)), format!("HTTP {code}")),
            Attempt::Transport(why) => (None, why.clone()),
        };
        match retry::verdict(&attempt) {
            Verdict::Delivered => Outcome::Delivered { code },
            Verdict::GiveUp => Outcome::give_up(code, error),
            Verdict::Retry if row.attempts >= self.max_attempts => {
                Outcome::give_up(code, format!("gave up after {} attempts; last: {error}", row.attempts))
            }
            Verdict::Retry => {
                let retry_after = match attempt {
                    Attempt::Status { retry_after, .. } => retry_after,
                    Attempt::Transport(_) => None,
                };
                let attempt_no = u32::try_from(row.attempts).unwrap_or(1);
                Outcome::retry(code, error, retry::next_delay(self.retry_base, attempt_no, retry_after))
            }
        }
    }

    async fn record(&self, row: &webhook_delivery::Model, outcome: Outcome) -> Result<(), DbErr> {
        use webhook_delivery::Column as C;
        let now = Utc::now();
        let update = webhook_delivery::Entity::update_many();
        let update = match outcome {
            Outcome::Delivered { code } => update
                .col_expr(C::Status, Expr::value("delivered"))
                .col_expr(C::LastStatusCode, Expr::value(code))
                .col_expr(C::LastError, Expr::value(Option::<String>::None))
                .col_expr(C::DeliveredAt, Expr::value(Some(now))),
            Outcome::Retry { code, error, after } => update
                .col_expr(C::NextAttemptAt, Expr::value(now + chrono::Duration::from_std(after).unwrap_or_default()))
                .col_expr(C::LastStatusCode, Expr::value(code))
                .col_expr(C::LastError, Expr::value(Some(error))),
            Outcome::Failed { code, error } => update
                .col_expr(C::Status, Expr::value("failed"))
                .col_expr(C::LastStatusCode, Expr::value(code))
                .col_expr(C::LastError, Expr::value(Some(error))),
        };
        // Matching the attempt count keeps a result from a stale claim from overwriting a newer one.
        update.filter(C::Id.eq(row.id)).filter(C::Attempts.eq(row.attempts)).exec(self.db()).await?;
        Ok(())
    }
}

/// A pending delivery of the same endpoint that was queued before the outer row: the
/// outer row is not its endpoint's next one.
fn older_pending() -> SelectStatement {
    use webhook_delivery::Column as C;
    let outer = webhook_delivery::Entity;
    let older = Alias::new("older");
    let col = |c: C| Expr::col((older.clone(), c));
    let before = col(C::CreatedAt)
        .lt(Expr::col((outer, C::CreatedAt)))
        .or(col(C::CreatedAt).eq(Expr::col((outer, C::CreatedAt))).and(col(C::Id).lt(Expr::col((outer, C::Id)))));
    Query::select()
        .expr(Expr::val(1))
        .from_as(outer, older.clone())
        .and_where(col(C::WebhookId).equals((outer, C::WebhookId)))
        .and_where(col(C::Status).eq("pending"))
        .and_where(before)
        .to_owned()
}

async fn purge_finished(db: &DatabaseConnection) -> Result<u64, DbErr> {
    let cutoff = Utc::now() - chrono::Duration::days(LOG_RETENTION_DAYS);
    let res = webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::Status.ne("pending"))
        .filter(webhook_delivery::Column::CreatedAt.lt(cutoff))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

enum Outcome {
    Delivered { code: Option<i32> },
    Retry { code: Option<i32>, error: String, after: Duration },
    Failed { code: Option<i32>, error: String },
}

impl Outcome {
    fn give_up(code: Option<i32>, error: impl Into<String>) -> Self {
        Outcome::Failed { code, error: error.into() }
    }

    fn retry(code: Option<i32>, error: impl Into<String>, after: Duration) -> Self {
        Outcome::Retry { code, error: error.into(), after }
    }
}

/// `Retry-After` in seconds (the HTTP-date form is ignored).
fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    let raw = resp.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    raw.trim().parse::<u64>().ok().map(Duration::from_secs)
}
