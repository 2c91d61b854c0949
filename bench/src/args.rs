//! Command-line options.

use std::path::PathBuf;

use anyhow::{bail, Context};

pub struct Args {
    pub sockets: usize,
    pub users: usize,
    pub seconds: u64,
    /// Concurrent request loops driving events (each waits for its response).
    pub drivers: usize,
    /// Target published events per second over all users; 0 = as fast as the drivers go.
    pub rate: u64,
    pub server: PathBuf,
}

const USAGE: &str =
    "usage: ws-fanout [--sockets N] [--users M] [--seconds S] [--drivers D] [--rate EVENTS_PER_S] [--server PATH]";

impl Args {
    pub fn parse() -> anyhow::Result<Self> {
        let default_server = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/wahub");
        let mut args = Args { sockets: 1000, users: 100, seconds: 10, drivers: 16, rate: 0, server: default_server };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            if flag == "-h" || flag == "--help" {
                println!("{USAGE}");
                std::process::exit(0);
            }
            let value = it.next().with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
            let num = || value.parse::<u64>().with_context(|| format!("{flag}: not a number: {value}"));
            match flag.as_str() {
                "--sockets" => args.sockets = num()? as usize,
                "--users" => args.users = num()? as usize,
                "--seconds" => args.seconds = num()?,
                "--drivers" => args.drivers = num()? as usize,
                "--rate" => args.rate = num()?,
                "--server" => args.server = PathBuf::from(&value),
                _ => bail!("unknown option {flag}\n{USAGE}"),
            }
        }
        if args.users == 0 || args.sockets < args.users || args.seconds == 0 || args.drivers == 0 {
            bail!("need users >= 1, sockets >= users, seconds >= 1, drivers >= 1");
        }
        Ok(args)
    }
}
