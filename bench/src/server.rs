//! The server under test, as a child process on 127.0.0.1: `wahub serve` or the Node
//! peer in bench/node-ws, each with a fresh database of its own.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use tokio::process::{Child, Command};

use crate::args::{Args, DbChoice, Target};
use crate::{pg, procfs};

pub struct Server {
    child: Child,
    pid: u32,
    pub target: Target,
    pub base: String,
    pub dir: PathBuf,
    /// PostgreSQL (server URL, database name) to drop at the end.
    postgres: Option<(String, String)>,
    /// What the server stores in, for the report.
    pub database: &'static str,
}

impl Server {
    pub async fn start(args: &Args, target: Target, run: usize) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("wahub-bench-{}-{run}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log = std::fs::File::create(dir.join("server.log"))?;
        let mut postgres = None;
        let mut database = "SQLite";
        let mut cmd = match target {
            Target::Wahub => {
                if !args.server.exists() {
                    bail!("{} not found; build it with `cargo build --release -p wahub`", args.server.display());
                }
                let url = match &args.database {
                    DbChoice::Sqlite => format!("sqlite://{}/b.db?mode=rwc", dir.display()),
                    DbChoice::Postgres(server) => {
                        let name = pg::create(server).await?;
                        let url = format!("{server}/{name}");
                        postgres = Some((server.clone(), name));
                        database = "PostgreSQL";
                        url
                    }
                };
                let mut cmd = Command::new(&args.server);
                cmd.arg("serve")
                    .env("WAHUB_BIND", format!("127.0.0.1:{port}"))
                    .env("WAHUB_DATABASE_URL", url)
                    .env("WAHUB_DATA_DIR", &dir)
                    .env("WAHUB_MIN_SEND_INTERVAL_MS", "0")
                    .env("WAHUB_SIM_PAIR_DELAY_MS", "20")
                    .env("WAHUB_ACCESS_TOKEN_TTL_SECS", "86400")
                    .env("WAHUB_MAX_SESSIONS_PER_USER", "100")
                    .env("RUST_LOG", std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()));
                cmd
            }
            Target::NodeWs => {
                if !args.peer_dir.join("node_modules/better-sqlite3").exists() {
                    bail!("{}/node_modules is missing; run `npm ci` there first", args.peer_dir.display());
                }
                let mut cmd = Command::new(&args.node);
                cmd.arg("server.js")
                    .current_dir(&args.peer_dir)
                    .env("PEER_BIND", format!("127.0.0.1:{port}"))
                    .env("PEER_DB", dir.join("peer.db"))
                    .env("PEER_TOKEN_TTL_SECS", "86400");
                cmd
            }
        };
        let child = cmd
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting the {} server", target.name()))?;
        let pid = child.id().context("server exited at once")?;
        let server = Server { child, pid, target, base: format!("http://127.0.0.1:{port}"), dir, postgres, database };
        if let Err(e) = server.wait_ready().await {
            server.stop().await;
            return Err(e);
        }
        Ok(server)
    }

    async fn wait_ready(&self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(r) = client.get(format!("{}/readyz", self.base)).send().await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("server did not become ready:\n{}", self.log_tail(20))
    }

    pub fn rss_kib(&self) -> Option<u64> {
        procfs::rss_kib(self.pid)
    }

    pub fn cpu_time(&self) -> Option<procfs::CpuTime> {
        procfs::cpu_time(self.pid)
    }

    /// CPU seconds of the PostgreSQL backends serving this server, by pid; `None` on SQLite
    /// (which runs inside the server process).
    pub async fn database_cpu(&self) -> Option<std::collections::HashMap<u32, f64>> {
        let (server, name) = self.postgres.as_ref()?;
        pg::backend_cpu(server, name).await
    }

    pub fn context_switches(&self) -> Option<u64> {
        procfs::context_switches(self.pid)
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((server, name)) = self.postgres.take() {
            pg::drop(&server, &name).await;
        }
    }
}

/// Open-file limit (soft, hard) of this process; children inherit it.
pub fn fd_limits() -> Option<(u64, u64)> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let mut nums = line.split_whitespace().filter_map(|w| w.parse::<u64>().ok());
    Some((nums.next()?, nums.next()?))
}

/// Raises the soft open-file limit to the hard one (no privileges needed) with
/// util-linux `prlimit`; returns the soft limit in force afterwards.
pub fn raise_fd_limit() -> Option<u64> {
    let (soft, hard) = fd_limits()?;
    if soft < hard {
        let _ = std::process::Command::new("prlimit")
            .args(["--pid", &std::process::id().to_string(), &format!("--nofile={hard}:{hard}")])
            .status();
    }
    fd_limits().map(|(soft, _)| soft)
}
