//! `einvreg verify`: logs in with vault credentials through the e-Invoice
//! auth API and records what it says; and the `--verify` options that
//! `run` and `batch` share. The API client, keys and URLs are read here.

use super::common;
use super::error::{CliError, Code};
use crate::driver::address::on_this_machine;
use crate::exit;
use crate::flow::PortalKind;
use crate::redact::Secret;
use crate::replica::Fixture;
use crate::secrets::{ApiClientSecrets, SecretsFile};
use crate::vault::{Credential, Status, Vault};
use crate::verify::settle::{self, Settled};
use crate::verify::{self, Api, ApiClient, Pacing, Route, Verdict, Verifier};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the auth API is and how to encrypt for it.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ApiArgs {
    /// NIC's public key (PEM) for the auth API: FILE, or PORTAL=FILE (sandbox and production keys differ)
    #[arg(long = "nic-public-key", value_name = "[PORTAL=]FILE")]
    pub keys: Vec<String>,
    /// The auth API's base URL (default: NIC's, per portal): URL, or PORTAL=URL, e.g. a GSP gateway
    #[arg(long = "api-url", value_name = "[PORTAL=]URL")]
    pub urls: Vec<String>,
}

/// `--verify` on `run` and `batch`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct VerifyArgs {
    /// After the run, log in with the credential through the e-Invoice auth API: `--verify` checks those in doubt, `--verify=all` fresh ones too; with --resume, in-flight credentials are checked before the portal's screens
    #[arg(long, value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "doubt")]
    pub verify: Option<When>,
    #[command(flatten)]
    pub api: ApiArgs,
}

/// Which credentials `--verify` checks.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Those in doubt (needs verification, or left in flight).
    Doubt,
    /// Freshly created ones too.
    All,
}

impl VerifyArgs {
    /// The after-run check, if asked for; a bad client, key or URL is an
    /// error now. On the built-in replica, its own key is the default.
    pub fn after_run(
        &self,
        secrets: &ApiClientSecrets,
        portal: PortalKind,
        base_url: &str,
        on_replica: bool,
    ) -> Result<Option<verify::AfterRun>, String> {
        let Some(when) = self.verify else {
            return Ok(None);
        };
        let portals = [(portal, base_url.to_string())];
        let verifier = build(&self.api, secrets, &portals, on_replica)?;
        Ok(Some(verify::AfterRun {
            verifier,
            created_too: when == When::All,
        }))
    }
}

/// The caller's API client: the secrets file, else the environment.
fn client(secrets: &ApiClientSecrets) -> Result<ApiClient, String> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let id = secrets.id.clone().or_else(|| env("EINVREG_API_CLIENT_ID"));
    let secret = secrets
        .secret
        .clone()
        .or_else(|| env("EINVREG_API_CLIENT_SECRET").map(Secret::new));
    match (id, secret) {
        (Some(id), Some(secret)) => Ok(ApiClient { id, secret }),
        _ => Err("no e-Invoice API client: put api_client_id and api_client_secret in --secrets FILE, or set EINVREG_API_CLIENT_ID and EINVREG_API_CLIENT_SECRET (your GSP's, ERP's or own direct-integration client)".into()),
    }
}

/// `PORTAL=VALUE` for this portal, else an unprefixed VALUE.
fn for_portal(values: &[String], portal: PortalKind) -> Option<&str> {
    let prefixed = values.iter().find_map(|v| {
        v.split_once('=')
            .filter(|(p, _)| *p == portal.as_str())
            .map(|(_, x)| x)
    });
    prefixed.or_else(|| {
        values
            .iter()
            .find(|v| !v.starts_with("sandbox=") && !v.starts_with("production="))
            .map(String::as_str)
    })
}

/// The key file for `portal` (its name and text): given; on a rehearsal
/// portal, the replica's own (built in); else where to get NIC's.
fn key_file(
    api: &ApiArgs,
    portal: PortalKind,
    base: &str,
    rehearsal: bool,
) -> Result<Fixture, String> {
    if let Some(f) = for_portal(&api.keys, portal) {
        let text =
            common::read_text(Path::new(f)).map_err(|e| format!("--nic-public-key: {e:#}"))?;
        return Ok(Fixture {
            name: f.to_string(),
            text,
        });
    }
    match rehearsal {
        true => common::fixtures()
            .read(&format!("api-auth/{}-public.pem", portal.as_str()))
            .map_err(|e| crate::chain::chain(&e)),
        false => Err(format!(
            "no NIC public key for {p} (credentials made on {base}): download it from the e-Invoice portal (API user management; NIC also mails production's) and pass --nic-public-key {p}=FILE",
            p = portal.as_str()
        )),
    }
}

/// A verifier for these portals, each the kind and base URL its
/// credentials were made on: each is asked its own auth API.
pub fn build(
    api: &ApiArgs,
    secrets: &ApiClientSecrets,
    portals: &[(PortalKind, String)],
    on_replica: bool,
) -> Result<Arc<Verifier>, String> {
    let client = client(secrets)?;
    let mut routes: Vec<Route> = vec![];
    for (portal, base) in portals {
        let base = base.trim_end_matches('/');
        if routes.iter().any(|r| r.portal == *portal && r.base == base) {
            continue;
        }
        let file = key_file(api, *portal, base, on_replica || on_this_machine(base))?;
        let key =
            verify::key::parse(&file.name, &file.text).map_err(|e| crate::chain::chain(&e))?;
        let url = for_portal(&api.urls, *portal)
            .map(|u| u.trim_end_matches('/').to_string())
            .unwrap_or_else(|| verify::default_url(*portal, base));
        verify::http::check_url(&url).map_err(|e| format!("--api-url: {e}"))?;
        let base = base.to_string();
        routes.push(Route {
            portal: *portal,
            base,
            api: Api { url, key },
        });
    }
    Ok(Arc::new(Verifier::new(client, routes, Pacing::default())))
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub file: common::VaultFile,
    /// Only these GSTINs (repeat)
    #[arg(long)]
    pub gstin: Vec<String>,
    /// Which credentials: in doubt (needs_verification and pending, the default), one status, or all
    #[arg(long, value_enum)]
    pub status: Vec<Which>,
    /// Owner-only TOML with api_client_id and api_client_secret (or set EINVREG_API_CLIENT_ID / EINVREG_API_CLIENT_SECRET)
    #[arg(long)]
    pub secrets: Option<PathBuf>,
    /// One JSON object per credential on stdout instead of the table
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub api: ApiArgs,
    #[command(flatten)]
    pub keys: common::KeyArgs,
}

/// `--status` values.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
#[value(rename_all = "snake_case")]
pub enum Which {
    NeedsVerification,
    Pending,
    Created,
    Failed,
    All,
}

impl Which {
    fn takes(self, s: Status) -> bool {
        match self {
            Which::NeedsVerification => s == Status::NeedsVerification,
            Which::Pending => s == Status::Pending,
            Which::Created => s == Status::Created,
            Which::Failed => s == Status::Failed,
            Which::All => true,
        }
    }
}

/// The credentials `--gstin` and `--status` select: API users, the only
/// kind the e-Invoice auth API can check.
fn select(all: Vec<Credential>, gstins: &[String], which: &[Which]) -> Vec<Credential> {
    let which = match which.is_empty() {
        true => &[Which::NeedsVerification, Which::Pending][..],
        false => which,
    };
    all.into_iter()
        .filter(|c| gstins.is_empty() || gstins.iter().any(|g| g.eq_ignore_ascii_case(&c.gstin)))
        .filter(|c| which.iter().any(|w| w.takes(c.status)))
        .filter(|c| c.kind == crate::vault::Kind::ApiUser)
        .collect()
}

pub fn run(args: Args) -> Result<Code, CliError> {
    let secrets = match &args.secrets {
        Some(p) => common::read_secrets(p)?,
        None => SecretsFile::default(),
    };
    let keys = args.keys.keys()?;
    let path = args.file.path();
    let vault = Arc::new(Vault::open_with(&path, keys).map_err(CliError::bad)?);
    let all = vault.read_all().map_err(CliError::bad)?;
    let creds = select(all, &args.gstin, &args.status);
    if creds.is_empty() {
        errln!(
            "{}: no credential matches; nothing to verify",
            path.display()
        );
        return Ok(exit::OK);
    }
    let mut portals = vec![];
    for c in &creds {
        match settle::portal_of(c) {
            Some(p) => portals.push((p, c.base_url.clone())),
            None => {
                return Err(
                    format!("{}: credential {} names no portal", path.display(), c.id).into(),
                )
            }
        }
    }
    let verifier = build(&args.api, &secrets.api_client, &portals, false)?;
    errln!(
        "einvreg verify: {} credential(s) of {}",
        creds.len(),
        path.display()
    );
    let done = super::block_on(settle::all(vault, verifier, creds));
    show(&done, args.json);
    Ok(code(&done))
}

fn show(done: &[Settled], json: bool) {
    if json {
        for s in done {
            let v = serde_json::json!({
                "id": s.id, "gstin": s.gstin, "portal": s.portal, "provider": s.provider,
                "username": s.username, "before": s.before.name(), "after": s.after.name(),
                "detail": s.verdict.describe(),
                "store_error": s.store_error.as_deref().map(|e| crate::chain::chain(e)),
            });
            outln!("{v}");
        }
        return;
    }
    let mut t = crate::table::Table::new(&["GSTIN", "portal", "API user", "was", "now", "detail"]);
    for s in done {
        let detail = s.store_error.as_ref().map_or_else(
            || s.verdict.describe(),
            |e| {
                format!(
                    "{}; but {}",
                    s.verdict.describe(),
                    crate::chain::Chain(e.as_ref())
                )
            },
        );
        let (was, now) = (s.before.name(), s.after.name());
        t.row(&[s.gstin.as_str(), &s.portal, &s.username, was, now, &detail]);
    }
    out!("{}", t.render());
    let count = |f: fn(&Verdict) -> bool| done.iter().filter(|s| f(&s.verdict)).count();
    outln!(
        "{} credential(s): {} confirmed, {} failed, {} unsettled",
        done.len(),
        count(|v| matches!(v, Verdict::Works)),
        count(|v| matches!(v, Verdict::Rejected { .. })),
        count(|v| matches!(v, Verdict::Refused { .. } | Verdict::Unsettled(_))),
    );
}

/// 2 when the API refused the client, key or URL; 7 while any stays in
/// doubt; 1 when any failed or was not recorded; else 0.
fn code(done: &[Settled]) -> i32 {
    let any = |f: &dyn Fn(&Settled) -> bool| done.iter().any(f);
    if any(&|s| matches!(s.verdict, Verdict::Refused { halt: true, .. })) {
        exit::USAGE
    } else if any(&|s| s.store_error.is_some()) {
        exit::FAILURE
    } else if any(&|s| matches!(s.verdict, Verdict::Refused { .. } | Verdict::Unsettled(_))) {
        exit::NEEDS_VERIFICATION
    } else if any(&|s| matches!(s.verdict, Verdict::Rejected { .. })) {
        exit::FAILURE
    } else {
        exit::OK
    }
}
