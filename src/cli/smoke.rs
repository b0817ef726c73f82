//! `einvreg smoke FLOW...`: does the portal still match the flows? No side effects.

use super::common::{self, DriverArgs, PortalArgs};
use super::error::{CliError, Code};
use crate::exit;
use crate::smoke::coverage::{self, Coverage};
use crate::smoke::{self, junit, Finding, SmokeSpec};
use std::collections::HashMap;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  einvreg smoke production-api-user sandbox-register --junit smoke.xml --html smoke.html\n  einvreg smoke production-api-user --portal replica --replica-drift renamed-id --all\n\nExit codes: 0 ok (fallbacks warn), 5 drift (or a fallback with --strict), 6 unreachable"
)]
pub struct Args {
    /// Flow files or bundled flow names
    #[arg(required = true, value_parser = common::FlowNames, hide_possible_values = true)]
    pub flows: Vec<String>,
    /// A value to check, e.g. --var provider="Tera Software Limited" (else all values of choice inputs)
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// A self-contained HTML report of the findings (with --all, the ok ones too)
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write a JUnit XML report here
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Write the findings as JSON here
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// A fallback selector matching counts as drift (exit 5)
    #[arg(long)]
    pub strict: bool,
    /// Wait at most this long for any page or element
    #[arg(long, default_value = "15s")]
    pub timeout: String,
    /// Screenshots of drifted pages go here
    #[arg(long, default_value = "einvreg-smoke")]
    pub artifacts: PathBuf,
    /// Show ok checks too, not only problems
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub portal: PortalArgs,
    #[command(flatten)]
    pub driver: DriverArgs,
}

pub fn run(args: Args) -> Result<Code, CliError> {
    let driver = args.driver.config()?;
    let mut flows = vec![];
    for f in &args.flows {
        flows.push(Arc::new(common::load_flow(f)?));
    }
    let timeout = common::parse_duration_arg("--timeout", &args.timeout)?;
    let mut given = HashMap::new();
    for v in &args.vars {
        let Some((k, val)) = v.split_once('=') else {
            return Err(format!("--var {v}: write NAME=VALUE").into());
        };
        given.insert(k.trim().to_string(), val.to_string());
    }
    super::block_on(async move {
        // One replica (if asked) serves every flow, each at its portal's address.
        let (replica, url) = args.portal.resolve(&flows[0], false).await?;
        let endpoint = std::sync::Arc::new(super::driver::start(&driver, &url).await?);
        endpoint.plan_sessions(flows.len(), 1);
        let mut findings: Vec<Finding> = vec![];
        let began = std::time::SystemTime::now();
        for flow in &flows {
            let base_url = match (&replica, &args.portal.portal) {
                (Some(r), _) => r.url_for(flow.portal).to_string(),
                (None, Some(_)) => url.clone(),
                (None, None) => flow.base_url.clone(),
            };
            let mut vars: HashMap<String, String> = flow
                .inputs
                .iter()
                .filter_map(|i| i.default.clone().map(|d| (i.name.clone(), d)))
                .collect();
            for (k, v) in &given {
                if flow.input(k).is_some() {
                    vars.insert(k.clone(), v.clone());
                }
            }
            if !super::logging::quiet() {
                errln!("smoke: {} on {base_url}", flow.name);
            }
            let spec = SmokeSpec {
                flow: flow.clone(),
                base_url,
                vars,
                timeout,
                artifacts: args.artifacts.clone(),
            };
            let b = endpoint.session(None).await.map_err(CliError::failed)?;
            findings.extend(smoke::smoke(&b.client, &spec).await);
            b.close().await;
        }
        out!("{}", smoke::table(&findings, args.all));
        let coverage: Vec<Coverage> = flows.iter().map(|f| coverage::of(f, &findings)).collect();
        for c in &coverage {
            outln!("{}", c.line());
        }
        let json = serde_json::to_string_pretty(&findings).expect("findings serialise");
        let shots = screenshots(&args.artifacts, &findings, began);
        let shots: Vec<crate::html::smoke::Shot> = shots
            .iter()
            .map(|(flow, png)| crate::html::smoke::Shot { flow, png })
            .collect();
        let report = crate::html::smoke::Report {
            findings: &findings,
            coverage: &coverage,
            shots: &shots,
        };
        let outputs = [
            (
                "--junit",
                &args.junit,
                junit::render(&findings, &coverage, args.strict),
            ),
            ("--json", &args.json, json),
            (
                "--html",
                &args.html,
                crate::html::smoke::render("einvreg smoke", &report, args.all),
            ),
        ];
        for (flag, path, text) in outputs {
            if let Some(p) = path {
                write(p, &text)
                    .map_err(|e| CliError::bad_with(format!("{flag} {}", p.display()), e))?;
            }
        }
        Ok(exit::of_smoke(&findings, args.strict))
    })
}

/// The screenshot each drifted flow's walk left in its folder this run
/// (an older one, from an earlier run, is not this drift's).
fn screenshots(
    root: &Path,
    findings: &[Finding],
    began: std::time::SystemTime,
) -> Vec<(String, Vec<u8>)> {
    let mut flows: Vec<&str> = findings
        .iter()
        .filter(|f| f.class >= smoke::Class::Drift)
        .map(|f| f.flow.as_str())
        .collect();
    flows.dedup();
    flows
        .into_iter()
        .filter_map(|flow| {
            let p = root.join(flow).join("screenshot.png");
            let fresh = std::fs::metadata(&p)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= began);
            let png = fresh.then(|| std::fs::read(&p).ok()).flatten()?;
            Some((flow.to_string(), png))
        })
        .collect()
}

fn write(p: &Path, text: &str) -> std::io::Result<()> {
    crate::store::private::write(p, text.as_bytes())
}
