//! Builds the application from settings and runs it on a given listener until a
//! shutdown signal: the same path for `wahub serve` and for tests on port 0.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use rand::RngCore;

use crate::auth::jwt::JwtKeys;
use crate::auth::rate_limit::LoginLimiter;
use crate::auth::AuthService;
use crate::cluster::{resolve_node_id, NodeRegistry};
use crate::config::Settings;
use crate::db::crypto::Cipher;
use crate::domain::EngineKind;
use crate::engine::sim::{SimEngine, SimTimings};
use crate::engine::SharedEngine;
use crate::events::{Batching, EventHub};
use crate::http::AppState;
use crate::messages::MessageStore;
use crate::sessions::leases::Leases;
use crate::sessions::{PhoneClaims, SessionContext, SessionManager};
use crate::webhooks::{WebhookOutbox, WebhookService};

/// How often a cluster node compares its live channels with the log: the longest a lost
/// NATS frame with no successor stays undelivered.
const FANOUT_SWEEP: Duration = Duration::from_secs(1);
/// How often SQLite's WAL is copied back into the database file (see `db::checkpoint`).
/// Small steps: at 1,000 sockets and no rate cap, every 100 ms gave 3,900-4,100 published/s
/// at end-to-end p99 13.4 ms; every 250 ms 3,300-4,100/s at 16-17 ms; every second
/// 3,600-3,700/s at 24-29 ms (the writer checkpointing itself: 3,200/s at 14.5-15.3 ms).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
const KEY_CHECK: &str = "encryption_key_check";
const KEY_CHECK_PLAIN: &[u8] = b"wahub encryption key check";

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::thread_rng().fill_bytes(&mut b);
    b
}

/// The engine-key encryption key: configured, or generated once into `data_dir/wahub.key`
/// (outside the database, so a database dump alone does not reveal the keys).
fn encryption_key(settings: &Settings) -> anyhow::Result<[u8; 32]> {
    let encoded = match &settings.database.encryption_key {
        Some(k) => k.expose().trim().to_owned(),
        None => {
            let path = settings.server.data_dir.join("wahub.key");
            if !path.exists() {
                crate::db::files::write_private(&path, &B64.encode(random_bytes::<32>()))
                    .with_context(|| format!("cannot create {}", path.display()))?;
                tracing::info!(path = %path.display(), "generated a new encryption key; back it up with the database");
            }
            std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?.trim().to_owned()
        }
    };
    let raw = B64.decode(&encoded).context("encryption_key must be base64")?;
    raw.try_into().map_err(|_| anyhow::anyhow!("encryption_key must be 32 bytes (base64 of 32 random bytes)"))
}

/// Refuses to start with a key that differs from the one the database was written with.
async fn check_key(db: &sea_orm::DatabaseConnection, cipher: &Cipher) -> anyhow::Result<()> {
    let sealed = B64.encode(cipher.encrypt(KEY_CHECK_PLAIN, KEY_CHECK.as_bytes()));
    let stored = crate::db::meta::get_or_insert(db, KEY_CHECK, sealed).await?;
    let ok = B64
        .decode(stored)
        .ok()
        .and_then(|raw| cipher.decrypt(&raw, KEY_CHECK.as_bytes()))
        .is_some_and(|plain| plain == KEY_CHECK_PLAIN);
    if !ok {
        anyhow::bail!(
            "the configured encryption key is not the one this database was created with; \
             restore the original wahub.key / WAHUB_ENCRYPTION_KEY (refusing to start rather than lose session keys)"
        );
    }
    Ok(())
}

fn build_engine(kind: EngineKind, settings: &Settings) -> anyhow::Result<(SharedEngine, Option<Arc<SimEngine>>)> {
    match kind {
        EngineKind::Sim => {
            let sim = Arc::new(SimEngine::new(SimTimings {
                qr_first: Duration::from_millis(settings.sessions.qr_first_timeout_ms),
                qr_next: Duration::from_millis(settings.sessions.qr_next_timeout_ms),
                qr_max: settings.sessions.qr_max_attempts,
                pair_delay: Duration::from_millis(settings.sim.sim_pair_delay_ms),
                pair_code_timeout: Duration::from_millis(settings.sessions.pair_code_timeout_ms),
                connect_delay: Duration::from_millis(settings.sim.sim_connect_delay_ms),
                close_delay: Duration::from_millis(settings.sim.sim_close_delay_ms),
                stream_check: Some(settings.sim.sim_stream_check_ms).filter(|ms| *ms > 0).map(Duration::from_millis),
            }));
            Ok((sim.clone(), Some(sim)))
        }
        #[cfg(feature = "whatsapp")]
        EngineKind::Whatsapp => Ok((Arc::new(crate::engine::whatsapp::WhatsappEngine::from_settings(settings)), None)),
        #[cfg(not(feature = "whatsapp"))]
        EngineKind::Whatsapp => anyhow::bail!("this build has no whatsapp engine (build with --features whatsapp)"),
    }
}

/// What every exported span says about its origin (OpenTelemetry resource conventions).
fn otel_resource(node_id: &str) -> Vec<(String, crate::otel::Value)> {
    use crate::otel::Value::Str;
    vec![
        ("service.name".into(), Str("wahub".into())),
        ("service.version".into(), Str(env!("CARGO_PKG_VERSION").into())),
        ("service.instance.id".into(), Str(node_id.to_owned())),
    ]
}

/// Connects the database, loads or creates secrets and wires every component.
pub async fn build_state(settings: Settings) -> anyhow::Result<Arc<AppState>> {
    let settings = Arc::new(settings);
    if settings.database.database_url.is_none() || settings.database.encryption_key.is_none() {
        crate::db::files::create_private_dir(&settings.server.data_dir)
            .with_context(|| format!("cannot create data dir {}", settings.server.data_dir.display()))?;
    }
    let db = crate::db::connect(&settings.database_url()).await.context("cannot open the database")?;
    let cipher = Arc::new(Cipher::new(encryption_key(&settings)?));
    check_key(&db, &cipher).await?;
    let jwt_secret = match &settings.auth.jwt_secret {
        Some(s) => s.expose().to_owned(),
        None => crate::auth::jwt_secret::load_or_create(&db, &cipher).await?,
    };
    let engine_kind = settings.sessions.engine;
    let (engine, sim) = build_engine(engine_kind, &settings)?;
    let node_id = resolve_node_id(settings.cluster.node_id.as_deref(), &settings.server.data_dir);
    let tracer = match &settings.server.otel_endpoint {
        Some(endpoint) => crate::otel::Tracer::start(endpoint, otel_resource(&node_id)).map_err(anyhow::Error::msg)?,
        None => crate::otel::Tracer::off(),
    };
    let nats = crate::cluster::connect_nats(&settings).await?;
    let outbox = WebhookOutbox::new();
    let hook = Arc::new(outbox.clone());
    let hub = match &nats {
        Some(client) => EventHub::clustered(
            db.clone(),
            settings.ws.ws_buffer,
            hook,
            client.clone(),
            settings.cluster.nats_prefix.clone(),
        ),
        None => EventHub::new(db.clone(), settings.ws.ws_buffer, hook),
    };
    let batching = Batching {
        max: settings.database.event_batch_max,
        wait: Duration::from_millis(settings.database.event_batch_wait_ms),
        writers: settings.database.event_writers,
    };
    let events = Arc::new(hub.with_batching(batching).with_tracer(tracer));
    let media =
        Arc::new(crate::messages::media::MediaFetcher::new(&settings).context("cannot build the media client")?);
    let messages = MessageStore::new(db.clone(), events.clone(), media);
    let webhooks = WebhookService { db: db.clone(), cipher: cipher.clone(), outbox, settings: settings.clone() };
    let ttl = Duration::from_secs(settings.cluster.lease_ttl_secs);
    let router = nats.as_ref().map(|client| {
        crate::sessions::route::CommandRouter::new(
            client.clone(),
            settings.cluster.nats_prefix.clone(),
            node_id.clone(),
            Duration::from_millis(settings.cluster.route_timeout_ms),
        )
    });
    let ctx = Arc::new(SessionContext {
        db: db.clone(),
        hub: events.clone(),
        engine,
        settings: settings.clone(),
        cipher,
        claims: PhoneClaims,
        messages: messages.clone(),
        leases: Leases::new(db.clone(), node_id.clone(), ttl),
        cluster: settings.is_cluster(),
        router,
    });
    let nodes = Arc::new(NodeRegistry::new(db.clone(), node_id, ttl, settings.is_cluster()));
    let auth = AuthService {
        db: db.clone(),
        settings: settings.clone(),
        jwt: JwtKeys::new(jwt_secret.as_bytes(), settings.auth.access_token_ttl_secs),
        login_limiter: LoginLimiter::new(
            settings.auth.login_max_failures,
            Duration::from_secs(settings.auth.login_window_secs),
        ),
        dummy_password_hash: crate::auth::password::dummy_hash(),
        revocations: Default::default(),
        ip_budget: crate::auth::ip_budget::IpBudget::new(
            settings.auth.auth_ip_budget,
            Duration::from_secs(settings.auth.auth_ip_window_secs),
        ),
        hash_gate: crate::auth::ip_budget::HashGate::new(settings.auth.auth_ip_concurrent_hashes as usize),
        cache: crate::auth::cache::CredentialCache::new(Duration::from_millis(settings.auth.auth_cache_ms)),
    };
    Ok(Arc::new(AppState {
        settings,
        db,
        auth,
        events,
        sessions: SessionManager::new(ctx),
        messages,
        webhooks,
        engine_kind,
        sim,
        create_lock: tokio::sync::Mutex::new(()),
        nodes,
        shutting_down: tokio::sync::watch::Sender::new(false),
    }))
}

/// PostgreSQL advisory lock key of the database-wide purges ("wahub" + 1).
const HOUSEKEEPING_LOCK: i64 = 0x7761_6875_6201;

/// Periodic housekeeping: idle sessions, old events, expired refresh tokens.
async fn housekeeping(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(Duration::from_secs(state.settings.server.housekeeping_secs.max(1)));
    loop {
        tick.tick().await;
        if let Err(e) = state.sessions.stop_idle().await {
            tracing::warn!(error = %e, "idle sweep failed");
        }
        // Purges are for the whole database: one node of a cluster at a time.
        let purged = crate::db::exclusive::run_exclusive(&state.db, HOUSEKEEPING_LOCK, async {
            if let Err(e) = state.events.purge(state.settings.database.event_retention).await {
                tracing::warn!(error = %e, "event purge failed");
            }
            if let Err(e) = crate::auth::refresh::purge_expired(&state.auth).await {
                tracing::warn!(error = %e, "refresh token purge failed");
            }
        })
        .await;
        if let Err(e) = purged {
            tracing::warn!(error = %e, "cannot take the housekeeping lock");
        }
    }
}

/// SQLite: copies the WAL back into the database file every `CHECKPOINT_EVERY`, beside the
/// writer (see `db::checkpoint`).
async fn checkpoints(url: String) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut checkpointer = None;
    let mut failing = false;
    loop {
        tick.tick().await;
        if checkpointer.is_none() {
            checkpointer = crate::db::checkpoint::Checkpointer::open(&url)
                .await
                .inspect_err(|e| tracing::warn!(error = %e, "cannot open the checkpoint connection"))
                .ok();
        }
        let Some(c) = checkpointer.as_ref() else { continue };
        match c.passive().await {
            Ok(wal) => {
                crate::metrics::SQLITE_CHECKPOINTS.inc();
                crate::metrics::SQLITE_WAL_PAGES.set(wal.behind());
                if std::mem::take(&mut failing) {
                    tracing::info!("WAL checkpoints work again");
                }
            }
            Err(e) => {
                // Once per failing spell; the writer's backstop bounds the WAL meanwhile.
                if !std::mem::replace(&mut failing, true) {
                    tracing::warn!(error = %e, "WAL checkpoint failed; retrying");
                }
                checkpointer = None;
            }
        }
    }
}

/// Cluster mode: catches up sockets on frames NATS lost (see `EventHub::sweep`).
async fn fanout_sweep(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(FANOUT_SWEEP);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = state.events.sweep().await {
            tracing::warn!(error = %e, "fan-out sweep failed");
        }
    }
}

/// Keeps this node's registry row alive, with what it runs.
async fn heartbeat(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(state.nodes.beat_every());
    loop {
        tick.tick().await;
        if let Err(e) = state.nodes.heartbeat(state.sessions.live_count(), state.events.sockets()).await {
            tracing::warn!(error = %e, "node heartbeat failed");
        }
    }
}

/// Serves on `listener` until `shutdown` completes, then closes every session link
/// (keeping credentials, so the next start restores them).
pub async fn run(
    state: Arc<AppState>,
    listener: std::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    state.nodes.join().await?;
    let restored = state.sessions.restore().await?;
    if restored > 0 {
        tracing::info!(restored, "restoring paired sessions");
    }
    let mut background = vec![
        tokio::spawn(housekeeping(state.clone())),
        tokio::spawn(crate::webhooks::run_dispatcher(state.webhooks.clone())),
        tokio::spawn(heartbeat(state.clone())),
        tokio::spawn(state.sessions.clone().keep_leases()),
        tokio::spawn(state.sessions.clone().place()),
    ];
    if state.events.is_clustered() {
        background.push(tokio::spawn(fanout_sweep(state.clone())));
    }
    let url = state.settings.database_url();
    if crate::db::checkpoint::applies_to(&url) {
        background.push(tokio::spawn(checkpoints(url)));
    }
    if let Some(router) = state.sessions.router() {
        background.push(tokio::spawn(crate::sessions::route::serve_commands(
            router,
            state.db.clone(),
            state.sessions.clone(),
            state.sim.clone(),
        )));
    }
    tracing::info!(%addr, engine = state.engine_kind.as_str(), "wahub listening");
    let app = crate::http::build(state.clone());
    let server = &state.settings.server;
    let acceptor = crate::http::listener::GuardedAcceptor::new(
        listener,
        usize::try_from(server.max_connections).unwrap_or(usize::MAX),
        Duration::from_millis(server.header_read_timeout_ms),
    )?;
    let notify = state.clone();
    let shutdown = async move {
        shutdown.await;
        // Open WebSockets say goodbye (1001) instead of losing their TCP connection.
        notify.shutting_down.send_replace(true);
        if notify.settings.is_cluster() {
            // Drain at once: other nodes take the sessions over while HTTP winds down.
            let sessions = notify.sessions.clone();
            tokio::spawn(async move { sessions.shutdown().await });
        }
    };
    let served = poem::Server::new_with_acceptor(acceptor)
        .idle_timeout(Duration::from_secs(server.http_idle_timeout_secs))
        .run_with_graceful_shutdown(app, shutdown, Some(Duration::from_secs(5)))
        .await;
    for task in background {
        task.abort();
    }
    state.sessions.shutdown().await;
    if let Err(e) = state.nodes.leave().await {
        tracing::warn!(error = %e, "could not remove this node from the registry");
    }
    tracing::info!("wahub stopped");
    served.map_err(Into::into)
}

/// Binds `settings.server.bind` and serves until SIGINT/SIGTERM.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let addr: SocketAddr =
        settings.server.bind.parse().with_context(|| format!("bind {:?} is not host:port", settings.server.bind))?;
    let listener = std::net::TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
    let state = build_state(settings).await?;
    let db = state.db.clone();
    let served = run(state, listener, shutdown_signal()).await;
    // Closed, SQLite copies the WAL back and removes it: the stopped server's database is
    // its one file, so a backup of it misses nothing.
    match tokio::time::timeout(Duration::from_secs(5), db.close()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "could not close the database"),
        Err(_) => tracing::warn!("the database did not close within 5 s"),
    }
    served
}

pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received");
}
