//! The command line: parses arguments, calls the engine, maps typed results
//! to stable exit codes. Nothing here decides how a portal is driven.

mod batch;
mod check;
mod common;
mod desk;
mod driver;
mod error;
mod flows;
mod gstin;
mod harden;
mod logging;
mod outputs;
mod progress;
mod repaired;
mod replica;
mod run;
mod signals;
mod smoke;
mod vault;
mod verify;

use crate::exit;
use clap::{CommandFactory, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "einvreg", version, about = "Registers e-Invoice API credentials on India's GST (NIC) portals by driving a real browser", long_about = None, after_help = exit::HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    log: logging::LogArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Parse, validate and lint flow files; no browser is started
    Check(check::Args),
    /// The bundled flows (list, show) and the flow language's JSON Schema
    Flows(flows::Args),
    /// Explain GSTINs part by part and verify their check character
    Gstin(gstin::Args),
    /// Register one GSTIN end to end in a real browser
    Run(Box<run::Args>),
    /// Register many GSTINs from a CSV, in parallel, with a journal and resume
    Batch(Box<batch::Args>),
    /// Check, without side effects, that the portal still matches the flows (for CI)
    Smoke(Box<smoke::Args>),
    /// Log in with vault credentials through the e-Invoice auth API and record whether they work
    Verify(Box<verify::Args>),
    /// What the vault holds: list, show (--reveal), export; keygen for age encryption
    Vault(vault::Args),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Write the man pages (roff) into a folder (packaging)
    #[command(hide = true)]
    Man {
        /// The folder
        #[arg(long, default_value = ".")]
        out_dir: std::path::PathBuf,
    },
    /// Run the built-in replica of both portals on 127.0.0.1 (tests, demos, rehearsals)
    Replica(replica::Args),
}

/// Runs the command line and returns the process exit code (see [`crate::exit`]).
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            if let Err(io) = e.print() {
                errln!("{e}: {io}");
            }
            return code;
        }
    };
    if !cli.log.allow_core_dumps {
        if let Err(e) = harden::no_core_dumps() {
            errln!("warning: core dumps could not be turned off ({e}): a crash may write secrets to a core file");
        }
    }
    crate::process::hide_env(common::own_env());
    let (written, kept) = outputs::of(&cli);
    if let Err(e) = outputs::check(&written, &kept) {
        return error::CliError::from(e).report();
    }
    logging::init(&cli.log);
    let code = dispatch(cli);
    // Whatever path the exit took, no browser einvreg started outlives it.
    let left = crate::process::reap_all();
    if left > 0 {
        tracing::warn!(
            "{left} browser process group(s) einvreg started were still running at exit: ended"
        );
    }
    code
}

fn dispatch(cli: Cli) -> i32 {
    match cli.command {
        Command::Run(a) => error::finish(run::run(*a)),
        Command::Batch(a) => error::finish(batch::run(*a)),
        Command::Smoke(a) => error::finish(smoke::run(*a)),
        Command::Check(a) => error::finish(check::run(a)),
        Command::Flows(a) => error::finish(flows::run(a)),
        Command::Gstin(a) => error::finish(gstin::run(a)),
        Command::Replica(a) => error::finish(replica::run(a)),
        Command::Verify(a) => error::finish(verify::run(*a)),
        Command::Vault(a) => error::finish(vault::run(a)),
        Command::Completions { shell } => completions(shell),
        Command::Man { out_dir } => error::finish(man(&out_dir)),
    }
}

/// Runs a command's async body. The runtime is dropped without waiting for
/// blocking tasks: a prompt that timed out may still be reading stdin.
fn block_on<T>(fut: impl std::future::Future<Output = T>) -> T {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let out = rt.block_on(fut);
    rt.shutdown_background();
    out
}

/// A shell's completion script. clap's fish script completes options only:
/// the bundled flows' names are added where a flow goes (files still complete).
fn completions(shell: clap_complete::Shell) -> i32 {
    let mut out = std::io::stdout();
    clap_complete::generate(shell, &mut Cli::command(), "einvreg", &mut out);
    if shell == clap_complete::Shell::Fish {
        let names: Vec<&str> = crate::flow::bundled::BUNDLED
            .iter()
            .map(|b| b.name)
            .collect();
        let names = names.join(" ");
        outln!("# The bundled flows, where a flow goes.");
        for when in [
            "__fish_einvreg_using_subcommand run",
            "__fish_einvreg_using_subcommand batch",
            "__fish_einvreg_using_subcommand smoke",
            "__fish_einvreg_using_subcommand check",
            "__fish_einvreg_using_subcommand flows; and __fish_seen_subcommand_from show",
        ] {
            outln!("complete -c einvreg -n \"{when}\" -a \"{names}\" -d 'bundled flow'");
        }
    }
    exit::OK
}

/// Man pages into `dir`: einvreg.1 and one per command and subcommand
/// (einvreg-run.1, einvreg-vault-list.1, ...): every page a SEE ALSO names.
fn man(dir: &std::path::Path) -> Result<error::Code, error::CliError> {
    let mut cmd = Cli::command().version(env!("CARGO_PKG_VERSION"));
    // Built, the command has its `help` subcommands: `einvreg help X` is
    // `einvreg X --help`, so they get no page and no SEE ALSO line.
    cmd.build();
    let cmd = hide_help(cmd);
    let mut pages = vec![("einvreg".to_string(), cmd.clone())];
    subpages("einvreg", &cmd, &mut pages);
    for (name, c) in pages {
        let mut out = vec![];
        let path = dir.join(format!("{name}.1"));
        let r = clap_mangen::Man::new(c)
            .render(&mut out)
            .and_then(|_| std::fs::write(&path, &out));
        r.map_err(|e| error::CliError::failed_with(path.display().to_string(), e))?;
    }
    Ok(exit::OK)
}

/// `cmd` with every `help` subcommand, its own and its subcommands', hidden.
fn hide_help(cmd: clap::Command) -> clap::Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    names.iter().fold(cmd, |c, n| match n.as_str() {
        "help" => c.mut_subcommand(n, |h| h.hide(true)),
        _ => c.mut_subcommand(n, hide_help),
    })
}

/// `cmd`'s visible subcommands, each named `<prefix>-<name>`, and theirs.
fn subpages(prefix: &str, cmd: &clap::Command, out: &mut Vec<(String, clap::Command)>) {
    for s in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("{prefix}-{}", s.get_name());
        out.push((name.clone(), s.clone().name(name.clone())));
        subpages(&name, s, out);
    }
}
