//! `einvreg batch FLOW BATCH.csv`: many GSTINs, in parallel, resumable.
//! Reads the files and the terminal, then hands a prepared batch to the engine.

use super::common::{self, DriverArgs, OperatorArgs, PortalArgs};
use super::error::{CliError, Code};
use super::progress::Display;
use super::signals::{Stop, Stops};
use crate::batch::journal::{Journal, Sealed};
use crate::batch::rows::Providers;
use crate::batch::{self, report, BatchSpec, CsvSource, PrepareError, Prepared, RowResult};
use crate::driver::DriverConfig;
use crate::events::{Event, RowStatus, Sink};
use crate::exit;
use crate::flow::Flow;
use crate::html;
use crate::redact::{Redactor, Secret};
use crate::secrets::{ApiClientSecrets, SecretsFile};
use crate::vault::Vault;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  einvreg batch production-api-user gstins.csv --secrets secrets.toml --parallel 4\n  einvreg batch production-api-user gstins.csv --resume --verify\n  einvreg batch production-api-user gstins.csv --html report.html --report report.csv\n  export-from-erp | einvreg batch production-api-user - --otp-command ./ask-client\n  einvreg batch production-api-user gstins.csv --desk --desk-otp-links --desk-notify-command ./send-sms\n  einvreg batch production-api-user gstins.csv --webdriver http://grid-a:4444 --webdriver http://grid-b:4444 --parallel 8\n  einvreg batch portal-login-register,production-api-user new-clients.csv --secrets secrets.toml --verify=all   # a login, then its API user\n\nCSV headers match ignoring case and spaces (\"Portal Username\"); CRLF files are fine.\nExit codes: einvreg --help"
)]
pub struct Args {
    /// Flow file or bundled flow name; A,B runs B after A for each row,
    /// with what A created
    #[arg(value_parser = common::FlowNames, hide_possible_values = true)]
    pub flow: String,
    /// CSV with a header (columns: README.md)
    pub csv: PathBuf,
    /// Browser sessions at once
    #[arg(long, default_value_t = 2)]
    pub parallel: usize,
    /// How GSTINs are kept apart: context (a fresh user context each, in a browser kept per parallel slot; needs WebDriver BiDi, else falls back to session, saying so) or session (a fresh browser each)
    #[arg(long, value_enum, default_value_t = IsolationArg::Context)]
    pub isolation: IsolationArg,
    /// With --isolation context: rows one browser serves before it is replaced
    #[arg(long, value_name = "N", default_value_t = crate::driver::RECYCLE_DEFAULT, value_parser = parse_recycle)]
    pub recycle: usize,
    /// Run the valid rows and report the invalid ones
    #[arg(long)]
    pub skip_invalid: bool,
    /// A provider missing from the provider list is an error (default: a warning; the portal's dropdown decides)
    #[arg(long)]
    pub strict_providers: bool,
    /// Owner-only TOML: [portal_password] by portal username; [api_password] and any other secret input ([client_secret]) by GSTIN
    #[arg(long)]
    pub secrets: Option<PathBuf>,
    /// Credentials, written before each submit (owner-only JSON lines) [default: einvreg-vault.jsonl; with --portal replica, einvreg-rehearsal-vault.jsonl]
    #[arg(long)]
    pub vault: Option<PathBuf>,
    #[command(flatten)]
    pub keys: common::KeyArgs,
    /// Append-only record of every row's progress [default: einvreg-journal.jsonl; with --portal replica, einvreg-rehearsal-journal.jsonl]
    #[arg(long)]
    pub journal: Option<PathBuf>,
    /// Skip rows an earlier run registered; re-check rows it left in flight
    #[arg(long)]
    pub resume: bool,
    /// Per-row report: .csv or .json
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// A self-contained HTML report (summary, a row per GSTIN, step timelines, failure screenshots)
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// GSP and ERP names the portal lists (default: the bundled list)
    #[arg(long)]
    pub providers: Option<PathBuf>,
    /// Folder for each batch's folder (<time>-batch-<pid>), holding each row's captchas, traces and failure artifacts
    #[arg(long, default_value = "einvreg-runs")]
    pub artifacts: PathBuf,
    #[command(flatten)]
    pub portal: PortalArgs,
    #[command(flatten)]
    pub driver: DriverArgs,
    #[command(flatten)]
    pub operator: OperatorArgs,
    #[command(flatten)]
    pub verify: super::verify::VerifyArgs,
}

impl Args {
    /// The vault: given, else the real or the rehearsal default.
    pub fn vault_file(&self) -> PathBuf {
        use crate::vault::{DEFAULT_FILE, REHEARSAL_FILE};
        self.portal
            .file_or(self.vault.as_ref(), DEFAULT_FILE, REHEARSAL_FILE)
    }

    /// The journal: given, else the real or the rehearsal default.
    pub fn journal_file(&self) -> PathBuf {
        use crate::batch::journal::{DEFAULT_FILE, REHEARSAL_FILE};
        self.portal
            .file_or(self.journal.as_ref(), DEFAULT_FILE, REHEARSAL_FILE)
    }
}

fn parse_recycle(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("give a number of rows, 1 or more (e.g. 25)".into()),
    }
}

/// `--isolation`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsolationArg {
    /// A fresh user context per GSTIN in a kept browser (WebDriver BiDi).
    Context,
    /// A fresh browser session per GSTIN.
    Session,
}

pub fn run(args: Args) -> Result<Code, CliError> {
    args.operator.check()?;
    // Endpoints are read and checked once, before anything else starts.
    let mut driver = args.driver.config()?;
    driver.isolation = match args.isolation {
        IsolationArg::Context => crate::driver::Isolation::Context,
        IsolationArg::Session => crate::driver::Isolation::Session,
    };
    driver.recycle = args.recycle;
    let names = crate::chained::split(&args.flow);
    let flows = names
        .iter()
        .map(|n| common::load_flow(n).map(Arc::new))
        .collect::<Result<Vec<_>, _>>()?;
    crate::chained::check(&flows).map_err(|e| CliError::Usage(e.to_string()))?;
    let (mut prepared, api_client) = prepare(&args, &flows)?;
    ask_missing_logins(&mut prepared, args.operator.auto_answer)?;
    let redactor = Redactor::new();
    // The file's every secret, the API client's too.
    for s in prepared.secrets.all() {
        redactor.add(s.expose());
    }
    // A Grid's basic-auth password, in case an error ever echoes its URL.
    for p in driver.webdriver.iter().filter_map(|a| a.password()) {
        redactor.add(p);
    }
    // The rows' folders go in here: a folder of this user's, checked now.
    // The io error names the folder already.
    crate::store::private::check_own_dir(&args.artifacts)
        .map_err(|e| CliError::Usage(format!("--artifacts {e}")))?;
    let mut stores = open_stores(&args)?;
    // Each repair is journaled as it is made.
    let journal = stores.journal.clone();
    stores.repair = super::repaired::plans(&names, &flows, &args.operator, || {
        crate::repair::Book::logged(journal.clone())
    })?;
    super::block_on(run_async(
        args,
        flows,
        (prepared, api_client),
        redactor,
        stores,
        driver,
    ))
}

/// Reads the CSV, providers and secrets; validates every row before any
/// browser. The secrets file's API client (for `--verify`) comes back apart.
fn prepare(args: &Args, flows: &[Arc<Flow>]) -> Result<(Prepared, ApiClientSecrets), CliError> {
    let read = |p: &PathBuf| common::read_text(p);
    let (providers_name, providers_text) = match &args.providers {
        Some(p) => (p.display().to_string(), read(p)?),
        None => {
            let f = common::fixtures()
                .read("providers.toml")
                .map_err(CliError::bad)?;
            (f.name, f.text)
        }
    };
    let providers = Providers::parse(&providers_name, &providers_text).map_err(CliError::bad)?;
    let secrets = match &args.secrets {
        Some(p) => common::read_secrets(p)?,
        None => SecretsFile::default(),
    };
    let secrets = env_defaults(secrets, flows)?;
    let api_client = secrets.api_client.clone();
    let name = match common::is_stdin(&args.csv) {
        true => "(stdin)".to_string(),
        false => args.csv.display().to_string(),
    };
    let csv = CsvSource {
        name: &name,
        text: &read(&args.csv)?,
    };
    let checks = batch::Checks {
        skip_invalid: args.skip_invalid,
        strict_providers: args.strict_providers,
    };
    match batch::prepare(flows, csv, &providers, secrets, checks) {
        Ok(p) => {
            for w in &p.warnings {
                errln!("warning: {w}");
            }
            for pr in &p.skipped {
                errln!("error: {pr}");
            }
            if p.skipped_rows > 0 {
                errln!(
                    "skipping {} invalid row(s); running {}",
                    p.skipped_rows,
                    p.rows.len()
                );
            }
            Ok((p, api_client))
        }
        Err(e @ PrepareError::Invalid { .. }) => {
            if let PrepareError::Invalid {
                problems, warnings, ..
            } = &e
            {
                for w in warnings {
                    errln!("warning: {w}");
                }
                for pr in problems {
                    errln!("error: {pr}");
                }
            }
            errln!("{e}");
            Err(CliError::Reported { code: exit::USAGE })
        }
        Err(e) => Err(CliError::bad(e)),
    }
}

/// `EINVREG_<NAME>` for a secret input the file gives no flat value (the
/// API password, a client secret): one value for every GSTIN the file
/// names none for, as a flat entry would be. Portal logins are per login:
/// the file's, or asked.
fn env_defaults(mut s: SecretsFile, flows: &[Arc<Flow>]) -> Result<SecretsFile, String> {
    let inputs = flows
        .iter()
        .flat_map(|f| &f.inputs)
        .filter(|i| i.is_secret() && i.name != "portal_password");
    for i in inputs {
        if s.plain.contains_key(&i.name) {
            continue;
        }
        let var = format!("EINVREG_{}", i.name.to_uppercase());
        let Ok(v) = std::env::var(&var) else {
            continue;
        };
        if let Some((_, c)) = crate::rules::control_char(&v) {
            return Err(format!(
                "{var} holds a control character (U+{:04X}); it would be typed as a key: remove it",
                c as u32
            ));
        }
        errln!(
            "note: {var} is used as `{}` for every GSTIN the secrets file names none for",
            i.name
        );
        s.plain.insert(i.name.clone(), Secret::new(v));
    }
    Ok(s)
}

/// Logins the secrets file lacks are asked once each, now, before the long run.
fn ask_missing_logins(p: &mut Prepared, auto_answer: bool) -> Result<(), String> {
    let missing = p.missing_logins();
    if missing.is_empty() {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() || auto_answer {
        return Err(format!("no portal password for login(s) {}: put them in --secrets FILE under [portal_password]", missing.join(", ")));
    }
    errln!("Portal passwords are asked once each, now, before the long run:");
    for u in missing {
        match rpassword::prompt_password(format!("  password for portal login {u}: ")) {
            Ok(pw) if !pw.is_empty() => {
                p.secrets.add_login(u, Secret::new(pw));
            }
            _ => return Err(format!("no password for {u}")),
        }
    }
    Ok(())
}

/// The vault, the journal and (with --resume) what the journal recorded.
struct Stores {
    vault: Arc<Vault>,
    journal: Arc<Journal>,
    resume: Option<std::collections::HashMap<String, batch::journal::Entry>>,
    /// `--repair`: per flow, the book every row shares and where the repaired flow goes.
    repair: Vec<Option<super::repaired::Plan>>,
}

fn open_stores(args: &Args) -> Result<Stores, CliError> {
    args.portal.rehearsal_note(args.vault.as_ref());
    let vault = Vault::open_with(&args.vault_file(), args.keys.keys()?).map_err(CliError::bad)?;
    // --resume and --verify read the vault back: a sealed one needs its
    // identity now, not after the first row has started.
    if args.resume || args.verify.verify.is_some() {
        vault.read_all().map_err(CliError::bad)?;
    }
    let vault = Arc::new(vault);
    let path = args.journal_file();
    let journal = Arc::new(Journal::open(&path).map_err(|e| CliError::bad_with("journal", e))?);
    let jerr = |e| CliError::bad_with(format!("journal {}", path.display()), e);
    let resume = match args.resume {
        true => Some(Journal::last_states(&path).map_err(jerr)?),
        false => None,
    };
    let used = std::fs::metadata(&path).is_ok_and(|m| m.len() > 0);
    if !args.resume && used {
        errln!(
            "note: {} already has entries; pass --resume to skip rows it records as registered",
            path.display()
        );
    }
    Ok(Stores {
        vault,
        journal,
        resume,
        repair: vec![],
    })
}

async fn run_async(
    args: Args,
    flows: Vec<Arc<Flow>>,
    (prepared, api_client): (Prepared, ApiClientSecrets),
    redactor: Redactor,
    stores: Stores,
    driver: DriverConfig,
) -> Result<Code, CliError> {
    let invalid: Vec<RowResult> = prepared
        .invalid
        .iter()
        .map(|(row, why)| RowResult::plain(row, RowStatus::NotStarted, why))
        .collect();
    if prepared.rows.is_empty() {
        // Nothing to run: no browser, no portal; the reports still list every row.
        errln!(
            "no valid rows in {}: nothing was started",
            args.csv.display()
        );
        let portal = args.portal.portal.as_deref().filter(|p| p.contains("://"));
        let at = portal.unwrap_or(&flows[0].base_url).to_string();
        return Ok(finish(&args, &at, invalid, vec![]));
    }
    let display = Arc::new(Display::new(prepared.rows.len()));
    let d = display.clone();
    let shown: Sink = Arc::new(move |e| d.on(e));
    let events = crate::events::tee(vec![shown, crate::events::log()]);
    // The desk, if asked for, shows the progress; it stops when this ends.
    let common::Answering {
        replica,
        base_url,
        queue,
        desk: _desk,
        events,
    } = common::portal_and_queue(
        &args.portal,
        &args.operator,
        &flows[0],
        events,
        prepared.rows.len(),
    )
    .await?;
    if display.queue.set(queue.clone()).is_err() {
        unreachable!("the display's queue is set once");
    }
    let verify =
        args.verify
            .after_run(&api_client, flows[0].portal, &base_url, replica.is_some())?;
    let endpoint = Arc::new(super::driver::start(&driver, &base_url).await?);
    errln!(
        "einvreg batch: {} rows of {} on {} ({} at a time; answers: {})",
        prepared.rows.len(),
        args.csv.display(),
        base_url,
        args.parallel,
        queue.describe()
    );
    let stop = Arc::new(AtomicBool::new(false));
    let rows = prepared.rows.clone();
    let names: Vec<String> = flows.iter().map(|f| f.name.clone()).collect();
    let spec_base = base_url.clone();
    let spec = Arc::new(BatchSpec {
        flows,
        base_url,
        rows: prepared.rows,
        parallel: args.parallel,
        vault: stores.vault.clone(),
        journal: stores.journal.clone(),
        queue: queue.clone(),
        redactor,
        artifacts_root: common::batch_artifacts(&args.artifacts),
        secrets: prepared.secrets,
        resume: stores.resume,
        stop: stop.clone(),
        events: events.clone(),
        verify,
        keep_alive: args.driver.keep_alive,
        repairs: stores
            .repair
            .iter()
            .map(|p| p.as_ref().map(|p| p.book.clone()))
            .collect(),
    });
    // Heard from here on: a press while the first rows start is not lost.
    let mut stops = Stops::listen()
        .map_err(|e| CliError::failed_with("cannot listen for Ctrl-C and SIGTERM", e))?;
    let work = batch::run(endpoint.clone(), spec);
    tokio::pin!(work);
    let mut stopped_by = None;
    let outcome = tokio::select! {
        r = &mut work => r,
        first = stops.next() => {
            stopped_by = Some(first);
            stop.store(true, Ordering::SeqCst);
            events(&Event::Note(format!("\n{}: starting no new GSTINs; in-flight ones finish (press Ctrl-C again to abort them)", first.name())));
            tokio::select! {
                r = &mut work => r,
                second = stops.next() => {
                    // Sealed first: rows whose browsers die now record nothing.
                    let journal = stores.journal.seal();
                    endpoint.kill();
                    display.pb.finish_and_clear();
                    return Ok(abort(&journal, &rows, &names).max(second.code()));
                }
            }
        }
    };
    display.pb.finish_and_clear();
    drop(endpoint);
    let mut results = outcome.results;
    results.extend(invalid);
    results.sort_by_key(|r| r.line);
    let mut code = finish(&args, &spec_base, results, outcome.store_errors);
    for plan in stores.repair.iter().flatten() {
        if let Err(e) = plan.write(false) {
            code = code.max(e.report());
        }
    }
    if let Some(sig) = stopped_by.filter(|s| *s == Stop::Terminate) {
        code = sig.code();
    }
    outln!(
        "vault {} · journal {} · operator answered {} prompt(s)",
        stores.vault.path().display(),
        stores.journal.path().display(),
        queue.asked()
    );
    Ok(code)
}

/// The summary table, the report and the exit code, for every row (run,
/// skipped or invalid) and every write that failed.
fn finish(
    args: &Args,
    base_url: &str,
    results: Vec<RowResult>,
    store_errors: Vec<batch::StoreFailure>,
) -> i32 {
    // Cut only for a person's terminal; a file or a pipe gets every word.
    let width = std::io::stdout().is_terminal().then_some(70);
    out!("{}", report::table(&results, width));
    let mut code = exit::of_batch(results.iter().map(|r| r.status));
    if let Some(p) = &args.report {
        let text = report::render(p, &results, base_url);
        if let Err(e) = crate::store::private::write(p, text.as_bytes()) {
            errln!("error: report {}: {e}", p.display());
            code = code.max(exit::FAILURE);
        }
    }
    if let Some(p) = &args.html {
        let portal = html::batch::Portal {
            address: base_url.to_string(),
            rehearsal: args.portal.rehearsal(),
        };
        if let Err(e) = write_html(p, &args.csv, &portal, &results) {
            errln!("error: --html {}: {e}", p.display());
            code = code.max(exit::FAILURE);
        }
    }
    for e in &store_errors {
        errln!("error: {}", crate::chain::Chain(e));
        code = code.max(exit::FAILURE);
    }
    code
}

/// The second Ctrl-C: rows in flight are recorded as in doubt for --resume.
fn abort(journal: &Sealed<'_>, rows: &[batch::rows::Row], flows: &[String]) -> i32 {
    match batch::mark_in_doubt(journal, rows, flows) {
        Ok(()) => errln!("aborted: in-flight GSTINs are recorded as in doubt in {}; run again with --resume to check them", journal.path().display()),
        Err(e) => errln!("aborted, and the journal {} could not record the GSTINs in flight ({}): check the vault's pending credentials before running again", journal.path().display(), crate::chain::Chain(&e)),
    }
    exit::INTERRUPTED
}

/// The HTML report, each failed row with its screenshot read from its folder.
fn write_html(
    p: &Path,
    csv: &Path,
    portal: &html::batch::Portal,
    results: &[RowResult],
) -> std::io::Result<()> {
    let shots: Vec<Option<Vec<u8>>> = results
        .iter()
        .map(|r| {
            let failed = !r.status.is_done();
            let f = r.artifacts.as_ref()?.join("screenshot.png");
            failed.then(|| std::fs::read(f).ok()).flatten()
        })
        .collect();
    let rows: Vec<html::batch::Row> = results
        .iter()
        .zip(&shots)
        .map(|(result, s)| html::batch::Row {
            result,
            screenshot: s.as_deref(),
        })
        .collect();
    let title = format!("einvreg batch: {}", csv.display());
    crate::store::private::write(p, html::batch::render(&title, portal, &rows).as_bytes())
}
