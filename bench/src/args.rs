//! Command-line options.

use std::path::PathBuf;

use anyhow::{bail, Context};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Target {
    Wahub,
    NodeWs,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Wahub => "wahub",
            Target::NodeWs => "node-ws",
        }
    }
}

/// Which servers one invocation measures.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Plan {
    One(Target),
    /// wahub and the Node peer alternately, `rounds` times each, then the ratios.
    Interleaved {
        rounds: usize,
    },
}

#[derive(Clone, Debug)]
pub enum DbChoice {
    Sqlite,
    /// A PostgreSQL server URL without a database name; each run gets a fresh database.
    Postgres(String),
}

#[derive(Clone, Debug)]
pub struct Args {
    pub sockets: usize,
    pub users: usize,
    pub seconds: u64,
    /// Concurrent request loops driving events (each waits for its response).
    pub drivers: usize,
    /// Target published events per second over all users; 0 = as fast as the drivers go.
    pub rate: u64,
    pub plan: Plan,
    pub server: PathBuf,
    pub peer_dir: PathBuf,
    pub node: PathBuf,
    /// wahub's database; the Node peer always uses SQLite.
    pub database: DbChoice,
}

const USAGE: &str = "usage: ws-fanout [--sockets N] [--users M] [--seconds S] [--drivers D] [--rate EVENTS_PER_S]
                 [--target wahub|node-ws|both] [--rounds R] [--database sqlite|postgres://USER@HOST:PORT]
                 [--server PATH_TO_WAHUB] [--peer-dir bench/node-ws] [--node PATH_TO_NODE]
  --target both runs wahub and the Node peer alternately R times each (default 3) and prints wahub/peer ratios.";

impl Args {
    pub fn parse() -> anyhow::Result<Self> {
        Self::parse_from(std::env::args().skip(1))
    }

    pub fn parse_from(argv: impl IntoIterator<Item = String>) -> anyhow::Result<Self> {
        let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut args = Args {
            sockets: 1000,
            users: 100,
            seconds: 10,
            drivers: 16,
            rate: 0,
            plan: Plan::One(Target::Wahub),
            server: default_server(&manifest),
            peer_dir: manifest.join("node-ws"),
            node: PathBuf::from("node"),
            database: DbChoice::Sqlite,
        };
        let mut rounds = None;
        let mut it = argv.into_iter();
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
                "--rounds" => rounds = Some(num()? as usize),
                "--target" => {
                    args.plan = match value.as_str() {
                        "wahub" => Plan::One(Target::Wahub),
                        "node-ws" => Plan::One(Target::NodeWs),
                        "both" => Plan::Interleaved { rounds: 3 },
                        _ => bail!("--target: wahub, node-ws or both, not {value}"),
                    }
                }
                "--database" => {
                    args.database = match value.as_str() {
                        "sqlite" => DbChoice::Sqlite,
                        url if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                            DbChoice::Postgres(url.trim_end_matches('/').to_owned())
                        }
                        _ => bail!("--database: sqlite or a postgres:// server URL, not {value}"),
                    }
                }
                "--server" => args.server = PathBuf::from(&value),
                "--peer-dir" => args.peer_dir = PathBuf::from(&value),
                "--node" => args.node = PathBuf::from(&value),
                _ => bail!("unknown option {flag}\n{USAGE}"),
            }
        }
        if args.users == 0 || args.sockets < args.users || args.seconds == 0 || args.drivers == 0 {
            bail!("need users >= 1, sockets >= users, seconds >= 1, drivers >= 1");
        }
        match (rounds, &mut args.plan) {
            (Some(0), _) => bail!("--rounds must be at least 1"),
            (Some(r), Plan::Interleaved { rounds }) => *rounds = r,
            (Some(_), Plan::One(_)) => bail!("--rounds goes with --target both"),
            (None, _) => {}
        }
        if matches!((&args.database, args.plan), (DbChoice::Postgres(_), Plan::One(Target::NodeWs))) {
            bail!("the Node peer stores in SQLite only; --database postgres://... is for wahub");
        }
        Ok(args)
    }
}

/// `wahub` next to this executable (both are built into the same target directory),
/// else `target/release/wahub` of the workspace.
fn default_server(manifest: &std::path::Path) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("wahub")))
        .filter(|p| p.exists())
        .unwrap_or_else(|| manifest.join("../target/release/wahub"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> anyhow::Result<Args> {
        Args::parse_from(s.split_whitespace().map(String::from))
    }

    #[test]
    fn targets_and_rounds() {
        assert_eq!(parse("").unwrap().plan, Plan::One(Target::Wahub));
        assert_eq!(parse("--target node-ws").unwrap().plan, Plan::One(Target::NodeWs));
        assert_eq!(parse("--target both").unwrap().plan, Plan::Interleaved { rounds: 3 });
        assert_eq!(parse("--target both --rounds 5").unwrap().plan, Plan::Interleaved { rounds: 5 });
        assert!(parse("--rounds 2").is_err());
        assert!(parse("--target both --rounds 0").is_err());
        assert!(parse("--target nginx").is_err());
    }

    #[test]
    fn databases() {
        assert!(matches!(parse("").unwrap().database, DbChoice::Sqlite));
        match parse("--database postgres://postgres@127.0.0.1:5432/").unwrap().database {
            DbChoice::Postgres(url) => assert_eq!(url, "postgres://postgres@127.0.0.1:5432"),
            other => panic!("{other:?}"),
        }
        assert!(parse("--database mysql://x").is_err());
        assert!(parse("--target node-ws --database postgres://postgres@127.0.0.1:5432").is_err());
        assert!(parse("--sockets 5 --users 10").is_err());
    }
}
