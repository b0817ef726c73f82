//! The flow language: TOML files that describe a portal's screens.
//!
//! `parse` turns source text into a [`Flow`] (with every problem as a
//! [`Diagnostic`] naming file:line:column), `lint` finds what parses but
//! cannot work. Nothing here touches a browser.

pub mod diag;
pub mod inputs;
pub mod lint;
pub mod model;
pub mod parse;
pub mod suggest;
pub mod target;
pub mod template;

pub use diag::{Diagnostic, Loc, Severity};
pub use model::*;
pub use target::Target;
pub use template::{Template, TemplateError};

use std::path::{Path, PathBuf};

/// Parses and lints one flow file. `Ok` carries the flow and any warnings;
/// `Err` carries every error found (and the warnings), in source order.
pub fn load(path: &Path) -> Result<(Flow, Vec<Diagnostic>), Vec<Diagnostic>> {
    let src = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => {
            return Err(vec![Diagnostic::error(
                path,
                Loc::default(),
                format!("cannot read the flow file: {e}"),
                "check the path; bundled flows live in flows/",
            )])
        }
    };
    load_str(path, &src)
}

pub fn load_str(path: &Path, src: &str) -> Result<(Flow, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (flow, mut diags) = parse::parse(path, src);
    // Lint only a cleanly parsed flow: a dropped step would otherwise show up
    // again as a confusing second error.
    if let (Some(flow), true) = (&flow, diags.is_empty()) {
        diags.extend(lint::lint(flow));
    }
    diags.sort_by_key(|d| (d.loc.line, d.loc.col));
    match flow {
        Some(f) if !diags.iter().any(|d| d.severity == Severity::Error) => Ok((f, diags)),
        _ => Err(diags),
    }
}

/// Resolves a flow argument: a path, or the name of a bundled flow
/// looked up in `dirs` (`production-api-user` finds
/// `flows/production-api-user.toml`).
pub fn resolve(arg: &str, dirs: &[PathBuf]) -> PathBuf {
    let p = PathBuf::from(arg);
    if p.exists() {
        return p;
    }
    dirs.iter()
        .map(|d| d.join(format!("{arg}.toml")))
        .find(|c| c.exists())
        .unwrap_or(p)
}

/// Where bundled flows are looked up: `first` (the CLI passes
/// `$EINVREG_FLOWS`), ./flows, then the source tree the binary was built from.
pub fn bundled_dirs(first: Option<PathBuf>) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = first.into_iter().collect();
    v.push(PathBuf::from("flows"));
    v.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("flows"));
    v
}
