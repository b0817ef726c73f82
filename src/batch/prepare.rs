//! Everything a batch checks before any browser starts: the rows, the
//! providers they name, and the logins they need.

use super::rows::{self, Loaded, Providers, Row, RowsError};
use crate::flow::inputs::InputProblem;
use crate::flow::Flow;
use crate::secrets::SecretsFile;

/// The CSV, read at the edge.
pub struct CsvSource<'a> {
    /// How errors name the file.
    pub name: &'a str,
    /// Its text.
    pub text: &'a str,
}

/// How strict the checks before the batch are.
#[derive(Debug, Clone, Copy, Default)]
pub struct Checks {
    /// Run the valid rows and report the others (`--skip-invalid`).
    pub skip_invalid: bool,
    /// A provider not in the list is an error, not a warning (`--strict-providers`).
    pub strict_providers: bool,
}

/// Why a batch cannot start.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The CSV or provider list could not be read.
    #[error(transparent)]
    Rows(#[from] RowsError),
    /// Rows have problems and `--skip-invalid` was not given.
    #[error("{} problem(s) in {bad} row(s) of {file}; nothing was started. Fix them, or pass --skip-invalid to run the {valid} valid rows", problems.len())]
    Invalid {
        /// The CSV.
        file: String,
        /// Every problem (printed one by one before this summary).
        problems: Vec<InputProblem>,
        /// What looked wrong but would not have stopped the batch.
        warnings: Vec<InputProblem>,
        /// Rows with a problem.
        bad: usize,
        /// Rows without one.
        valid: usize,
    },
}

/// A batch ready to run but for logins nobody has given yet.
pub struct Prepared {
    /// The rows to run.
    pub rows: Vec<Row>,
    /// Problems of rows left out by `--skip-invalid`.
    pub skipped: Vec<InputProblem>,
    /// Warnings about rows that run anyway (e.g. a provider not in the list).
    pub warnings: Vec<InputProblem>,
    /// How many rows `--skip-invalid` left out.
    pub skipped_rows: usize,
    /// The rows `--skip-invalid` left out, each with its problems (one line),
    /// for the reports: a row skipped is never a row forgotten.
    pub invalid: Vec<(Row, String)>,
    /// The secrets file (either shape), with the logins asked at the start.
    pub secrets: SecretsFile,
    needs_login: bool,
}

/// Validates every row and sorts the secrets by what they unlock.
pub fn prepare(
    flow: &Flow,
    csv: CsvSource<'_>,
    providers: &Providers,
    secrets: SecretsFile,
    checks: Checks,
) -> Result<Prepared, PrepareError> {
    let Loaded {
        mut rows,
        problems,
        bad_lines,
        warnings,
    } = rows::parse(flow, csv.name, csv.text, providers, checks.strict_providers)?;
    let skip_invalid = checks.skip_invalid;
    if !problems.is_empty() && !skip_invalid {
        return Err(PrepareError::Invalid {
            file: csv.name.into(),
            problems,
            warnings,
            bad: bad_lines.len(),
            valid: rows.len() - bad_lines.len(),
        });
    }
    let invalid = rows
        .iter()
        .filter(|r| bad_lines.contains(&r.line))
        .map(|r| (r.clone(), problems_of(csv.name, r.line, &problems)))
        .collect();
    rows.retain(|r| !bad_lines.contains(&r.line));
    // A flow needs logins when every row needs a secret input besides the
    // new password that the file gives neither by GSTIN nor for everyone.
    // (One only some rows need, like `client_secret`, fails those rows alone.)
    let new_password = flow.credentials.as_ref().map(|c| &c.password);
    let needs_login = flow.inputs.iter().any(|i| {
        i.is_secret()
            && i.required_when.is_none()
            && Some(&i.name) != new_password
            && !secrets.covers(&i.name)
    });
    Ok(Prepared {
        rows,
        skipped: problems,
        warnings,
        skipped_rows: bad_lines.len(),
        invalid,
        secrets,
        needs_login,
    })
}

/// The problems of line `line` of `file`, joined on one line.
fn problems_of(file: &str, line: usize, problems: &[InputProblem]) -> String {
    let at = format!("{file}:{line}");
    let mine: Vec<String> = problems
        .iter()
        .filter(|p| p.source == at || p.source.starts_with(&format!("{at} ")))
        .map(|p| format!("`{}` {}", p.input, p.message))
        .collect();
    format!("invalid row, not run: {}", mine.join("; "))
}

impl Prepared {
    /// Portal usernames the rows log in with but no password was given for, sorted.
    pub fn missing_logins(&self) -> Vec<String> {
        if !self.needs_login {
            return vec![];
        }
        let mut missing: Vec<String> = self
            .rows
            .iter()
            .filter_map(|r| r.get("portal_username").map(String::from))
            .filter(|u| !self.secrets.has_login(u))
            .collect();
        missing.sort();
        missing.dedup();
        missing
    }
}
