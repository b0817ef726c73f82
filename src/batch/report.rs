//! Per-row results, the summary table and `--report` (CSV or JSON).

use super::rows::Row;
use crate::events::{RowStatus, RunStatus};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One row's result, as the summary table and `--report` show it. Never a password.
#[derive(Debug, Clone, Serialize)]
pub struct RowResult {
    /// CSV line.
    pub line: usize,
    /// The GSTIN.
    pub gstin: String,
    /// The provider (or route) the credential is for.
    pub provider: String,
    /// How the row ended.
    pub status: RowStatus,
    /// One line, redacted.
    pub message: String,
    /// On drift: what stands there now and the TOML to paste.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// The API username, once a submit happened.
    pub api_username: Option<String>,
    /// Seconds of machine time.
    pub machine_s: f64,
    /// Seconds spent waiting for people.
    pub human_s: f64,
    /// The row's folder.
    pub artifacts: Option<PathBuf>,
    /// Every step the run took (for the HTML report's timeline).
    #[serde(skip)]
    pub steps: Vec<crate::events::StepTrace>,
}

impl RowResult {
    /// A result with no run behind it (skipped, not started, invalid).
    pub fn plain(row: &Row, status: RowStatus, msg: &str) -> RowResult {
        RowResult {
            line: row.line,
            gstin: row.gstin(),
            provider: row
                .get("provider")
                .or(row.get("through"))
                .unwrap_or("")
                .to_string(),
            status,
            message: msg.into(),
            fix: None,
            api_username: None,
            machine_s: 0.0,
            human_s: 0.0,
            artifacts: None,
            steps: vec![],
        }
    }
}

pub fn table(results: &[RowResult]) -> String {
    let mut s = format!(
        "{:<5} {:<16} {:<20} {:<19} {}\n",
        "line", "GSTIN", "status", "API user", "detail"
    );
    for r in results {
        let detail: String = r.message.chars().take(70).collect();
        s.push_str(&format!(
            "{:<5} {:<16} {:<20} {:<19} {}\n",
            r.line,
            r.gstin,
            r.status.as_str(),
            r.api_username.as_deref().unwrap_or("-"),
            detail
        ));
    }
    let count = |st: RowStatus| results.iter().filter(|r| r.status == st).count();
    let (reg, already, skipped, verify) = (
        count(RowStatus::Ran(RunStatus::Registered)),
        count(RowStatus::Ran(RunStatus::AlreadyRegistered)),
        count(RowStatus::Skipped),
        count(RowStatus::Ran(RunStatus::NeedsVerification)),
    );
    s.push_str(&format!(
        "{} rows: {reg} registered, {already} already registered, {skipped} skipped, {verify} need verification, {} failed\n",
        results.len(),
        results.len() - reg - already - skipped - verify
    ));
    s
}

/// The report in the format its file name asks for (`.json`, else CSV). Never passwords.
/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab,
/// CR) is prefixed with `'`, so it shows as text (OWASP's CSV injection advice).
pub fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        true => format!("'{cell}").into(),
        false => cell.into(),
    }
}

pub fn render(path: &Path, results: &[RowResult]) -> String {
    if path.extension().is_some_and(|e| e == "json") {
        return serde_json::to_string_pretty(results).expect("results serialise");
    }
    let header = [
        "line",
        "gstin",
        "provider",
        "status",
        "api_username",
        "machine_s",
        "human_s",
        "artifacts",
        "message",
        "fix",
    ];
    let rows = std::iter::once(header.map(String::from)).chain(results.iter().map(|r| {
        [
            r.line.to_string(),
            r.gstin.clone(),
            r.provider.clone(),
            r.status.as_str().to_string(),
            r.api_username.clone().unwrap_or_default(),
            format!("{:.1}", r.machine_s),
            format!("{:.1}", r.human_s),
            r.artifacts
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            r.message.clone(),
            r.fix.clone().unwrap_or_default(),
        ]
    }));
    rows.map(|rec| csv_record(rec.iter().map(|c| defuse(c))))
        .collect()
}

/// One CSV line. A cell holding a separator a spreadsheet may use (`,`,
/// `;`, tab), a quote or a line break is quoted, so Excel with a `;` list
/// separator cannot split `x;=cmd|…` into a cell it would run.
pub fn csv_record<S: AsRef<str>>(cells: impl Iterator<Item = S>) -> String {
    let mut line = cells
        .map(|c| {
            let c = c.as_ref();
            match c.contains([',', ';', '"', '\t', '\r', '\n']) {
                true => format!("\"{}\"", c.replace('"', "\"\"")),
                false => c.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_written_as_text() {
        assert_eq!(
            defuse("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        for c in ["+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert!(defuse(c).starts_with('\''), "{c}");
        }
        assert_eq!(defuse("Tera Software Limited"), "Tera Software Limited");
        let line = csv_record(["<script>x;=cmd|' /C calc'!A0", "a,=b", "t\t@c", "plain"].iter());
        assert_eq!(
            line,
            "\"<script>x;=cmd|' /C calc'!A0\",\"a,=b\",\"t\t@c\",plain\n"
        );
        // Read back as a `;`-separated file would be, no cell starts a formula.
        let mut r = csv::ReaderBuilder::new()
            .delimiter(b';')
            .has_headers(false)
            .from_reader(line.as_bytes());
        for rec in r.records() {
            for cell in rec.unwrap().iter() {
                assert!(
                    !cell.trim_start().starts_with(['=', '+', '-', '@']),
                    "{cell}"
                );
            }
        }
        let r = RowResult {
            line: 2,
            gstin: "29AAACJ4323N1ZC".into(),
            provider: "=HYPERLINK(\"http://evil\")".into(),
            status: RowStatus::Ran(RunStatus::Registered),
            message: String::new(),
            fix: None,
            api_username: None,
            machine_s: 0.0,
            human_s: 0.0,
            artifacts: None,
            steps: vec![],
        };
        let csv = render(Path::new("r.csv"), &[r]);
        assert!(
            csv.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""),
            "{csv}"
        );
    }
}
