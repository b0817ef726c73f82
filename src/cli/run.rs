//! `einvreg run FLOW`: registers one GSTIN end to end.

use super::common::{self, DriverArgs, OperatorArgs, PortalArgs};
use super::error::{CliError, Code};
use crate::chained;
use crate::driver::DriverConfig;
use crate::events::{self, Event, RunStatus, Sink};
use crate::exit;
use crate::flow::inputs::Given;
use crate::flow::{Flow, Loc, Role};
use crate::redact::{Redactor, Secret};
use crate::runner::{self, Mode, RunSpec};
use crate::secrets::{ApiClientSecrets, SecretsFile, Want};
use crate::vault::Vault;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  export EINVREG_PORTAL_PASSWORD=...\n  einvreg run production-api-user --var gstin=27AAPFU0939F1ZV --var portal_username=udaytrd01 \\\n      --var through=gsp --var \"provider=Tera Software Limited\" --var api_username=udaytera\n  einvreg run sandbox-register --vars taxpayer.toml --secrets secrets.toml\n  EINVREG_PORTAL_PASSWORD=Uday@Login2024 einvreg run production-api-user --portal replica --auto-answer \\\n      --var gstin=27AAPFU0939F1ZV --var portal_username=udaytrd01 \\\n      --var \"provider=Tera Software Limited\" --var api_username=udaydemo   # rehearse on the built-in replica\n\nExit codes: einvreg --help"
)]
pub struct Args {
    /// Flow file or bundled flow name (`einvreg flows list`); A,B runs B
    /// after A, with what A created
    #[arg(value_parser = common::FlowNames, hide_possible_values = true)]
    pub flow: String,
    /// An input: --var gstin=27AAPFU0939F1ZV (repeatable; not for secrets)
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Inputs from a TOML file (name = "value")
    #[arg(long = "vars", value_name = "FILE")]
    pub vars_file: Option<PathBuf>,
    /// Secrets from an owner-only TOML file (name = "value"); else EINVREG_<NAME> or a prompt
    #[arg(long)]
    pub secrets: Option<PathBuf>,
    /// Where credentials are written before the submit (owner-only JSON lines) [default: einvreg-vault.jsonl; with --portal replica, einvreg-rehearsal-vault.jsonl]
    #[arg(long)]
    pub vault: Option<PathBuf>,
    #[command(flatten)]
    pub keys: common::KeyArgs,
    /// Folder for captcha images, the step trace and failure artifacts
    #[arg(long)]
    pub artifacts: Option<PathBuf>,
    /// Print the final report as JSON on stdout
    #[arg(long)]
    pub json: bool,
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
}

/// Inputs from `--vars FILE` and `--var`, with where each came from.
pub fn gather(
    flows: &[Arc<Flow>],
    file: Option<&PathBuf>,
    vars: &[String],
) -> Result<Vec<Given>, String> {
    let mut given = vec![];
    if let Some(f) = file {
        let text = common::read_text(f).map_err(|e| format!("{e:#}"))?;
        let table = toml::de::DeTable::parse(&text).map_err(|e| {
            let loc = e
                .span()
                .map(|s| Loc::of(&text, s.start))
                .unwrap_or_default();
            format!(
                "{}:{}:{}: not valid TOML: {}",
                f.display(),
                loc.line,
                loc.col,
                e.message()
            )
        })?;
        for (k, v) in table.get_ref().iter() {
            let loc = Loc::of(&text, k.span().start);
            let src = format!("{}:{}:{}", f.display(), loc.line, loc.col);
            match v.get_ref().as_str() {
                Some(s) => given.push(Given {
                    name: k.get_ref().to_string(),
                    value: s.to_string(),
                    source: src,
                }),
                None => return Err(format!("{src}: `{}` must be a quoted string", k.get_ref())),
            }
        }
    }
    for v in vars {
        let Some((k, val)) = v.split_once('=') else {
            return Err(format!("--var {v}: write NAME=VALUE"));
        };
        given.push(Given {
            name: k.trim().to_string(),
            value: val.to_string(),
            source: format!("--var {}", k.trim()),
        });
    }
    let secret = |g: &&Given| {
        flows
            .iter()
            .any(|f| f.input(&g.name).is_some_and(|i| i.is_secret()))
    };
    let secrets: Vec<&Given> = given.iter().filter(secret).collect();
    if let Some(g) = secrets.iter().find(|g| g.source.starts_with("--var")) {
        return Err(format!("{}: `{}` is a secret; command lines are visible to other users. Set EINVREG_{} or use --secrets FILE", g.source, g.name, g.name.to_uppercase()));
    }
    // The others came from the vars file: one look at its mode.
    if let (Some(f), Some(g)) = (file, secrets.first()) {
        private_if_secret(f, g)?;
    }
    Ok(given)
}

/// A vars file that holds a secret must be as private as a secrets file.
fn private_if_secret(file: &std::path::Path, g: &Given) -> Result<(), String> {
    if common::is_stdin(file) {
        return Ok(());
    }
    let meta = std::fs::metadata(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mode = crate::store::owner::mode_of(&meta);
    SecretsFile::check_mode(&file.display().to_string(), mode)
        .map_err(|e| format!("{e} (it holds the secret `{}` at {})", g.name, g.source))
}

pub fn run(args: Args) -> Result<Code, CliError> {
    args.operator.check()?;
    // Endpoints are read and checked once, before anything else starts.
    let driver = args.driver.config()?;
    let names = chained::split(&args.flow);
    let flows = names
        .iter()
        .map(|n| common::load_flow(n).map(Arc::new))
        .collect::<Result<Vec<_>, _>>()?;
    chained::check(&flows).map_err(|e| CliError::Usage(e.to_string()))?;
    let (links, api_client) = resolve_inputs(&args, &flows)?;
    let redactor = Redactor::new();
    let secrets = links.iter().flat_map(|l| l.resolved.secrets.values());
    for s in secrets.chain(&api_client.secret) {
        redactor.add(s.expose());
    }
    // A Grid's basic-auth password, in case an error ever echoes its URL.
    for p in driver.webdriver.iter().filter_map(|a| a.password()) {
        redactor.add(p);
    }
    if let Some(dir) = &args.artifacts {
        crate::store::private::check_own_dir(dir)
            .map_err(|e| CliError::Usage(format!("--artifacts {e}")))?;
    }
    let keys = args.keys.keys()?;
    args.portal.rehearsal_note(args.vault.as_ref());
    let vault = Arc::new(Vault::open_with(&args.vault_file(), keys).map_err(CliError::bad)?);
    let repairs = super::repaired::plans(&names, &flows, &args.operator, Default::default)?;
    super::block_on(run_async(
        args,
        links,
        api_client,
        redactor,
        (vault, repairs),
        driver,
    ))
}

/// Every input from --var, --vars, --secrets, `EINVREG_<NAME>` or a prompt,
/// checked before any browser starts; and the secrets file's API client.
fn resolve_inputs(
    args: &Args,
    flows: &[Arc<Flow>],
) -> Result<(Vec<chained::Link>, ApiClientSecrets), CliError> {
    let flow = &flows[0];
    let given = gather(flows, args.vars_file.as_ref(), &args.vars)?;
    let file_secrets: SecretsFile = match &args.secrets {
        Some(p) => common::read_secrets(p)?,
        None => Default::default(),
    };
    let api_client = file_secrets.api_client.clone();
    let interactive = std::io::stdin().is_terminal();
    let value_of = |name: &str| {
        given
            .iter()
            .rev()
            .find(|g| g.name == name)
            .map(|g| g.value.clone())
    };
    let gstin = flow
        .input_for(crate::flow::Role::Gstin)
        .and_then(|i| value_of(&i.name));
    let login = value_of("portal_username");
    let flow_of = |name: &str| flows.iter().find_map(|f| f.input(name));
    let resolved = chained::resolve(flows, &given, |flow, name, needed| {
        let want = Want::of(flow, name, gstin.as_deref(), login.as_deref());
        if let Some(s) = file_secrets.find(want) {
            return Some(s.clone());
        }
        if let Ok(v) = std::env::var(format!("EINVREG_{}", name.to_uppercase())) {
            return Some(Secret::new(v));
        }
        let generated = matches!(
            flow_of(name).map(|i| &i.ty),
            Some(crate::flow::InputType::Secret { generate: true })
        );
        // Another route's secret (e.g. Directly's Client Secret on a GSP run) is not asked.
        if !interactive || generated || !needed {
            return None;
        }
        let label = flow_of(name).map(|i| i.label.clone()).unwrap_or_default();
        rpassword::prompt_password(format!("{label} ({name}): "))
            .ok()
            .filter(|s| !s.is_empty())
            .map(Secret::new)
    });
    let resolved = resolved.map_err(|problems| {
        for p in &problems {
            errln!("error: {p}");
        }
        errln!("{} input problem(s); nothing was started", problems.len());
        CliError::Reported { code: exit::USAGE }
    })?;
    Ok((resolved, api_client))
}

async fn run_async(
    args: Args,
    mut links: Vec<chained::Link>,
    api_client: ApiClientSecrets,
    redactor: Redactor,
    (vault, repairs): (Arc<Vault>, Vec<Option<super::repaired::Plan>>),
    driver: DriverConfig,
) -> Result<Code, CliError> {
    let first = links[0].flow.clone();
    let gstin = first
        .input_for(Role::Gstin)
        .and_then(|i| links[0].resolved.vars.get(&i.name).cloned())
        .unwrap_or_default();
    let artifacts = args
        .artifacts
        .clone()
        .unwrap_or_else(|| common::default_artifacts(&gstin));
    let shown: Sink = match args.json {
        true => events::discard(),
        false => Arc::new(display),
    };
    let events = events::tee(vec![shown, events::log()]);
    // The desk, if asked for, shows the progress; it stops when this ends.
    let common::Answering {
        replica,
        base_url,
        queue,
        desk: _desk,
        events,
    } = common::portal_and_queue(&args.portal, &args.operator, &first, events, 1).await?;
    let verify = args
        .verify
        .after_run(&api_client, first.portal, &base_url, replica.is_some())?;
    let endpoint = Arc::new(super::driver::start(&driver, &base_url).await?);
    // The browser starts while the rest is set up.
    endpoint.plan_sessions(links.len(), 1);
    if !super::logging::quiet() {
        let names: Vec<&str> = links.iter().map(|l| l.flow.name.as_str()).collect();
        errln!(
            "einvreg: {} on {} for {} (answers: {})",
            names.join(" then "),
            base_url,
            gstin,
            queue.describe()
        );
    }
    let mut stops = super::signals::Stops::listen()
        .map_err(|e| CliError::failed_with("cannot listen for Ctrl-C and SIGTERM", e))?;
    let chain = links.len() > 1;
    let (mut reports, mut code) = (vec![], exit::OK);
    for i in 0..links.len() {
        if let Some(last) = reports.last().map(|r: &runner::RunReport| r.status) {
            let (done, rest) = links.split_at_mut(i);
            match chained::hand_on(&done[i - 1], last, &mut rest[0]) {
                chained::Next::Run => {}
                chained::Next::Stop => break,
                chained::Next::Missing(m) => {
                    let why = m.explain(|n| {
                        format!("`{n}` (--secrets FILE, or EINVREG_{})", n.to_uppercase())
                    });
                    errln!("stopped before {}: {why}", rest[0].flow.name);
                    code = exit::FAILURE;
                    break;
                }
            }
        }
        let link = &links[i];
        let spec = RunSpec {
            flow: link.flow.clone(),
            base_url: base_url.clone(),
            vars: link.resolved.vars.clone(),
            secrets: link.resolved.secrets.clone(),
            // A chain's flows each keep their own folder.
            artifacts: match chain {
                true => artifacts.join(&link.flow.name),
                false => artifacts.clone(),
            },
            ledger: crate::ledger::Ledger::vault(vault.clone()),
            queue: queue.clone(),
            redactor: redactor.clone(),
            events: events.clone(),
            mode: Mode::Register,
            keep_alive: args.driver.keep_alive,
            repairs: repairs[i].as_ref().map(|p| p.book.clone()),
        };
        let report = tokio::select! {
            r = runner::run_in_new_session(&endpoint, &spec) => r,
            sig = stops.next() => {
                errln!("\n{}: the browser is closed; any credential already written stays in {}", sig.name(), vault.path().display());
                return Ok(sig.code());
            }
        };
        let report = match &verify {
            Some(v) => verified(report, &vault, v).await,
            None => report,
        };
        if !args.json {
            summary(&report, &redactor);
        }
        code = exit::of_run(report.status);
        if let Some(e) = &report.store_error {
            errln!(
                "error: {}",
                redactor.redact(&crate::chain::chain(e.as_ref()))
            );
            code = code.max(exit::FAILURE);
        }
        reports.push(report);
    }
    drop(endpoint);
    if args.json {
        let json = match chain {
            true => serde_json::to_string_pretty(&reports),
            false => serde_json::to_string_pretty(&reports[0]),
        };
        outln!("{}", redactor.redact(&json.expect("reports serialise")));
    }
    for plan in repairs.into_iter().flatten() {
        if let Err(e) = plan.write(args.json) {
            code = code.max(e.report());
        }
    }
    Ok(code)
}

/// `--verify`: the run's credential checked through the auth API, its
/// verdict in the report.
async fn verified(
    mut r: runner::RunReport,
    vault: &Vault,
    v: &crate::verify::AfterRun,
) -> runner::RunReport {
    let wanted = r.status == RunStatus::NeedsVerification
        || (v.created_too && r.status == RunStatus::Registered);
    let Some(id) = r.credential.clone().filter(|_| wanted) else {
        return r;
    };
    if let Some(s) = crate::verify::settle::by_id(vault, &v.verifier, &id).await {
        let end = crate::events::Ending::new(r.status, std::mem::take(&mut r.message));
        let end = crate::verify::settle::status_after(end, &s);
        (r.status, r.message) = (end.status, end.message);
        if let Some(e) = s.store_error {
            r.store_error.get_or_insert(e);
        }
    }
    r
}

/// The human display: a consumer of the walk's events.
fn display(e: &Event) {
    if super::logging::quiet() {
        return;
    }
    match e {
        Event::ScreenEntered { label, .. } => errln!("  → {label}"),
        Event::Interrupted { label } => errln!("  ⤷ {label} (closed)"),
        Event::Repaired { screen, step, what } => match step {
            Some(step) => errln!("  ✎ {screen} › {step}: {what} (repaired)"),
            None => errln!("  ✎ {screen}: {what} (repaired)"),
        },
        Event::Dialog(d) => match d.sorted {
            crate::events::DialogSort::Unknown => {
                errln!("  ! dialog \"{}\": answered no (nothing in the flow names it)", d.text)
            }
            sorted => errln!("  ◇ dialog \"{}\": {:?} ({sorted:?})", d.text, d.answer),
        },
        Event::Retry { outcome, screen, attempt } => errln!("  ↺ {outcome}: back to \"{screen}\" (try {attempt})"),
        Event::Fallback { screen, step, used, primary } => errln!("  ! {screen} › {step}: `{primary}` no longer matches; fallback `{used}` did (update the flow)"),
        _ => {}
    }
}

fn summary(r: &runner::RunReport, redactor: &Redactor) {
    let head = match r.status {
        RunStatus::Registered => "registered",
        RunStatus::AlreadyRegistered => "already registered",
        RunStatus::NeedsVerification => "NEEDS VERIFICATION",
        RunStatus::HumanNeeded => "stopped: a person was needed",
        RunStatus::Drift => "stopped: the portal does not match the flow",
        RunStatus::PortalError => "stopped: portal error",
        RunStatus::LoginRefused => "stopped: the portal refused the login",
        RunStatus::Failed => "failed",
    };
    outln!("{head}: {}", redactor.redact(&r.message));
    if let Some(fix) = &r.fix {
        outln!("  proposal    {}", fix.replace('\n', "\n              "));
    }
    outln!("  GSTIN       {} ({})", r.gstin, r.portal);
    if let Some(u) = &r.api_username {
        match r.credential_kind {
            Some(crate::vault::Kind::PortalLogin) => outln!("  login       {u}"),
            _ => outln!("  API user    {u}"),
        }
    }
    if let Some(v) = &r.vault {
        outln!("  vault       {} (password stored there only)", v.display());
    }
    outln!("  artifacts   {}", r.artifacts.display());
    outln!(
        "  time        {:.1}s machine, {:.1}s waiting for people",
        r.machine_time().as_secs_f64(),
        r.human_wait.as_secs_f64()
    );
    if r.status == RunStatus::NeedsVerification {
        outln!("  next        log in with these credentials (or check the portal's list) before registering again");
    }
}
