//! The command line: `wahub [serve]`, `wahub migrate`, `wahub user create`, `wahub healthcheck`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Settings;

#[derive(Parser)]
#[command(name = "wahub", version, about = "Link WhatsApp accounts and push everything live.")]
struct Cli {
    /// TOML settings file (default: ./wahub.toml if present).
    #[arg(long, short, global = true, env = "WAHUB_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Exit 0 when this node's /healthz answers 200 (for container health checks).
    Healthcheck {
        /// host:port to ask; default: the `bind` setting, wildcards as loopback.
        #[arg(long)]
        addr: Option<String>,
        #[arg(long, default_value_t = 3000)]
        timeout_ms: u64,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user (the password is read from WAHUB_NEW_PASSWORD or --password).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, env = "WAHUB_NEW_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long)]
        display_name: Option<String>,
        /// Make the user an admin.
        #[arg(long)]
        admin: bool,
    },
}

fn init_tracing(settings: &Settings) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if settings.server.log_format == crate::config::LogFormat::Json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// glibc raises its mmap threshold after large frees, after which the ~19 MiB buffers of
/// argon2 come from the heap and are never returned to the system (measured: 1.7 GiB RSS
/// after 100 registrations). A fixed threshold keeps them mmapped and returned on free.
fn keep_large_allocations_mmapped() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; called before any other thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
    }
}

/// No runtime, no database, no logging: a probe that runs every few seconds stays cheap.
fn healthcheck(addr: &str, timeout_ms: u64) -> ExitCode {
    let Some(target) = crate::healthcheck::target(addr) else {
        eprintln!("wahub healthcheck: {addr:?} is not a host:port");
        return ExitCode::from(2);
    };
    match crate::healthcheck::check(target, std::time::Duration::from_millis(timeout_ms.max(1))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("wahub healthcheck: {why}");
            ExitCode::FAILURE
        }
    }
}

pub fn main() -> ExitCode {
    keep_large_allocations_mmapped();
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("wahub: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(Command::Healthcheck { addr, timeout_ms }) = &cli.command {
        return healthcheck(addr.as_deref().unwrap_or(&settings.server.bind), *timeout_ms);
    }
    init_tracing(&settings);
    tracing::debug!(?settings, "settings loaded");
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wahub: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => crate::startup::serve(settings).await,
            Command::Healthcheck { .. } => Ok(()),
            Command::Migrate => {
                crate::startup::build_state(settings).await?;
                println!("migrations applied");
                Ok(())
            }
            Command::User { command: UserCommand::Create { email, password, display_name, admin } } => {
                let state = crate::startup::build_state(settings).await?;
                let user = crate::auth::accounts::create_user(&state.auth, &email, &password, display_name, admin)
                    .await
                    .map_err(|p| anyhow::anyhow!("{}", p.detail))?;
                println!("created {} ({}) with id {}", user.email, user.role, user.id);
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("wahub: {e:#}");
            ExitCode::FAILURE
        }
    }
}
