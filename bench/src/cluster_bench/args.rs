//! Command-line options of cluster-bench.

use std::path::PathBuf;

use anyhow::{bail, Context};

pub struct Args {
    pub sockets: usize,
    pub users: usize,
    pub sessions: usize,
    pub seconds: u64,
    pub drivers: usize,
    /// Posted incoming messages per second over all sessions; 0 = as fast as the drivers go.
    pub rate: u64,
    pub ttl_secs: u64,
    pub server: PathBuf,
}

const USAGE: &str = "usage: cluster-bench [--sockets N] [--users M] [--sessions S] [--seconds T] [--drivers D]
                     [--rate EVENTS_PER_S] [--ttl-secs L] [--server PATH_TO_RELEASE_WAHUB]
  needs WAHUB_TEST_DATABASE_URL=postgres://... and NATS at 127.0.0.1:4222 (or WAHUB_TEST_NATS_URL)";

impl Args {
    pub fn parse() -> anyhow::Result<Self> {
        let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut args = Args {
            sockets: 10_000,
            users: 100,
            sessions: 300,
            seconds: 10,
            drivers: 16,
            rate: 200,
            ttl_secs: 5,
            server: workspace.join("target/release/wahub"),
        };
        let mut argv = std::env::args().skip(1);
        while let Some(flag) = argv.next() {
            if flag == "--help" || flag == "-h" {
                println!("{USAGE}");
                std::process::exit(0);
            }
            let value = argv.next().with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
            let number = || value.parse::<u64>().with_context(|| format!("{flag} {value}: not a number"));
            match flag.as_str() {
                "--sockets" => args.sockets = number()? as usize,
                "--users" => args.users = number()? as usize,
                "--sessions" => args.sessions = number()? as usize,
                "--seconds" => args.seconds = number()?,
                "--drivers" => args.drivers = number()? as usize,
                "--rate" => args.rate = number()?,
                "--ttl-secs" => args.ttl_secs = number()?,
                "--server" => args.server = PathBuf::from(&value),
                _ => bail!("unknown option {flag}\n{USAGE}"),
            }
        }
        if args.users == 0 || args.sessions < args.users || args.sockets < args.users || args.drivers == 0 {
            bail!("need users >= 1, sessions >= users, sockets >= users, drivers >= 1\n{USAGE}");
        }
        if !args.server.exists() {
            bail!("{} does not exist: cargo build --release -p wahub (or --server PATH)", args.server.display());
        }
        Ok(args)
    }
}
