//! Settings, layered: built-in defaults → optional TOML file → `WAHUB_*` environment variables.

mod secret;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::domain::EngineKind;

pub use secret::Secret;

/// Every setting, grouped by the part of wahub that reads it. Sections are flattened:
/// in the TOML file and the environment the keys stay flat (`ws_buffer`,
/// `WAHUB_WS_BUFFER`), as the README's table lists them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    #[serde(flatten)]
    pub server: ServerSettings,
    #[serde(flatten)]
    pub database: DatabaseSettings,
    #[serde(flatten)]
    pub auth: AuthSettings,
    #[serde(flatten)]
    pub sessions: SessionSettings,
    #[serde(flatten)]
    pub sim: SimSettings,
    #[serde(flatten)]
    pub webhooks: WebhookSettings,
    #[serde(flatten)]
    pub ws: WsSettings,
    #[serde(flatten)]
    pub cluster: ClusterSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerSettings {
    /// Address to listen on.
    pub bind: String,
    /// Directory for the SQLite file and the generated encryption key.
    pub data_dir: PathBuf,
    pub max_body_bytes: usize,
    /// How often idle sessions, old events and expired tokens are swept.
    pub housekeeping_secs: u64,
    pub log_format: LogFormat,
    /// Open connections at most; more wait in the kernel's backlog.
    pub max_connections: u64,
    /// A request head must arrive within this time (silent and slowloris sockets are closed).
    pub header_read_timeout_ms: u64,
    /// Keep-alive connections with nothing to read for this long are closed.
    pub http_idle_timeout_secs: u64,
    /// OTLP/HTTP endpoint (e.g. `http://otel-collector:4318`) that receives traces as
    /// protobuf at `/v1/traces`; unset, nothing is traced.
    pub otel_endpoint: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    /// `sqlite://...` or `postgres://...`; defaults to a SQLite file in `data_dir`.
    pub database_url: Option<Secret>,
    /// Base64 of 32 bytes that encrypts engine keys; generated into `data_dir/wahub.key` when unset.
    pub encryption_key: Option<Secret>,
    /// Events kept per user for `since` replay.
    pub event_retention: u64,
    /// Publishes stored in one transaction at most (group commit).
    pub event_batch_max: usize,
    /// How long a batch waits for more publishes once the queue ran dry (0: commit what is queued).
    pub event_batch_wait_ms: u64,
    /// Event writer tasks on PostgreSQL, users spread over them by id (SQLite always uses one).
    /// Two beat eight since a batch takes six statements whatever its size: fewer writers make
    /// bigger batches (docs/performance.md).
    pub event_writers: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// HS256 secret for access tokens; generated and stored in the database when unset.
    pub jwt_secret: Option<Secret>,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_days: u64,
    pub registration_open: bool,
    /// Failed logins allowed per email+IP within `login_window_secs`.
    pub login_max_failures: u32,
    pub login_window_secs: u64,
    /// Login, register and refresh attempts allowed per client IP within `auth_ip_window_secs`.
    pub auth_ip_budget: u32,
    pub auth_ip_window_secs: u64,
    /// Password checks in flight per client IP; more answer 429 at once instead of queueing.
    pub auth_ip_concurrent_hashes: u32,
    /// How long a checked user, token family or API key is remembered (0: never). A
    /// change on this node takes effect at once; other nodes of a cluster see it within this.
    pub auth_cache_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionSettings {
    pub engine: EngineKind,
    pub max_sessions_per_user: u64,
    pub idle_timeout_secs: u64,
    pub qr_first_timeout_ms: u64,
    pub qr_next_timeout_ms: u64,
    pub qr_max_attempts: u32,
    pub pair_code_timeout_ms: u64,
    pub reconnect_base_ms: u64,
    pub reconnect_max_ms: u64,
    pub reconnect_max_attempts: u32,
    pub daily_message_limit: u64,
    pub min_send_interval_ms: u64,
    /// WebSocket endpoint of the whatsapp engine; unset is WhatsApp's own. Tests and
    /// the offline wa-peer use a loopback URL.
    pub whatsapp_ws_url: Option<String>,
    /// Fixed WhatsApp Web version `primary.secondary.tertiary`; unset fetches the
    /// current one from WhatsApp (set, nothing is fetched).
    pub whatsapp_app_version: Option<String>,
    /// Paired sessions reconnecting at once after a restart.
    pub restore_concurrency: u32,
    /// Each restored session waits a random 0..this before its turn.
    pub restore_jitter_ms: u64,
    /// A start with neither a QR nor a connection by then ends `failed`/`start_timeout`.
    pub start_timeout_ms: u64,
    /// A connected link that reported nothing for this long is probed.
    pub liveness_idle_ms: u64,
    /// A probe unanswered for this long counts as a dead link: it is reconnected.
    pub liveness_probe_timeout_ms: u64,
    /// A sent message the server has not acknowledged by then is `failed` (`no ack`).
    pub ack_timeout_ms: u64,
    /// The longest an API call waits for a session's task (then 503 `session_busy`).
    pub session_call_timeout_ms: u64,
    /// On shutdown, all sessions close their links in parallel within this time.
    pub shutdown_timeout_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SimSettings {
    /// How long the simulated phone takes to finish auth after a scan.
    pub sim_pair_delay_ms: u64,
    /// How long a simulated link takes to open its socket.
    pub sim_connect_delay_ms: u64,
    /// How long a simulated link takes to close.
    pub sim_close_delay_ms: u64,
    /// How often a connected simulated link asks "the server" (the session's key store,
    /// shared by all nodes) whether a newer link logged in with its device, which then
    /// replaces it (`stream_replaced`, as WhatsApp does). 0: never (a single node).
    pub sim_stream_check_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WebhookSettings {
    pub webhook_timeout_ms: u64,
    pub webhook_max_attempts: u32,
    pub webhook_retry_base_ms: u64,
    pub webhook_poll_ms: u64,
    /// Lets webhook and media URLs reach loopback, private and link-local addresses
    /// (tests, trusted single-tenant installs). Off: such targets are refused (SSRF).
    pub allow_private_targets: bool,
    /// An http(s) proxy for every webhook and media request. Set, wahub resolves no
    /// target name itself (the proxy does the connecting and decides what is reachable).
    pub outbound_proxy: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct WsSettings {
    pub ws_ping_secs: u64,
    /// Events buffered per WebSocket before a slow client is closed with 4008.
    pub ws_buffer: usize,
    /// Browser origins (comma-separated, e.g. `https://dash.example.com`) allowed to open the
    /// WebSocket besides the server's own; upgrades without `Origin` (non-browsers) pass.
    pub ws_allowed_origins: String,
    /// Bytes of frames buffered per WebSocket before a slow client is closed with 4008
    /// (one frame always fits, however large).
    pub ws_buffer_bytes: usize,
    /// How often a WebSocket re-checks its token or API key (revocations in this process
    /// close sockets at once; this catches expiry and changes made elsewhere).
    pub ws_auth_recheck_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterSettings {
    /// This node's name; generated once into `data_dir/node_id` when unset.
    pub node_id: Option<String>,
    /// A node whose heartbeat is older than this is dead; heartbeats come every third of it.
    pub lease_ttl_secs: u64,
    /// NATS server (`nats://host:4222`); with a PostgreSQL database this turns on cluster mode.
    pub nats_url: Option<String>,
    /// Sessions one node runs at most; placement leaves the rest to other nodes.
    pub node_max_sessions: u64,
    /// First token of every NATS subject (`<prefix>.u.<user_id>`); clusters sharing one
    /// NATS server keep apart by prefix.
    pub nats_prefix: String,
    /// How long a command routed to a session's owning node may take before 503.
    pub route_timeout_ms: u64,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        Self {
            node_id: None,
            lease_ttl_secs: 15,
            nats_url: None,
            node_max_sessions: 10_000,
            nats_prefix: "wahub".into(),
            route_timeout_ms: 5_000,
        }
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            max_body_bytes: 16 * 1024 * 1024,
            housekeeping_secs: 60,
            log_format: LogFormat::Pretty,
            max_connections: 10_000,
            header_read_timeout_ms: 10_000,
            http_idle_timeout_secs: 120,
            otel_endpoint: None,
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            database_url: None,
            encryption_key: None,
            event_retention: 10_000,
            event_batch_max: 256,
            event_batch_wait_ms: 0,
            event_writers: 2,
        }
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_days: 30,
            registration_open: true,
            login_max_failures: 5,
            login_window_secs: 15 * 60,
            auth_ip_budget: 60,
            auth_ip_window_secs: 60,
            auth_ip_concurrent_hashes: 4,
            auth_cache_ms: 1_000,
        }
    }
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            engine: EngineKind::Sim,
            max_sessions_per_user: 10,
            idle_timeout_secs: 24 * 3600,
            qr_first_timeout_ms: 60_000,
            qr_next_timeout_ms: 20_000,
            qr_max_attempts: 6,
            pair_code_timeout_ms: 180_000,
            reconnect_base_ms: 1_000,
            reconnect_max_ms: 30_000,
            reconnect_max_attempts: 10,
            daily_message_limit: 1000,
            min_send_interval_ms: 1_000,
            whatsapp_ws_url: None,
            whatsapp_app_version: None,
            restore_concurrency: 8,
            restore_jitter_ms: 2_000,
            start_timeout_ms: 60_000,
            liveness_idle_ms: 60_000,
            liveness_probe_timeout_ms: 10_000,
            ack_timeout_ms: 30_000,
            session_call_timeout_ms: 10_000,
            shutdown_timeout_ms: 10_000,
        }
    }
}

impl Default for SimSettings {
    fn default() -> Self {
        Self { sim_pair_delay_ms: 1_500, sim_connect_delay_ms: 5, sim_close_delay_ms: 0, sim_stream_check_ms: 0 }
    }
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            webhook_timeout_ms: 10_000,
            webhook_max_attempts: 10,
            webhook_retry_base_ms: 2_000,
            webhook_poll_ms: 500,
            allow_private_targets: false,
            outbound_proxy: None,
        }
    }
}

/// Below this a socket would be closed for an ordinary burst of events.
const MIN_WS_BUFFER_BYTES: usize = 64 * 1024;

impl WsSettings {
    /// The configured extra origins, without trailing slashes.
    pub fn allowed_origins(&self) -> impl Iterator<Item = &str> {
        self.ws_allowed_origins.split(',').map(|o| o.trim().trim_end_matches('/')).filter(|o| !o.is_empty())
    }
}

impl Default for WsSettings {
    fn default() -> Self {
        Self {
            ws_ping_secs: 20,
            ws_buffer: 1024,
            ws_buffer_bytes: 8 * 1024 * 1024,
            ws_auth_recheck_secs: 30,
            ws_allowed_origins: String::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Settings {
    /// Defaults, then `file` (if given, else `./wahub.toml` if present), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(file, &env)
    }

    pub fn load_from(file: Option<&Path>, env: &[(String, String)]) -> Result<Self, ConfigError> {
        let mut table = toml::Table::try_from(Settings::default()).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let default_file = PathBuf::from("wahub.toml");
        let path = file.map(Path::to_path_buf).or_else(|| default_file.exists().then_some(default_file));
        if let Some(path) = path {
            let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Read(path.clone(), e))?;
            let from_file: toml::Table =
                text.parse().map_err(|e| ConfigError::Invalid(format!("{}: {e}", path.display())))?;
            // Flattened sections cannot deny unknown fields themselves: check against the known keys.
            if let Some(unknown) =
                from_file.keys().find(|k| !table.contains_key(*k) && !OPTIONAL_KEYS.contains(&k.as_str()))
            {
                return Err(ConfigError::Invalid(format!("{}: unknown setting `{unknown}`", path.display())));
            }
            table.extend(from_file);
        }
        for (name, raw) in env {
            let Some(key) = name.strip_prefix("WAHUB_") else { continue };
            let key = key.to_ascii_lowercase();
            if !table.contains_key(&key) && !OPTIONAL_KEYS.contains(&key.as_str()) {
                // Other tools' variables (WAHUB_CONFIG, WAHUB_NEW_PASSWORD, test settings)
                // share the prefix; a typo is reported but does not stop the server.
                if !matches!(key.as_str(), "config" | "new_password") && !key.starts_with("test_") {
                    eprintln!("wahub: ignoring {name}: not a setting");
                }
                continue;
            }
            let value = typed_like(table.get(&key), raw)
                .ok_or_else(|| ConfigError::Invalid(format!("{name}={raw:?} has the wrong type")))?;
            table.insert(key, value);
        }
        let settings: Settings = match toml::Value::Table(table.clone()).try_into() {
            Ok(settings) => settings,
            Err(e) => return Err(ConfigError::Invalid(name_bad_key(&table, e))),
        };
        settings.validate()?;
        Ok(settings)
    }

    /// Range checks the types cannot express; the error names the key.
    fn validate(&self) -> Result<(), ConfigError> {
        let at_least_one: &[(&str, u64)] = &[
            ("max_body_bytes", self.server.max_body_bytes as u64),
            ("housekeeping_secs", self.server.housekeeping_secs),
            ("event_retention", self.database.event_retention),
            ("event_batch_max", self.database.event_batch_max as u64),
            ("event_writers", self.database.event_writers as u64),
            ("access_token_ttl_secs", self.auth.access_token_ttl_secs),
            ("refresh_token_ttl_days", self.auth.refresh_token_ttl_days),
            ("login_window_secs", self.auth.login_window_secs),
            ("qr_first_timeout_ms", self.sessions.qr_first_timeout_ms),
            ("qr_next_timeout_ms", self.sessions.qr_next_timeout_ms),
            ("qr_max_attempts", self.sessions.qr_max_attempts.into()),
            ("pair_code_timeout_ms", self.sessions.pair_code_timeout_ms),
            ("reconnect_base_ms", self.sessions.reconnect_base_ms),
            ("reconnect_max_attempts", self.sessions.reconnect_max_attempts.into()),
            ("webhook_timeout_ms", self.webhooks.webhook_timeout_ms),
            ("ws_buffer", self.ws.ws_buffer as u64),
            ("restore_concurrency", self.sessions.restore_concurrency.into()),
            ("start_timeout_ms", self.sessions.start_timeout_ms),
            ("liveness_idle_ms", self.sessions.liveness_idle_ms),
            ("liveness_probe_timeout_ms", self.sessions.liveness_probe_timeout_ms),
            ("ack_timeout_ms", self.sessions.ack_timeout_ms),
            ("session_call_timeout_ms", self.sessions.session_call_timeout_ms),
            ("shutdown_timeout_ms", self.sessions.shutdown_timeout_ms),
            ("ws_auth_recheck_secs", self.ws.ws_auth_recheck_secs),
            ("auth_ip_concurrent_hashes", self.auth.auth_ip_concurrent_hashes.into()),
            ("auth_ip_budget", self.auth.auth_ip_budget.into()),
            ("auth_ip_window_secs", self.auth.auth_ip_window_secs),
            ("max_connections", self.server.max_connections),
            ("header_read_timeout_ms", self.server.header_read_timeout_ms),
            ("http_idle_timeout_secs", self.server.http_idle_timeout_secs),
            ("idle_timeout_secs", self.sessions.idle_timeout_secs),
            ("webhook_max_attempts", self.webhooks.webhook_max_attempts.into()),
            ("webhook_retry_base_ms", self.webhooks.webhook_retry_base_ms),
            ("webhook_poll_ms", self.webhooks.webhook_poll_ms),
            ("ws_ping_secs", self.ws.ws_ping_secs),
            ("lease_ttl_secs", self.cluster.lease_ttl_secs),
            ("node_max_sessions", self.cluster.node_max_sessions),
            ("route_timeout_ms", self.cluster.route_timeout_ms),
        ];
        if let Some((key, _)) = at_least_one.iter().find(|(_, v)| *v == 0) {
            return Err(ConfigError::Invalid(format!("{key} must be at least 1")));
        }
        let at_most: &[(&str, u64, u64)] = &[
            ("event_batch_max", self.database.event_batch_max as u64, 10_000),
            ("event_batch_wait_ms", self.database.event_batch_wait_ms, 1_000),
            ("event_writers", self.database.event_writers as u64, 64),
            ("auth_cache_ms", self.auth.auth_cache_ms, 60_000),
        ];
        if let Some((key, _, max)) = at_most.iter().find(|(_, v, max)| v > max) {
            return Err(ConfigError::Invalid(format!("{key} must be at most {max}")));
        }
        if self.ws.ws_buffer_bytes < MIN_WS_BUFFER_BYTES {
            return Err(ConfigError::Invalid(format!("ws_buffer_bytes must be at least {MIN_WS_BUFFER_BYTES}")));
        }
        if let Some(bad) = self.ws.allowed_origins().find(|o| !(o.starts_with("http://") || o.starts_with("https://")))
        {
            return Err(ConfigError::Invalid(format!(
                "ws_allowed_origins: {bad:?} is not an origin like https://dash.example.com"
            )));
        }
        if self.sessions.reconnect_max_ms < self.sessions.reconnect_base_ms {
            return Err(ConfigError::Invalid("reconnect_max_ms must be at least reconnect_base_ms".into()));
        }
        check_url("whatsapp_ws_url", self.sessions.whatsapp_ws_url.as_deref(), &["ws", "wss"])?;
        check_url("outbound_proxy", self.webhooks.outbound_proxy.as_deref(), &["http", "https"])?;
        check_url("otel_endpoint", self.server.otel_endpoint.as_deref(), &["http", "https"])?;
        check_url("nats_url", self.cluster.nats_url.as_deref(), &["nats", "tls"])?;
        if self.cluster.nats_url.is_some() && !self.is_cluster() {
            return Err(ConfigError::Invalid(
                "nats_url is set but the database is SQLite: cluster mode needs PostgreSQL \
                 (set database_url to postgres://...) or unset nats_url for a single node"
                    .into(),
            ));
        }
        if !is_subject_prefix(&self.cluster.nats_prefix) {
            return Err(ConfigError::Invalid(format!(
                "nats_prefix must be dot-separated tokens of letters, digits, '-' and '_', not {:?}",
                self.cluster.nats_prefix
            )));
        }
        if let Some(v) = &self.sessions.whatsapp_app_version {
            if parse_app_version(v).is_none() {
                return Err(ConfigError::Invalid(format!(
                    "whatsapp_app_version must look like 2.3000.1023, not {v:?}"
                )));
            }
        }
        Ok(())
    }

    /// `whatsapp_app_version` as numbers (validated at load).
    pub fn whatsapp_app_version(&self) -> Option<(u32, u32, u32)> {
        self.sessions.whatsapp_app_version.as_deref().and_then(parse_app_version)
    }

    /// Cluster mode: PostgreSQL plus NATS (validated at load); several live nodes share the database.
    pub fn is_cluster(&self) -> bool {
        self.cluster.nats_url.is_some() && self.database_url().starts_with("postgres")
    }

    pub fn database_url(&self) -> String {
        match &self.database.database_url {
            Some(url) => url.expose().to_owned(),
            None => format!("sqlite://{}/wahub.db?mode=rwc", self.server.data_dir.display()),
        }
    }
}

/// Flattened sections lose the key in serde's error: find the key that fails alone.
fn name_bad_key(table: &toml::Table, err: toml::de::Error) -> String {
    let Ok(defaults) = toml::Table::try_from(Settings::default()) else { return err.message().to_owned() };
    for (key, value) in table {
        let mut one = defaults.clone();
        one.insert(key.clone(), value.clone());
        if let Err(e) = toml::Value::Table(one).try_into::<Settings>() {
            return format!("{key}: {}", e.message());
        }
    }
    err.message().to_owned()
}

/// Settings without a default value (absent from the serialized defaults).
const OPTIONAL_KEYS: [&str; 9] = [
    "database_url",
    "jwt_secret",
    "encryption_key",
    "whatsapp_ws_url",
    "whatsapp_app_version",
    "node_id",
    "outbound_proxy",
    "otel_endpoint",
    "nats_url",
];

/// An optional URL setting must parse, use one of `schemes` and name a host.
fn check_url(key: &str, value: Option<&str>, schemes: &[&str]) -> Result<(), ConfigError> {
    let Some(url) = value else { return Ok(()) };
    let ok = url::Url::parse(url).is_ok_and(|u| schemes.contains(&u.scheme()) && u.host().is_some());
    if ok {
        return Ok(());
    }
    let schemes = schemes.iter().map(|s| format!("{s}://")).collect::<Vec<_>>().join(" or ");
    Err(ConfigError::Invalid(format!("{key} must be a {schemes} URL, not {url:?}")))
}

/// `wahub` or `test.a1`: NATS subject tokens without wildcards or spaces.
fn is_subject_prefix(prefix: &str) -> bool {
    prefix.split('.').all(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// `2.3000.1023` → `(2, 3000, 1023)`.
fn parse_app_version(v: &str) -> Option<(u32, u32, u32)> {
    let mut parts = v.trim().split('.').map(|p| p.parse::<u32>().ok());
    let version = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(version)
}

/// Parses an environment value into the type the setting already has.
fn typed_like(existing: Option<&toml::Value>, raw: &str) -> Option<toml::Value> {
    match existing {
        Some(toml::Value::Integer(_)) => raw.trim().parse().ok().map(toml::Value::Integer),
        Some(toml::Value::Boolean(_)) => match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Some(toml::Value::Boolean(true)),
            "0" | "false" | "no" | "off" => Some(toml::Value::Boolean(false)),
            _ => None,
        },
        _ => Some(toml::Value::String(raw.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whatsapp_endpoint_settings_are_validated() {
        let s = Settings::load_from(
            None,
            &env(&[
                ("WAHUB_WHATSAPP_WS_URL", "ws://127.0.0.1:9/ws/chat"),
                ("WAHUB_WHATSAPP_APP_VERSION", "2.3000.1023"),
            ]),
        )
        .unwrap();
        assert_eq!(s.sessions.whatsapp_ws_url.as_deref(), Some("ws://127.0.0.1:9/ws/chat"));
        assert_eq!(s.whatsapp_app_version(), Some((2, 3000, 1023)));
        assert!(Settings::load_from(None, &env(&[("WAHUB_WHATSAPP_WS_URL", "http://x")])).is_err());
        assert!(Settings::load_from(None, &env(&[("WAHUB_WHATSAPP_APP_VERSION", "2.3000")])).is_err());
        assert!(Settings::load_from(None, &env(&[("WAHUB_WHATSAPP_APP_VERSION", "2.3000.x")])).is_err());
        assert_eq!(Settings::default().whatsapp_app_version(), None);
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn env_overrides_defaults_with_types() {
        let s = Settings::load_from(
            None,
            &env(&[
                ("WAHUB_BIND", "0.0.0.0:1"),
                ("WAHUB_REGISTRATION_OPEN", "false"),
                ("WAHUB_DAILY_MESSAGE_LIMIT", "5"),
                ("WAHUB_JWT_SECRET", "123"),
            ]),
        )
        .unwrap();
        assert_eq!(s.server.bind, "0.0.0.0:1");
        assert!(!s.auth.registration_open);
        assert_eq!(s.sessions.daily_message_limit, 5);
        assert_eq!(s.auth.jwt_secret.unwrap().expose(), "123");
    }

    #[test]
    fn bad_values_are_rejected() {
        assert!(Settings::load_from(None, &env(&[("WAHUB_DAILY_MESSAGE_LIMIT", "lots")])).is_err());
        assert!(Settings::load_from(None, &env(&[("WAHUB_ENGINE", "telegram")])).is_err());
        // Unknown environment variables are ignored; unknown file keys are refused.
        assert!(Settings::load_from(None, &env(&[("WAHUB_NOPE", "1")])).is_ok());
        let dir = std::env::temp_dir().join(format!("wahub_cfg_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("wahub.toml");
        std::fs::write(&file, "nope = 1\n").unwrap();
        assert!(Settings::load_from(Some(&file), &[]).is_err());
        std::fs::write(&file, "bind = \"127.0.0.1:9\"\ndaily_message_limit = 7\n").unwrap();
        let s = Settings::load_from(Some(&file), &env(&[("WAHUB_DAILY_MESSAGE_LIMIT", "8")])).unwrap();
        assert_eq!(
            (s.server.bind.as_str(), s.sessions.daily_message_limit),
            ("127.0.0.1:9", 8),
            "env wins over the file"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn range_and_enum_errors_name_the_key() {
        let err = |pairs: &[(&str, &str)]| Settings::load_from(None, &env(pairs)).unwrap_err().to_string();
        assert!(err(&[("WAHUB_EVENT_RETENTION", "0")]).contains("event_retention must be at least 1"));
        assert!(err(&[("WAHUB_EVENT_BATCH_MAX", "0")]).contains("event_batch_max must be at least 1"));
        assert!(err(&[("WAHUB_EVENT_BATCH_WAIT_MS", "5000")]).contains("event_batch_wait_ms must be at most 1000"));
        assert!(err(&[("WAHUB_EVENT_WRITERS", "65")]).contains("event_writers must be at most 64"));
        assert!(err(&[("WAHUB_WEBHOOK_TIMEOUT_MS", "0")]).contains("webhook_timeout_ms"));
        assert!(err(&[("WAHUB_LOG_FORMAT", "xml")]).contains("log_format"));
        assert!(err(&[("WAHUB_ENGINE", "telegram")]).contains("engine"));
        assert!(err(&[("WAHUB_OTEL_ENDPOINT", "grpc://collector:4317")]).contains("otel_endpoint"));
        let s = Settings::load_from(None, &env(&[("WAHUB_OTEL_ENDPOINT", "http://collector:4318")])).unwrap();
        assert_eq!(s.server.otel_endpoint.as_deref(), Some("http://collector:4318"));
        assert_eq!(Settings::default().server.otel_endpoint, None, "tracing is off by default");
        let s = Settings::load_from(None, &env(&[("WAHUB_ENGINE", "whatsapp"), ("WAHUB_LOG_FORMAT", "json")])).unwrap();
        assert_eq!((s.sessions.engine, s.server.log_format), (EngineKind::Whatsapp, LogFormat::Json));
    }

    #[test]
    fn cluster_mode_needs_postgres_and_nats() {
        let err = |pairs: &[(&str, &str)]| Settings::load_from(None, &env(pairs)).unwrap_err().to_string();
        assert!(err(&[("WAHUB_NATS_URL", "nats://127.0.0.1:4222")]).contains("cluster mode needs PostgreSQL"));
        let pg = ("WAHUB_DATABASE_URL", "postgres://u@127.0.0.1/db");
        assert!(err(&[pg, ("WAHUB_NATS_URL", "http://x")]).contains("nats_url"));
        assert!(err(&[("WAHUB_NODE_MAX_SESSIONS", "0")]).contains("node_max_sessions"));
        let single = Settings::load_from(None, &env(&[pg])).unwrap();
        assert!(!single.is_cluster());
        let cluster = Settings::load_from(None, &env(&[pg, ("WAHUB_NATS_URL", "nats://127.0.0.1:4222")])).unwrap();
        assert!(cluster.is_cluster());
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let s = Settings::load_from(None, &env(&[("WAHUB_JWT_SECRET", "hunter2")])).unwrap();
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
