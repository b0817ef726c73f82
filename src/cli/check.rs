//! `einvreg check FLOW...`

use super::error::{CliError, Code};
use crate::exit;
use crate::flow::{self, bundled::FlowArg, Diagnostic, Flow, Severity};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  einvreg check production-api-user      # a bundled flow\n  einvreg check ./my-flow.toml --deny-warnings\n  einvreg check --format json my.toml | jq ."
)]
pub struct Args {
    /// Flow files (a path), names of bundled flows, or - for stdin
    #[arg(required = true, value_parser = super::common::FlowNames, hide_possible_values = true)]
    pub flows: Vec<String>,
    /// Treat warnings as problems
    #[arg(long)]
    pub deny_warnings: bool,
    /// text (diagnostics as file:line:col) or json (one object per flow on stdout)
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// How results are printed.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// One flow's result, as `--format json` prints it.
#[derive(serde::Serialize)]
struct Checked<'a> {
    flow: &'a str,
    source: &'static str,
    shown: String,
    ok: bool,
    /// The flow language the file is written in.
    #[serde(skip_serializing_if = "Option::is_none")]
    language: Option<u32>,
    /// Roles given as the earlier language did: `{role: input}`.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    inferred_roles: std::collections::BTreeMap<&'static str, String>,
    inputs: usize,
    screens: usize,
    outcomes: usize,
    diagnostics: &'a [Diagnostic],
}

pub fn run(args: Args) -> Result<Code, CliError> {
    let mut problems = 0;
    for f in &args.flows {
        let (shown, flow, diags): (PathBuf, _, _) = match super::common::flow_text(f) {
            Ok((shown, text)) => match flow::load_str(&shown, &text) {
                Ok((fl, d)) => (shown, Some(fl), d),
                Err(d) => (shown, None, d),
            },
            Err(d) => (f.into(), None, vec![*d]),
        };
        let bad = diags
            .iter()
            .filter(|d| d.severity == Severity::Error || args.deny_warnings)
            .count();
        problems += bad + usize::from(flow.is_none() && bad == 0);
        match args.format {
            Format::Text => print_text(f, &shown, flow.as_ref(), &diags),
            Format::Json => print_json(f, &shown, flow.as_ref(), &diags, bad == 0),
        }
    }
    if problems > 0 {
        if args.format == Format::Text {
            errln!("{problems} problem(s) found");
        }
        Ok(exit::FAILURE)
    } else {
        Ok(exit::OK)
    }
}

fn source_of(arg: &str) -> &'static str {
    match flow::bundled::parse_arg(arg) {
        Ok(FlowArg::Bundled(_)) => "bundled",
        Ok(FlowArg::Stdin) => "stdin",
        _ => "file",
    }
}

fn print_text(arg: &str, shown: &Path, fl: Option<&Flow>, diags: &[Diagnostic]) {
    if let Some(fl) = fl {
        let warnings = diags
            .iter()
            .filter(|x| x.severity == Severity::Warning)
            .count();
        let about = match fl.description.as_str() {
            "" => String::new(),
            d => format!(": {d}"),
        };
        let warned = match warnings {
            0 => String::new(),
            n => format!(", {n} warnings"),
        };
        errln!(
            "{}: ok (language {}, {} inputs, {} screens, {} outcomes{warned}){about}",
            shown.display(),
            fl.language,
            fl.inputs.len(),
            fl.screens.len(),
            fl.outcomes.len(),
        );
        for (role, name) in &fl.inferred {
            errln!(
                "  note: input `{name}` plays role `{r}`, as in flows written before roles (by its name or its type); add role = \"{r}\" to it to say so",
                r = role.as_str()
            );
        }
    }
    // A name always means the bundled flow; say so when a local file of
    // that name might have been meant.
    let local = Path::new("flows").join(format!("{arg}.toml"));
    if source_of(arg) == "bundled" && local.exists() {
        errln!(
            "note: checked the bundled flow `{arg}`, not {}; give that file's path to check it",
            local.display()
        );
    }
    for d in diags {
        outln!("{d}");
    }
}

fn print_json(arg: &str, shown: &Path, fl: Option<&Flow>, diags: &[Diagnostic], ok: bool) {
    let c = Checked {
        flow: arg,
        source: source_of(arg),
        shown: shown.display().to_string(),
        ok: ok && fl.is_some(),
        language: fl.map(|f| f.language),
        inferred_roles: fl
            .iter()
            .flat_map(|f| &f.inferred)
            .map(|(r, n)| (r.as_str(), n.clone()))
            .collect(),
        inputs: fl.map_or(0, |f| f.inputs.len()),
        screens: fl.map_or(0, |f| f.screens.len()),
        outcomes: fl.map_or(0, |f| f.outcomes.len()),
        diagnostics: diags,
    };
    match serde_json::to_string(&c) {
        Ok(s) => outln!("{s}"),
        Err(e) => errln!("error: {e}"),
    }
}
