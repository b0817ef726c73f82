//! `--repair-out`: where the repaired flow goes, decided before any
//! browser starts, and written (checked, with a diff) when the run ends.

use super::common::{flow_text, OperatorArgs};
use super::error::CliError;
use crate::flow::Flow;
use crate::repair::Book;
use std::path::PathBuf;
use std::sync::Arc;

/// The repaired flow to be: the flow's own text and where it goes.
pub struct Plan {
    /// The flow as the user gave it (a file, or a bundled flow's text).
    text: String,
    /// Its name in diagnostics and the diff.
    shown: PathBuf,
    /// Where the repaired flow goes.
    out: PathBuf,
    /// One book for the whole run.
    pub book: Arc<Book>,
}

/// With `--repair`: the plan, or why it cannot be (a flow read from
/// stdin, a default output that would be the flow's own file).
pub fn plan(
    arg: &str,
    flow: &Flow,
    o: &OperatorArgs,
    book: Book,
) -> Result<Option<Plan>, CliError> {
    if !o.repairs() {
        return Ok(None);
    }
    if arg == "-" {
        return Err(CliError::Usage(
            "--repair writes the repaired flow next to its source: give the flow as a file or a bundled name, not stdin".into(),
        ));
    }
    let (shown, text) = flow_text(arg).map_err(|d| CliError::Usage(d.to_string()))?;
    let out = match &o.repair_out {
        Some(p) => p.clone(),
        None => {
            let p = PathBuf::from(format!("{}.repaired.toml", flow.name));
            if same_file(&p, &shown) {
                return Err(CliError::Usage(format!(
                    "the repaired flow would go to {}, the flow's own file: name it with --repair-out (that file is then rewritten) or give another path",
                    p.display()
                )));
            }
            p
        }
    };
    Ok(Some(Plan {
        text,
        shown,
        out,
        book: Arc::new(book),
    }))
}

/// With `--repair`: one plan per flow of a chain (`names` as given),
/// each with its own book. A chain's repaired flows go to their own
/// default files: one `--repair-out` cannot hold two flows.
pub fn plans(
    names: &[&str],
    flows: &[std::sync::Arc<Flow>],
    o: &OperatorArgs,
    book: impl Fn() -> Book,
) -> Result<Vec<Option<Plan>>, CliError> {
    if flows.len() > 1 && o.repair_out.is_some() {
        return Err(CliError::Usage(
            "--repair-out names one file, and chained flows each have their own: leave it out (each repaired flow goes to NAME.repaired.toml)".into(),
        ));
    }
    names
        .iter()
        .zip(flows)
        .map(|(n, f)| plan(n, f, o, book()))
        .collect()
}

fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

impl Plan {
    /// Writes the flow with every repair applied, prints the diff (to
    /// stdout, or stderr when stdout carries JSON) and checks the result.
    /// Nothing repaired: nothing written.
    pub fn write(&self, diff_to_stderr: bool) -> Result<(), CliError> {
        let repairs = self.book.all();
        if repairs.is_empty() {
            return Ok(());
        }
        let new = crate::repair::write::apply(&self.text, &repairs)
            .map_err(|e| CliError::failed_with("cannot splice the repairs into the flow", e))?;
        std::fs::write(&self.out, &new).map_err(|e| {
            CliError::failed_with(format!("cannot write {}", self.out.display()), e)
        })?;
        let diff = crate::repair::diff::unified(
            &self.text,
            &new,
            &self.shown.display().to_string(),
            &self.out.display().to_string(),
        );
        match diff_to_stderr {
            true => errout!("{diff}"),
            false => out!("{diff}"),
        }
        if let Err(diags) = crate::flow::load_str(&self.out, &new) {
            for d in &diags {
                errln!("{d}");
            }
            errln!(
                "error: the repaired flow {} does not pass einvreg check (above): fix it by hand",
                self.out.display()
            );
            return Err(CliError::Reported {
                code: crate::exit::FAILURE,
            });
        }
        errln!(
            "{} repair(s) written to {} (it passes einvreg check): give it as the flow next time",
            repairs.len(),
            self.out.display()
        );
        Ok(())
    }
}
