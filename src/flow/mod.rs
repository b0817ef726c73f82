//! The flow language: TOML files that describe a portal's screens.
//!
//! `parse` turns source text into a [`Flow`] (with every problem as a
//! [`Diagnostic`] naming file:line:column), `lint` finds what parses but
//! cannot work. Nothing here touches a browser.

pub mod bundled;
pub mod diag;
pub mod inputs;
pub mod keys;
pub mod lint;
pub mod model;
pub mod parse;
pub mod schema;
pub mod suggest;
pub mod target;
pub mod template;

pub use diag::{Diagnostic, Loc, Severity};
pub use model::*;
pub use target::Target;
pub use template::{Template, TemplateError};

use std::path::Path;

/// Parses and lints one flow's text (`path` is the name diagnostics show).
/// `Ok` carries the flow and any warnings; `Err` carries every error found
/// (and the warnings), in source order.
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
