//! Everything a batch checks before any browser starts: the rows, the
//! providers they name, and the logins they need.

use super::rows::{self, Loaded, Providers, Row, RowsError};
use crate::flow::inputs::InputProblem;
use crate::flow::Flow;
use crate::secrets::SecretsFile;
use std::sync::Arc;

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
    flows: &[Arc<Flow>],
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
    } = rows::parse(
        flows,
        csv.name,
        csv.text,
        providers,
        checks.strict_providers,
    )?;
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
    let needs_login = needs_login(flows, &secrets);
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

/// Whether every row needs a login's password: some flow has a secret
/// input every row needs that the file gives neither by GSTIN nor for
/// everyone, and that neither it nor an earlier flow of the chain creates
/// (a new password). One only some rows need, like `client_secret`, fails
/// those rows alone.
fn needs_login(flows: &[Arc<Flow>], secrets: &SecretsFile) -> bool {
    let mut made: Vec<&str> = vec![];
    for flow in flows {
        made.extend(flow.credentials.as_ref().map(|c| c.password.as_str()));
        let needs = flow.inputs.iter().any(|i| {
            i.is_secret()
                && i.required_when.is_none()
                && !made.contains(&i.name.as_str())
                && !secrets.covers(&i.name)
        });
        if needs {
            return true;
        }
    }
    false
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::bundled::flow;

    fn providers() -> Providers {
        Providers::parse("p.toml", include_str!("../../fixtures/providers.toml")).unwrap()
    }

    fn chain() -> Vec<Arc<Flow>> {
        vec![flow("portal-login-register"), flow("production-api-user")]
    }

    const CSV: &str = "gstin,mobile,portal_username,provider,api_username\n\
                       27AADCN5521K1ZD,,navkar27,Tera Software Limited,navkarapi\n\
                       29AAGFK8812R1ZH,,,Tera Software Limited,kaveriapi\n";

    fn csv(text: &str) -> CsvSource<'_> {
        CsvSource {
            name: "b.csv",
            text,
        }
    }

    /// A chain's CSV is checked against every flow before any browser: a
    /// column of either flow is allowed, a row's problem is named once,
    /// and the login the first flow makes is not asked for.
    #[test]
    fn a_chained_batch_is_checked_across_its_flows() {
        let checks = Checks {
            skip_invalid: true,
            ..Checks::default()
        };
        let p = prepare(
            &chain(),
            csv(CSV),
            &providers(),
            SecretsFile::default(),
            checks,
        )
        .unwrap();
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.skipped.len(), 1, "{:?}", p.skipped);
        assert_eq!(p.skipped[0].source, "b.csv:3 column portal_username");
        assert!(p.missing_logins().is_empty(), "the chain makes the login");

        let alone = [flow("production-api-user")];
        let csv_alone = "gstin,portal_username,provider,api_username\n27AADCN5521K1ZD,navkar27,Tera Software Limited,navkarapi\n";
        let p = prepare(
            &alone,
            csv(csv_alone),
            &providers(),
            SecretsFile::default(),
            checks,
        )
        .unwrap();
        assert_eq!(p.missing_logins(), ["navkar27"]);

        let secret = "gstin,portal_username,portal_password\n27AADCN5521K1ZD,navkar27,x\n";
        let e = prepare(
            &chain(),
            csv(secret),
            &providers(),
            SecretsFile::default(),
            checks,
        );
        let Err(PrepareError::Rows(RowsError::Header(lines))) = e else {
            panic!("a secret column is refused");
        };
        assert!(
            lines[0].contains("column 3 `portal_password` is a secret"),
            "{lines:?}"
        );
    }
}
