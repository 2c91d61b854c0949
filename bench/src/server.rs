//! The wahub server under test, as a child process on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use tokio::process::{Child, Command};

pub struct Server {
    child: Child,
    pub base: String,
    pub dir: PathBuf,
}

impl Server {
    pub async fn start(binary: &Path) -> anyhow::Result<Self> {
        if !binary.exists() {
            bail!("{} not found; build it with `cargo build --release -p wahub`", binary.display());
        }
        let dir = std::env::temp_dir().join(format!("wahub-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log = std::fs::File::create(dir.join("server.log"))?;
        let child = Command::new(binary)
            .arg("serve")
            .env("WAHUB_BIND", format!("127.0.0.1:{port}"))
            .env("WAHUB_DATABASE_URL", format!("sqlite://{}/b.db?mode=rwc", dir.display()))
            .env("WAHUB_DATA_DIR", &dir)
            .env("WAHUB_MIN_SEND_INTERVAL_MS", "0")
            .env("WAHUB_SIM_PAIR_DELAY_MS", "20")
            .env("WAHUB_ACCESS_TOKEN_TTL_SECS", "86400")
            .env("WAHUB_MAX_SESSIONS_PER_USER", "100")
            .env("RUST_LOG", std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()))
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let server = Server { child, base: format!("http://127.0.0.1:{port}"), dir };
        server.wait_ready().await?;
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
        bail!("server did not become ready; see {}", self.dir.join("server.log").display())
    }

    /// Resident set size of the server in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()?)).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
        let _ = std::fs::remove_dir_all(&self.dir);
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
