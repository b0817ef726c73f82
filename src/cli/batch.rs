//! `einvreg batch FLOW BATCH.csv`: many GSTINs, in parallel, resumable.

use super::common::{self, usage, DriverArgs, OperatorArgs, PortalArgs};
use super::exit;
use crate::batch::journal::Journal;
use crate::batch::rows::{self, Providers, Row};
use crate::batch::{self, report, BatchSpec, Progress, RowResult};
use crate::driver::Endpoint;
use crate::operator::{PromptHooks, Question, Queue};
use crate::redact::{Redactor, Secret};
use crate::vault::Vault;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Flow file or bundled flow name
    pub flow: String,
    /// CSV with a header (columns: README.md)
    pub csv: PathBuf,
    /// Browser sessions at once
    #[arg(long, default_value_t = 2)]
    pub parallel: usize,
    /// Run the valid rows and report the invalid ones
    #[arg(long)]
    pub skip_invalid: bool,
    /// Owner-only TOML: [portal_password] by portal username, [api_password] by GSTIN
    #[arg(long)]
    pub secrets: Option<PathBuf>,
    /// Credentials, written before each submit (owner-only JSON lines)
    #[arg(long, default_value = "einvreg-vault.jsonl")]
    pub vault: PathBuf,
    /// Append-only record of every row's progress
    #[arg(long, default_value = "einvreg-journal.jsonl")]
    pub journal: PathBuf,
    /// Skip rows an earlier run registered; re-check rows it left in flight
    #[arg(long)]
    pub resume: bool,
    /// Per-row report: .csv or .json
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// GSP and ERP names the portal lists (default: the bundled list)
    #[arg(long)]
    pub providers: Option<PathBuf>,
    /// Folder for each row's captchas, traces and failure artifacts
    #[arg(long, default_value = "einvreg-runs")]
    pub artifacts: PathBuf,
    #[command(flatten)]
    pub portal: PortalArgs,
    #[command(flatten)]
    pub driver: DriverArgs,
    #[command(flatten)]
    pub operator: OperatorArgs,
}

struct Display {
    pb: ProgressBar,
    queue: std::sync::OnceLock<Arc<Queue>>,
    ok: AtomicUsize,
    bad: AtomicUsize,
    running: AtomicUsize,
}

impl Display {
    fn refresh(&self) {
        let waiting = self.queue.get().map(|q| q.waiting()).unwrap_or(0);
        self.pb.set_message(format!(
            "registered {} · failed {} · running {} · waiting for you {}",
            self.ok.load(Ordering::SeqCst),
            self.bad.load(Ordering::SeqCst),
            self.running.load(Ordering::SeqCst),
            waiting
        ));
    }
}

impl Progress for Display {
    fn started(&self, _row: &Row) {
        self.running.fetch_add(1, Ordering::SeqCst);
        self.refresh();
    }
    fn finished(&self, r: &RowResult) {
        if r.status != "not_started" {
            self.running.fetch_sub(1, Ordering::SeqCst);
        }
        if matches!(
            r.status.as_str(),
            "registered" | "already_registered" | "skipped"
        ) {
            self.ok.fetch_add(1, Ordering::SeqCst);
        } else {
            self.bad.fetch_add(1, Ordering::SeqCst);
        }
        self.pb.inc(1);
        let line = format!(
            "  line {:>3} {} {}: {}",
            r.line,
            r.gstin,
            r.status,
            r.message.chars().take(90).collect::<String>()
        );
        self.pb.suspend(|| eprintln!("{line}"));
        self.refresh();
    }
    fn note(&self, msg: &str) {
        self.pb.suspend(|| eprintln!("{msg}"));
    }
}

/// The bar steps aside while a person answers a prompt.
struct Hooks(Arc<Display>);
impl PromptHooks for Hooks {
    fn before(&self, _q: &Question) {
        self.0.pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    fn after(&self, _q: &Question) {
        self.0.pb.set_draw_target(ProgressDrawTarget::stderr());
        self.0.refresh();
    }
}

pub fn run(args: Args) -> i32 {
    let flow = match common::load_flow(&args.flow) {
        Ok(f) => Arc::new(f),
        Err(e) => return usage(e),
    };
    let providers_path = args
        .providers
        .clone()
        .unwrap_or_else(|| crate::replica::default_fixtures().join("providers.toml"));
    let providers = match Providers::load(&providers_path) {
        Ok(p) => p,
        Err(e) => return usage(e),
    };
    let loaded = match rows::load(&flow, &args.csv, &providers) {
        Ok(l) => l,
        Err(e) => return usage(e),
    };
    for p in &loaded.problems {
        eprintln!("error: {p}");
    }
    let mut rows = loaded.rows;
    if !loaded.problems.is_empty() {
        if !args.skip_invalid {
            eprintln!("{} problem(s) in {} row(s) of {}; nothing was started. Fix them, or pass --skip-invalid to run the {} valid rows", loaded.problems.len(), loaded.bad_lines.len(), args.csv.display(), rows.len() - loaded.bad_lines.len());
            return exit::USAGE;
        }
        rows.retain(|r| !loaded.bad_lines.contains(&r.line));
        eprintln!(
            "skipping {} invalid row(s); running {}",
            loaded.bad_lines.len(),
            rows.len()
        );
    }
    // Secrets: logins by portal username, API passwords by GSTIN.
    let file = match &args.secrets {
        Some(p) => match common::read_secrets(p) {
            Ok(s) => s,
            Err(e) => return usage(e),
        },
        None => HashMap::new(),
    };
    let mut logins: HashMap<String, Secret> = HashMap::new();
    let mut api_passwords: HashMap<String, Secret> = HashMap::new();
    for (k, v) in file {
        if let Some(u) = k.strip_prefix("portal_password.") {
            logins.insert(u.to_string(), v);
        } else if let Some(g) = k.strip_prefix("api_password.") {
            api_passwords.insert(g.to_uppercase(), v);
        } else if !k.contains('.') {
            logins.insert(k, v);
        }
    }
    let needs_login = flow
        .inputs
        .iter()
        .any(|i| i.is_secret() && Some(&i.name) != flow.credentials.as_ref().map(|c| &c.password));
    if needs_login {
        let mut missing: Vec<String> = rows
            .iter()
            .filter_map(|r| r.get("portal_username").map(String::from))
            .filter(|u| !logins.contains_key(u))
            .collect();
        missing.sort();
        missing.dedup();
        if !missing.is_empty() {
            if std::io::stdin().is_terminal() && !args.operator.auto_answer {
                eprintln!("Portal passwords are asked once each, now, before the long run:");
                for u in &missing {
                    match rpassword::prompt_password(format!("  password for portal login {u}: ")) {
                        Ok(p) if !p.is_empty() => {
                            logins.insert(u.clone(), Secret::new(p));
                        }
                        _ => return usage(format!("no password for {u}")),
                    }
                }
            } else {
                return usage(format!("no portal password for login(s) {}: put them in --secrets FILE under [portal_password]", missing.join(", ")));
            }
        }
    }
    let redactor = Redactor::new();
    for s in logins.values().chain(api_passwords.values()) {
        redactor.add(s.expose());
    }
    let vault = match Vault::open(&args.vault) {
        Ok(v) => Arc::new(v),
        Err(e) => return usage(e),
    };
    let journal = match Journal::open(&args.journal) {
        Ok(j) => Arc::new(j),
        Err(e) => return usage(format!("journal {}: {e}", args.journal.display())),
    };
    let resume = if args.resume {
        match Journal::last_states(&args.journal) {
            Ok(m) => Some(m),
            Err(e) => return usage(format!("journal {}: {e}", args.journal.display())),
        }
    } else {
        None
    };
    if !args.resume
        && std::fs::metadata(&args.journal)
            .map(|m| m.len() > 0)
            .unwrap_or(false)
    {
        eprintln!(
            "note: {} already has entries; pass --resume to skip rows it records as registered",
            args.journal.display()
        );
    }

    super::block_on(async move {
        let (_replica, base_url, operator) =
            match common::portal_and_operator(&args.portal, &args.operator, &flow).await {
                Ok(x) => x,
                Err(e) => return usage(e),
            };
        let pb = ProgressBar::new(rows.len() as u64);
        pb.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} (ETA {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        if !std::io::stderr().is_terminal() {
            pb.set_draw_target(ProgressDrawTarget::hidden());
        }
        let display = Arc::new(Display {
            pb,
            queue: std::sync::OnceLock::new(),
            ok: AtomicUsize::new(0),
            bad: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
        });
        let mut queue = Queue::new(operator);
        queue.hooks = Some(Arc::new(Hooks(display.clone())));
        let queue = Arc::new(queue);
        let _ = display.queue.set(queue.clone());
        let endpoint = match Endpoint::start(&args.driver.config()).await {
            Ok(e) => Arc::new(e),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::FAILURE;
            }
        };
        eprintln!(
            "einvreg batch: {} rows of {} on {} ({} at a time; answers: {})",
            rows.len(),
            args.csv.display(),
            base_url,
            args.parallel,
            queue.describe()
        );
        let stop = Arc::new(AtomicBool::new(false));
        let spec = Arc::new(BatchSpec {
            flow: flow.clone(),
            base_url,
            rows: rows.clone(),
            parallel: args.parallel,
            vault: vault.clone(),
            journal: journal.clone(),
            queue: queue.clone(),
            redactor: redactor.clone(),
            artifacts_root: args.artifacts.clone(),
            logins,
            api_passwords,
            resume,
            stop: stop.clone(),
        });
        let work = batch::run(endpoint.clone(), spec, display.clone());
        tokio::pin!(work);
        let results = tokio::select! {
            r = &mut work => r,
            _ = tokio::signal::ctrl_c() => {
                stop.store(true, Ordering::SeqCst);
                display.note("\nCtrl-C: starting no new GSTINs; in-flight ones finish (press Ctrl-C again to abort them)");
                tokio::select! {
                    r = &mut work => r,
                    _ = tokio::signal::ctrl_c() => {
                        endpoint.kill();
                        batch::mark_in_doubt(&journal, &rows);
                        display.pb.finish_and_clear();
                        eprintln!("aborted: in-flight GSTINs are recorded as in doubt in {}; run again with --resume to check them", journal.path().display());
                        return 130;
                    }
                }
            }
        };
        display.pb.finish_and_clear();
        print!("{}", report::table(&results));
        println!(
            "vault {} · journal {} · operator answered {} prompt(s)",
            vault.path().display(),
            journal.path().display(),
            queue.asked()
        );
        if let Some(p) = &args.report {
            if let Err(e) = report::write(p, &results) {
                eprintln!("error: {e}");
            }
        }
        drop(endpoint);
        report::exit_code(&results)
    })
}
