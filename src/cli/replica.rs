//! `einvreg replica`: runs both portals on loopback until Ctrl-C.

use super::error::{CliError, Code};
use crate::exit;
use crate::replica::{Drift, Faults, Layout, Options, Replica};
use std::path::PathBuf;

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Sandbox port (production takes the next); 0 picks free ports
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Folder with taxpayers.toml and providers.toml
    #[arg(long)]
    pub fixtures: Option<PathBuf>,
    /// Add N deterministic generated taxpayers (for load)
    #[arg(long, default_value_t = 0)]
    pub taxpayers: usize,
    /// Faults, e.g. "latency=50-200ms;http500=login_submit@0.3;idle_expiry=30s;spurious_already_created;slow_alert=2s"
    #[arg(long)]
    pub faults: Option<String>,
    /// Which known behaviours to show: evidence (default), legacy, renamed; then +behaviour/-behaviour (the README's section "The replica")
    #[arg(long, default_value = "evidence")]
    pub layout: String,
    /// A named markup change: renamed-id, renamed-field, relabelled-button, moved-element, interstitial, missing-gsp
    #[arg(long)]
    pub drift: Option<String>,
    /// Seed for captchas, OTPs and fault dice (deterministic runs)
    #[arg(long)]
    pub seed: Option<u64>,
    /// How long an OTP stays valid
    #[arg(long, default_value = "10m")]
    pub otp_validity: String,
    /// Keep created users in this JSON file across restarts
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Do not print SMS messages on the console
    #[arg(long)]
    pub quiet: bool,
    /// Print the demo taxpayers' GSTINs, logins and passwords (replica only), and exit
    #[arg(long)]
    pub logins: bool,
}

impl Args {
    pub fn options(&self) -> Result<Options, String> {
        let mut o = Options {
            port: self.port,
            extra_taxpayers: self.taxpayers,
            seed: self.seed,
            state_file: self.state.clone(),
            quiet: self.quiet,
            ..Options::default()
        };
        if let Some(f) = &self.fixtures {
            o.fixtures = crate::replica::Fixtures::Dir(f.clone());
        }
        if let Some(f) = &self.faults {
            o.faults = Faults::parse(f).map_err(|e| format!("--faults: {e}"))?;
        }
        if let Some(d) = &self.drift {
            o.drift = Some(Drift::parse(d).map_err(|e| format!("--drift: {e}"))?);
        }
        o.layout = Layout::parse(&self.layout).map_err(|e| format!("--layout: {e}"))?;
        o.otp_validity =
            crate::flow::parse::parse_duration(&self.otp_validity).ok_or_else(|| {
                format!(
                    "--otp-validity: `{}` is not a duration (write 10m, 30s)",
                    self.otp_validity
                )
            })?;
        Ok(o)
    }
}

pub fn run(args: Args) -> Result<Code, CliError> {
    let opts = args.options()?;
    if args.logins {
        return logins(&opts);
    }
    super::block_on(async move {
        let r = Replica::start(opts).await.map_err(CliError::bad)?;
        // A reader that goes away must not take the replica down with it.
        use std::io::Write;
        let mut out = std::io::stdout();
        let banner = writeln!(out, "sandbox    {}", r.sandbox_url)
            .and_then(|()| writeln!(out, "production {}", r.production_url))
            .and_then(|()| writeln!(out, "test aids  {}/__replica/sms (SMS outbox), /__replica/captcha?session=ID (replica only)", r.production_url))
            .and_then(|()| out.flush());
        if let Err(e) = banner {
            tracing::debug!("nobody reads the replica's addresses: {e}");
        }
        errln!(
            "replica running on 127.0.0.1 only; Ctrl-C stops it. Demo logins: einvreg replica --logins"
        );
        tokio::signal::ctrl_c()
            .await
            .map_err(|e| CliError::failed_with("cannot wait for Ctrl-C", e))?;
        Ok(exit::OK)
    })
}

/// The demo logins, for a rehearsal: GSTIN, login, password, mobile and
/// what sets each apart. Demo data of the replica only.
fn logins(opts: &Options) -> Result<Code, CliError> {
    let taxpayers = crate::replica::demo_taxpayers(&opts.fixtures).map_err(CliError::bad)?;
    let mut t = crate::table::Table::new(&["GSTIN", "login", "password", "mobile", "notes"]);
    for tp in &taxpayers {
        let dash = "-".to_string();
        let login = tp.username.as_ref().unwrap_or(&dash);
        let password = tp.password.as_ref().unwrap_or(&dash);
        t.row(&[&tp.gstin, login, password, &tp.mobile, &notes(tp)]);
    }
    out!("{}", t.render());
    outln!("Demo data of the replica only: never reuse these passwords anywhere real. OTPs go to the replica's SMS outbox (printed on its console).");
    Ok(exit::OK)
}

fn notes(t: &crate::replica::Taxpayer) -> String {
    let mut n = vec![];
    if t.username.is_none() {
        n.push("no portal login yet (portal-login-register makes one)");
    }
    if t.tech_popup {
        n.push("technical-person popup after login");
    }
    if t.direct_eligible {
        n.push("may register Directly");
    }
    if !t.einvoice_enabled {
        n.push("not enabled for e-invoicing");
    }
    n.join("; ")
}
