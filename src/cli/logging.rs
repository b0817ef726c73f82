//! Logs: structured tracing events, kept apart from the human display.
//! Events never carry secret values (the runner logs labels, not values).

use std::path::PathBuf;
use tracing_subscriber::{fmt, EnvFilter};

#[derive(clap::Args, Debug, Clone, Default)]
pub struct LogArgs {
    /// More log detail on stderr (-v info, -vv debug, -vvv trace)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Also write logs to this file
    #[arg(long, global = true)]
    pub log_file: Option<PathBuf>,
    /// Log format: text or json
    #[arg(long, global = true, default_value = "text")]
    pub log_format: String,
    /// Only errors, prompts and results: no progress, no screen-by-screen lines
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Leave core dumps on (debugging only: a core file holds every secret in memory)
    #[arg(long, global = true, hide_short_help = true)]
    pub allow_core_dumps: bool,
}

static QUIET: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// Whether `-q` was given: progress and chatter stay off.
pub fn quiet() -> bool {
    QUIET.get().copied().unwrap_or(false)
}

/// Whether stderr may carry colour: a terminal, and `NO_COLOR` unset or empty.
pub fn colour() -> bool {
    let no_colour = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_colour && std::io::IsTerminal::is_terminal(&std::io::stderr())
}

pub fn init(a: &LogArgs) {
    if QUIET.set(a.quiet).is_err() {
        errln!("warning: logging was set up twice");
    }
    let level = match a.verbose {
        _ if a.quiet => "error",
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    // Our own crate at the chosen level; chatty dependencies stay at warn.
    let filter = EnvFilter::try_from_env("EINVREG_LOG")
        .unwrap_or_else(|_| EnvFilter::new(format!("warn,einvreg={level}")));
    let json = a.log_format == "json";
    let writer: Box<dyn Fn() -> Box<dyn std::io::Write> + Send + Sync> = match &a.log_file {
        Some(p) => {
            let p = p.clone();
            Box::new(move || -> Box<dyn std::io::Write> {
                match crate::store::private::append(&p) {
                    Ok(f) => Box::new(f),
                    Err(_) => Box::new(std::io::stderr()),
                }
            })
        }
        None => Box::new(|| Box::new(std::io::stderr())),
    };
    let b = fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(false)
        // Its own report of a failed write is an eprintln!, which panics
        // when stderr is a closed pipe: that must never stop a batch.
        .log_internal_errors(false);
    let ansi = a.log_file.is_none() && colour();
    let installed = match json {
        true => b.json().try_init(),
        false => b.with_ansi(ansi).try_init(),
    };
    if let Err(e) = installed {
        errln!("warning: logs are off: {e}");
    }
}
