//! ws-fanout: how many WebSockets a server holds and how fast it fans events out to them.
//!
//! Starts the server under test as a child process on 127.0.0.1 with a fresh database —
//! `wahub serve`, or the Node peer in bench/node-ws (`--target node-ws`), or both in turn
//! (`--target both`) — makes M users with a connected simulated session each, opens N
//! sockets spread over them, then posts simulated incoming messages for `--seconds` and
//! reports what the sockets received. Latency is receive time minus the event's `at`,
//! which the server stamps just before storing the event (the commit, the fan-out and
//! the socket), and receive time minus the client's send time of the POST (end to end),
//! on one machine and one clock.

mod args;
mod frame;
mod load;
mod paced;
mod pg;
mod procfs;
mod report;
mod run;
mod server;
mod setup;
mod sockets;
mod stats;

use args::{Args, DbChoice, Plan, Target};
use run::Figures;
use server::Server;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse()?;
    match server::raise_fd_limit() {
        Some(limit) if (limit as usize) < args.sockets + 512 => {
            eprintln!(
                "warning: open-file limit {limit} is too low for {} sockets; run `ulimit -n 65536` first",
                args.sockets
            )
        }
        Some(limit) => println!("open-file limit: {limit}"),
        None => eprintln!("warning: cannot read the open-file limit"),
    }
    match args.plan {
        Plan::One(target) => {
            measure(&args, target, 0).await?;
        }
        Plan::Interleaved { rounds } => {
            if matches!(args.database, DbChoice::Postgres(_)) {
                println!("note: wahub stores in PostgreSQL, the Node peer in SQLite");
            }
            let mut pairs = Vec::new();
            for round in 0..rounds {
                // Alternate which goes first, so neither always follows the other's tail.
                let order =
                    if round % 2 == 0 { [Target::Wahub, Target::NodeWs] } else { [Target::NodeWs, Target::Wahub] };
                let first = measure(&args, order[0], 2 * round).await?;
                let second = measure(&args, order[1], 2 * round + 1).await?;
                pairs.push(if order[0] == Target::Wahub { (first, second) } else { (second, first) });
            }
            report::print_comparison(&pairs);
        }
    }
    Ok(())
}

async fn measure(args: &Args, target: Target, run: usize) -> anyhow::Result<Figures> {
    let server = Server::start(args, target, run).await?;
    println!(
        "\nws-fanout [{} on {}]: {} sockets over {} users, {} s of load from {} request loops{}",
        target.name(),
        server.database,
        args.sockets,
        args.users,
        args.seconds,
        args.drivers,
        if args.rate > 0 { format!(" capped at {} events/s", args.rate) } else { String::new() }
    );
    let result = run::run(args, &server).await;
    match &result {
        Ok(figures) => report::print_run(figures, args.sockets),
        Err(_) => eprintln!("--- server log (tail) ---\n{}", server.log_tail(20)),
    }
    server.stop().await;
    result
}
