//! Per-row results, the summary table and `--report` (CSV or JSON).

use super::rows::Row;
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize)]
pub struct RowResult {
    pub line: usize,
    pub gstin: String,
    pub provider: String,
    /// registered, already_registered, needs_verification, human_needed,
    /// drift, portal_error, failed, skipped, not_started
    pub status: String,
    #[serde(skip)]
    pub exit: i32,
    pub message: String,
    pub api_username: Option<String>,
    pub machine_s: f64,
    pub human_s: f64,
    pub artifacts: Option<PathBuf>,
}

impl RowResult {
    fn plain(row: &Row, status: &str, exit: i32, msg: &str) -> RowResult {
        RowResult {
            line: row.line,
            gstin: row.get("gstin").unwrap_or("").to_uppercase(),
            provider: row
                .get("provider")
                .or(row.get("through"))
                .unwrap_or("")
                .to_string(),
            status: status.into(),
            exit,
            message: msg.into(),
            api_username: None,
            machine_s: 0.0,
            human_s: 0.0,
            artifacts: None,
        }
    }
    pub fn skipped(row: &Row, why: &str) -> RowResult {
        Self::plain(row, "skipped", 0, why)
    }
    pub fn not_started(row: &Row, why: &str) -> RowResult {
        Self::plain(row, "not_started", 1, why)
    }
    pub fn failed(row: &Row, why: &str) -> RowResult {
        Self::plain(row, "failed", 1, why)
    }
}

/// The batch's exit code: the most urgent row decides.
pub fn exit_code(results: &[RowResult]) -> i32 {
    use crate::cli::exit::*;
    for code in [DRIFT, NEEDS_VERIFICATION, HUMAN_NEEDED, PORTAL, FAILURE] {
        if results.iter().any(|r| r.exit == code) {
            return code;
        }
    }
    OK
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
            r.status,
            r.api_username.as_deref().unwrap_or("-"),
            detail
        ));
    }
    let count = |st: &str| results.iter().filter(|r| r.status == st).count();
    s.push_str(&format!(
        "{} rows: {} registered, {} already registered, {} skipped, {} need verification, {} failed\n",
        results.len(),
        count("registered"),
        count("already_registered"),
        count("skipped"),
        count("needs_verification"),
        results.len() - count("registered") - count("already_registered") - count("skipped") - count("needs_verification")
    ));
    s
}

/// Writes the report; the format follows the extension (.json, else CSV). Never passwords.
pub fn write(path: &Path, results: &[RowResult]) -> Result<(), String> {
    let err = |e: String| format!("report {}: {e}", path.display());
    if path.extension().is_some_and(|e| e == "json") {
        let s = serde_json::to_string_pretty(results).map_err(|e| err(e.to_string()))?;
        std::fs::write(path, s).map_err(|e| err(e.to_string()))
    } else {
        let mut w = csv::Writer::from_path(path).map_err(|e| err(e.to_string()))?;
        w.write_record([
            "line",
            "gstin",
            "provider",
            "status",
            "api_username",
            "machine_s",
            "human_s",
            "artifacts",
            "message",
        ])
        .map_err(|e| err(e.to_string()))?;
        for r in results {
            w.write_record([
                r.line.to_string(),
                r.gstin.clone(),
                r.provider.clone(),
                r.status.clone(),
                r.api_username.clone().unwrap_or_default(),
                format!("{:.1}", r.machine_s),
                format!("{:.1}", r.human_s),
                r.artifacts
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                r.message.clone(),
            ])
            .map_err(|e| err(e.to_string()))?;
        }
        w.flush().map_err(|e| err(e.to_string()))
    }
}
