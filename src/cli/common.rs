//! Options shared by `run`, `batch` and `smoke`, and the steps every such
//! command takes before a browser starts.

pub use super::driver::DriverArgs;
use crate::events::Sink;
use crate::flow::{self, bundled::FlowArg, Diagnostic, Flow};
use crate::operator::{
    command::CommandOperator,
    oracle::{Mistakes, Oracle},
    terminal::{ImageMode, Terminal},
    Nobody, Operator, Split, WithRepair,
};
use crate::replica::{Drift, Faults, Fixtures, Layout, Options, Replica};
use crate::secrets::SecretsFile;

use anyhow::Context;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct PortalArgs {
    /// `replica` (built-in, in-process) or a base URL; default: the flow's real portal
    #[arg(long)]
    pub portal: Option<String>,
    /// With --portal replica: faults to inject (see `einvreg replica --help`)
    #[arg(long)]
    pub replica_faults: Option<String>,
    /// With --portal replica: a named markup drift
    #[arg(long)]
    pub replica_drift: Option<String>,
    /// With --portal replica: its layout (evidence, legacy, renamed; see `einvreg replica --help`)
    #[arg(long)]
    pub replica_layout: Option<String>,
    /// With --portal replica: keep its users in this file
    #[arg(long)]
    pub replica_state: Option<PathBuf>,
    /// With --portal replica: print each SMS on the console (default: on for interactive runs)
    #[arg(long)]
    pub replica_sms: Option<bool>,
    /// With --portal replica: add N generated taxpayers (the bench's batches)
    #[arg(long, hide = true, default_value_t = 0)]
    pub replica_taxpayers: usize,
}

impl PortalArgs {
    /// A rehearsal on the built-in replica (`--portal replica`).
    pub fn rehearsal(&self) -> bool {
        self.portal.as_deref() == Some("replica")
    }

    /// Says once, on a rehearsal with the default vault, that rehearsals no
    /// longer write the real default vault an earlier version used.
    pub fn rehearsal_note(&self, given_vault: Option<&PathBuf>) {
        let real = Path::new(crate::vault::DEFAULT_FILE);
        if self.rehearsal() && given_vault.is_none() && real.exists() {
            errln!(
                "note: rehearsals (--portal replica) write {} (and a batch's journal {}); {} is left to real credentials, and earlier rehearsals' records stay in it (give --vault {} to keep writing there)",
                crate::vault::REHEARSAL_FILE,
                crate::batch::journal::REHEARSAL_FILE,
                real.display(),
                real.display(),
            );
        }
    }

    /// `given`, else the default file: a rehearsal's own, so rehearsed
    /// credentials and journals never mix with real ones.
    pub fn file_or(&self, given: Option<&PathBuf>, real: &str, rehearsal: &str) -> PathBuf {
        match (given, self.rehearsal()) {
            (Some(p), _) => p.clone(),
            (None, true) => PathBuf::from(rehearsal),
            (None, false) => PathBuf::from(real),
        }
    }

    /// Starts the replica if asked; returns it (keep it alive) and the base URL.
    pub async fn resolve(
        &self,
        flow: &Flow,
        interactive: bool,
    ) -> Result<(Option<Replica>, String), String> {
        match self.portal.as_deref() {
            Some("replica") => {
                let mut o = Options {
                    quiet: !self.replica_sms.unwrap_or(interactive),
                    state_file: self.replica_state.clone(),
                    extra_taxpayers: self.replica_taxpayers,
                    ..Options::default()
                };
                o.fixtures = fixtures();
                if let Some(f) = &self.replica_faults {
                    o.faults = Faults::parse(f).map_err(|e| format!("--replica-faults: {e}"))?;
                }
                if let Some(d) = &self.replica_drift {
                    o.drift = Some(Drift::parse(d).map_err(|e| format!("--replica-drift: {e}"))?);
                }
                if let Some(l) = &self.replica_layout {
                    o.layout = Layout::parse(l).map_err(|e| format!("--replica-layout: {e}"))?;
                }
                let r = Replica::start(o).await.map_err(|e| {
                    format!("cannot start the replica: {}", crate::chain::Chain(&e))
                })?;
                let url = r.url_for(flow.portal).to_string();
                Ok((Some(r), url))
            }
            Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
                if self.replica_faults.is_some()
                    || self.replica_drift.is_some()
                    || self.replica_layout.is_some()
                {
                    return Err(
                        "--replica-faults/--replica-drift/--replica-layout need --portal replica"
                            .into(),
                    );
                }
                Ok((None, u.trim_end_matches('/').to_string()))
            }
            Some(other) => Err(format!(
                "--portal {other}: give `replica` or an http(s) URL"
            )),
            None => Ok((None, flow.base_url.clone())),
        }
    }
}

/// Which vault `verify` and `vault` read: `--vault FILE`, `--rehearsal`, or the default.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct VaultFile {
    /// The vault file [default: einvreg-vault.jsonl]
    #[arg(long)]
    pub vault: Option<PathBuf>,
    /// The rehearsals' vault (einvreg-rehearsal-vault.jsonl), where `--portal replica` runs write
    #[arg(long, conflicts_with = "vault")]
    pub rehearsal: bool,
}

impl VaultFile {
    pub fn path(&self) -> PathBuf {
        use crate::vault::{DEFAULT_FILE, REHEARSAL_FILE};
        match (&self.vault, self.rehearsal) {
            (Some(p), _) => p.clone(),
            (None, true) => PathBuf::from(REHEARSAL_FILE),
            (None, false) => PathBuf::from(DEFAULT_FILE),
        }
    }

    /// "no such vault", and where rehearsed credentials are when only they exist.
    pub fn missing(&self) -> String {
        let path = self.path();
        let rehearsed = Path::new(crate::vault::REHEARSAL_FILE);
        match self.vault.is_none() && !self.rehearsal && rehearsed.exists() {
            true => format!(
                "{}: no such vault; rehearsals (--portal replica) wrote {}: give --rehearsal",
                path.display(),
                rehearsed.display()
            ),
            false => format!("{}: no such vault (give --vault FILE)", path.display()),
        }
    }
}

/// A flow argument: any name, path or `-`, taken as given (a name is checked
/// when the flow loads, with a did-you-mean). Shell completions offer the
/// bundled flows' names (a path still completes as a file name).
#[derive(Clone, Debug)]
pub struct FlowNames;

impl clap::builder::TypedValueParser for FlowNames {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let names = flow::bundled::BUNDLED.iter().map(|b| b.name);
        Some(Box::new(names.map(clap::builder::PossibleValue::new)))
    }
}

/// The replica's data and the provider list: `$EINVREG_FIXTURES` if set,
/// else the copy built into the binary.
pub fn fixtures() -> Fixtures {
    std::env::var_os("EINVREG_FIXTURES").map_or(Fixtures::Embedded, |d| Fixtures::Dir(d.into()))
}

#[derive(clap::Args, Debug, Clone, Default)]
pub struct OperatorArgs {
    /// Answer captchas and OTPs from the replica's test aids (only against the replica)
    #[arg(long)]
    pub auto_answer: bool,
    /// With --auto-answer, play a fallible person: "captcha=1,otp=1,expire_otp=1,expire_session=1,delay=2000"
    #[arg(long, hide = true)]
    pub auto_answer_mistakes: Option<String>,
    /// With --auto-answer, log each answer's start and end (tests check prompts never overlap)
    #[arg(long, hide = true)]
    pub auto_answer_log: Option<PathBuf>,
    /// Command that prints the captcha answer; gets the PNG path as $1
    #[arg(long)]
    pub captcha_command: Option<String>,
    /// Command that prints the OTP; gets EINVREG_GSTIN and EINVREG_MOBILE
    #[arg(long)]
    pub otp_command: Option<String>,
    /// How long a prompt or answer command may take
    #[arg(long, default_value = "5m")]
    pub prompt_timeout: String,
    /// On drift, ask what stands there now (in the terminal, on the desk,
    /// or --repair-command) and go on in the same session; the repaired
    /// flow is written at the end
    #[arg(long)]
    pub repair: bool,
    /// Command that answers repair questions (implies --repair): gets the
    /// candidates' JSON file as $1, EINVREG_REPAIR_KIND, EINVREG_REPAIR_SCREEN,
    /// EINVREG_REPAIR_STEP and EINVREG_GSTIN; prints a number, a target,
    /// skip, accept, dismiss or stop
    #[arg(long)]
    pub repair_command: Option<String>,
    /// Where the repaired flow goes [default: NAME.repaired.toml here]; the
    /// flow's own file only when this names it
    #[arg(long)]
    pub repair_out: Option<PathBuf>,
    #[command(flatten)]
    pub desk: super::desk::DeskArgs,
}

/// Variables of einvreg's own environment (`EINVREG_*`: secrets may be
/// among them) that commands it runs must not see.
pub fn own_env() -> Vec<std::ffi::OsString> {
    std::env::vars_os()
        .map(|(k, _)| k)
        .filter(|k| k.to_string_lossy().starts_with("EINVREG_"))
        .collect()
}

impl OperatorArgs {
    pub fn interactive(&self) -> bool {
        !self.auto_answer && std::io::stdin().is_terminal()
    }

    /// `--prompt-timeout` as a duration (checked first thing: bad input
    /// is refused before anything else is read).
    pub fn timeout(&self) -> Result<Duration, String> {
        parse_duration_arg("--prompt-timeout", &self.prompt_timeout)
    }

    /// Every answer option checked (the desk's certificate read), first
    /// thing: bad input is refused before anything else is read.
    pub fn check(&self) -> Result<(), String> {
        let timeout = self.timeout()?;
        if self.repair_out.is_some() && !self.repairs() {
            return Err("--repair-out needs --repair or --repair-command".into());
        }
        let asker = self.repair_command.is_some() || self.desk.desk;
        if self.repair && !asker && !std::io::stdin().is_terminal() {
            return Err("--repair asks in the terminal, and stdin is not one: pass --repair-command CMD (or --desk) to answer repair questions".into());
        }
        self.desk.config(timeout).map(|_| ())
    }

    /// Whether drift is asked about (`--repair` or `--repair-command`).
    pub fn repairs(&self) -> bool {
        self.repair || self.repair_command.is_some()
    }

    /// Who answers: captchas and OTPs as [`OperatorArgs::answers`] says,
    /// repair questions from `--repair-command` or the terminal.
    pub async fn build(&self, base_url: &str) -> Result<Arc<dyn Operator>, String> {
        let rest = self.answers(base_url).await?;
        if !self.repairs() {
            return Ok(rest);
        }
        let repair: Arc<dyn Operator> = match &self.repair_command {
            Some(c) => Arc::new(CommandOperator {
                command: c.clone(),
                timeout: self.timeout()?,
            }),
            None if std::io::stdin().is_terminal() => {
                Arc::new(Terminal::new(self.timeout()?, ImageMode::Off, columns()))
            }
            // The desk (checked: it is on) answers.
            None => Arc::new(Nobody),
        };
        Ok(Arc::new(WithRepair { rest, repair }))
    }

    async fn answers(&self, base_url: &str) -> Result<Arc<dyn Operator>, String> {
        let timeout = self.timeout()?;
        if self.auto_answer {
            if self.captcha_command.is_some() || self.otp_command.is_some() {
                return Err(
                    "--auto-answer cannot be combined with --captcha-command/--otp-command".into(),
                );
            }
            Oracle::check_replica(base_url)
                .await
                .map_err(|e| crate::chain::chain(&e))?;
            let m = match &self.auto_answer_mistakes {
                Some(s) => {
                    Mistakes::parse(s).map_err(|e| format!("--auto-answer-mistakes: {e}"))?
                }
                None => Mistakes::default(),
            };
            let mut o = Oracle::new(m);
            o.log = self.auto_answer_log.clone();
            return Ok(Arc::new(o));
        }
        if self.auto_answer_mistakes.is_some() {
            return Err("--auto-answer-mistakes needs --auto-answer".into());
        }
        let human: Arc<dyn Operator> = if std::io::stdin().is_terminal() {
            Arc::new(Terminal::new(
                timeout,
                ImageMode::detect(|k| std::env::var(k).ok()),
                columns(),
            ))
        } else {
            Arc::new(Nobody)
        };
        let cmd = |c: &Option<String>| -> Option<Arc<dyn Operator>> {
            c.as_ref().map(|c| {
                Arc::new(CommandOperator {
                    command: c.clone(),
                    timeout,
                }) as Arc<dyn Operator>
            })
        };
        Ok(match (cmd(&self.captcha_command), cmd(&self.otp_command)) {
            (None, None) => human,
            (c, o) => Arc::new(Split {
                captcha: c.unwrap_or_else(|| human.clone()),
                otp: o.unwrap_or(human),
            }),
        })
    }
}

/// Loads a flow or prints its diagnostics.
pub fn load_flow(arg: &str) -> Result<Flow, String> {
    let (shown, text) = flow_text(arg).map_err(|d| d.to_string())?;
    match flow::load_str(&shown, &text) {
        Ok((f, warnings)) => {
            for w in warnings {
                errln!("{w}");
            }
            Ok(f)
        }
        Err(diags) => Err(diags
            .iter()
            .map(Diagnostic::to_string)
            .collect::<Vec<_>>()
            .join("\n")
            + "\nfix the flow (einvreg check shows the same), then run again"),
    }
}

/// A flow argument's name for diagnostics and its TOML: a bundled flow, a
/// file, or `-` for stdin.
pub fn flow_text(arg: &str) -> Result<(PathBuf, String), Box<Diagnostic>> {
    let no = |msg: String, help: &str| {
        Box::new(Diagnostic::error(
            Path::new(arg),
            flow::Loc::default(),
            msg,
            help,
        ))
    };
    let parsed = flow::bundled::parse_arg(arg)
        .map_err(|e| no(e.to_string(), "give a bundled flow's name or a file's path"))?;
    match parsed {
        FlowArg::Bundled(b) => Ok((b.shown(), b.text.to_string())),
        FlowArg::File(p) => std::fs::read_to_string(&p)
            .map(|t| (p.clone(), t))
            .map_err(|e| {
                no(
                    format!("cannot read the flow file: {e}"),
                    "check the path (einvreg flows list shows the bundled flows)",
                )
            }),
        FlowArg::Stdin => read_stdin()
            .map(|t| (PathBuf::from("(stdin)"), t))
            .map_err(|e| no(e, "pipe the flow's TOML in, or give its path")),
    }
}

/// All of stdin, for a `-` argument (only one argument may be `-`).
pub fn read_stdin() -> Result<String, String> {
    if STDIN_TAKEN.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return Err("only one argument may be `-` (stdin): give the others as files".into());
    }
    let mut s = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
        .map_err(|e| format!("cannot read stdin: {e}"))?;
    Ok(s)
}

/// Reads a secrets file, refused unless owner-only (`-`: stdin, e.g. from
/// a password manager, which no other user can read).
pub fn read_secrets(path: &Path) -> anyhow::Result<SecretsFile> {
    let name = path.display().to_string();
    if !is_stdin(path) {
        let meta = std::fs::metadata(path).with_context(|| name.clone())?;
        // A FIFO or device with no writer would block the read for ever.
        if !meta.is_file() {
            anyhow::bail!("{name}: not a regular file; give --secrets a file (or - for stdin)");
        }
        SecretsFile::check_mode(&name, crate::store::owner::mode_of(&meta))?;
    }
    let text = read_text(path)?;
    Ok(SecretsFile::parse(&name, &text)?)
}

/// A text file's content (`-`: stdin); the error names the file.
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    if is_stdin(path) {
        return read_stdin().map_err(anyhow::Error::msg);
    }
    std::fs::read_to_string(path).with_context(|| path.display().to_string())
}

/// The terminal's width, asked of the terminal on stderr (where prompts go) each time.
fn columns() -> crate::operator::terminal::Columns {
    Box::new(|| terminal_size::terminal_size_of(std::io::stderr()).map(|(w, _)| usize::from(w.0)))
}

/// Whether a path argument is `-`.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

static STDIN_TAKEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A run's own folder: `einvreg-runs/<time>-<gstin>-<pid>`.
pub fn default_artifacts(gstin: &str) -> PathBuf {
    let who = if gstin.is_empty() { "run" } else { gstin };
    PathBuf::from("einvreg-runs").join(format!("{}-{who}-{}", stamp(), std::process::id()))
}

/// A batch's own folder under `root` (`<time>-batch-<pid>`), so a second
/// batch in the same folder never writes over the first one's rows.
pub fn batch_artifacts(root: &Path) -> PathBuf {
    root.join(format!("{}-batch-{}", stamp(), std::process::id()))
}

/// Now, as folder names start: `20261206-205306`.
fn stamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(time::macros::format_description!(
        "[year][month][day]-[hour][minute][second]"
    ))
    .unwrap_or_default()
}

pub fn parse_duration_arg(what: &str, s: &str) -> Result<Duration, String> {
    flow::parse::parse_duration(s).ok_or_else(|| format!("{what}: `{s}` is not a duration"))
}

/// Where the run goes and who answers its prompts.
pub struct Answering {
    /// The replica, when einvreg started one (it stops when dropped).
    pub replica: Option<Replica>,
    pub base_url: String,
    pub queue: Arc<crate::operator::Queue>,
    /// The answer desk, with `--desk` (it stops when dropped).
    pub desk: Option<crate::desk::Desk>,
    /// The events given, and the desk's progress when there is one.
    pub events: Sink,
}

/// The portal to use (starting the replica if asked) and who answers
/// prompts, behind one queue that tells `events` about each prompt; with
/// `--desk`, the desk too, showing the progress of `rows` rows.
pub async fn portal_and_queue(
    portal: &PortalArgs,
    operator: &OperatorArgs,
    flow: &Flow,
    events: Sink,
    rows: usize,
) -> Result<Answering, String> {
    let (replica, base_url) = portal.resolve(flow, operator.interactive()).await?;
    let op = operator.build(&base_url).await?;
    let queue = crate::operator::Queue::new(op, events.clone());
    let desk = match operator.desk.config(operator.timeout()?)? {
        Some(cfg) => Some(super::desk::start(cfg).await?),
        None => None,
    };
    let (queue, events) = match &desk {
        Some(d) => {
            d.set_total(rows);
            let events = crate::events::tee(vec![events, d.sink()]);
            (queue.with_desk(d.operator()), events)
        }
        None => (queue, events),
    };
    Ok(Answering {
        replica,
        base_url,
        queue: Arc::new(queue),
        desk,
        events,
    })
}

#[derive(clap::Args, Debug, Clone, Default)]
pub struct KeyArgs {
    /// Seal each vault record for this age recipient (age1...; repeatable): the vault then holds no credential in clear
    #[arg(long, value_name = "AGE1...")]
    pub vault_recipient: Vec<String>,
    /// Seal for every recipient in this file (one age1... per line, # comments)
    #[arg(long, value_name = "FILE")]
    pub vault_recipients_file: Option<PathBuf>,
    /// age identity file that opens sealed records (for vault commands, --resume, --verify)
    #[arg(long, value_name = "FILE", env = "EINVREG_VAULT_IDENTITY")]
    pub vault_identity: Option<PathBuf>,
}

impl KeyArgs {
    /// The recipients and identities given, read and checked.
    pub fn keys(&self) -> Result<Arc<crate::vault::Keys>, String> {
        let mut k = crate::vault::Keys::default();
        for r in &self.vault_recipient {
            k.add_recipient("--vault-recipient", r)
                .map_err(|e| crate::chain::chain(&e))?;
        }
        if let Some(f) = &self.vault_recipients_file {
            let text = read_text(f).map_err(|e| format!("--vault-recipients-file: {e:#}"))?;
            k.add_recipients_file(&f.display().to_string(), &text)
                .map_err(|e| crate::chain::chain(&e))?;
        }
        if let Some(f) = &self.vault_identity {
            let name = f.display().to_string();
            let meta = std::fs::metadata(f).map_err(|e| format!("--vault-identity {name}: {e}"))?;
            SecretsFile::check_mode(&name, crate::store::owner::mode_of(&meta))
                .map_err(|e| crate::chain::chain(&e))?;
            let text = read_text(f).map_err(|e| format!("--vault-identity: {e:#}"))?;
            k.add_identity_file(&name, &text)
                .map_err(|e| crate::chain::chain(&e))?;
        }
        Ok(Arc::new(k))
    }
}
