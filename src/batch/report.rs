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
    /// The username made (an API user's, or a portal login's: see
    /// `credential_kind`), once a submit happened. In a chain, the last made.
    pub api_username: Option<String>,
    /// What `api_username` logs in to.
    pub credential_kind: Option<crate::vault::Kind>,
    /// Seconds of machine time.
    pub machine_s: f64,
    /// Seconds spent waiting for people.
    pub human_s: f64,
    /// The row's folder.
    pub artifacts: Option<PathBuf>,
    /// Every step the run took (for the HTML report's timeline).
    #[serde(skip)]
    pub steps: Vec<crate::events::StepTrace>,
    /// A chained batch (`batch A,B`): each flow's part, in order. The row's
    /// status is the first flow's that did not end done, else the last's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<FlowResult>,
}

/// One flow's part of a chained row.
#[derive(Debug, Clone, Serialize)]
pub struct FlowResult {
    /// The flow's name.
    pub flow: String,
    /// How it ended (`not_started` when an earlier flow stopped the chain).
    pub status: RowStatus,
    /// One line, redacted.
    pub message: String,
    /// The username it made, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// What that username logs in to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_kind: Option<crate::vault::Kind>,
}

/// The row's one result from its flows' (`parts`, in order; flows after
/// the last part did not start). One flow's result is the row's as is.
pub(super) fn of_chain(row: &Row, flows: &[&str], mut parts: Vec<RowResult>) -> RowResult {
    if flows.len() == 1 && parts.len() == 1 {
        return parts.remove(0);
    }
    let Some(at) = parts
        .iter()
        .position(|p| !p.status.is_done())
        .or(parts.len().checked_sub(1))
    else {
        return RowResult::plain(row, RowStatus::NotStarted, "no flow started");
    };
    let mut r = parts[at].clone();
    r.message = format!("{}: {}", flows[at], r.message);
    let made = parts.iter().rev().find(|p| p.api_username.is_some());
    (r.api_username, r.credential_kind) = made.map_or((None, None), |p| {
        (p.api_username.clone(), p.credential_kind)
    });
    r.machine_s = parts.iter().map(|p| p.machine_s).sum();
    r.human_s = parts.iter().map(|p| p.human_s).sum();
    r.steps = parts.iter().flat_map(|p| p.steps.clone()).collect();
    let stopped_by = flows[at];
    r.flows = flows
        .iter()
        .enumerate()
        .map(|(i, f)| match parts.get(i) {
            Some(p) => FlowResult {
                flow: f.to_string(),
                status: p.status,
                message: p.message.clone(),
                username: p.api_username.clone(),
                credential_kind: p.credential_kind,
            },
            None => FlowResult {
                flow: f.to_string(),
                status: RowStatus::NotStarted,
                message: format!("not started: {stopped_by} did not end registered"),
                username: None,
                credential_kind: None,
            },
        })
        .collect();
    r
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
            credential_kind: None,
            machine_s: 0.0,
            human_s: 0.0,
            artifacts: None,
            steps: vec![],
            flows: vec![],
        }
    }
}

/// The summary table. `detail_width`: where a terminal would wrap the
/// detail, it is cut there; anything else (a file, a pipe) gets it whole.
pub fn table(results: &[RowResult], detail_width: Option<usize>) -> String {
    let mut t = crate::table::Table::new(&["line", "GSTIN", "status", "API user", "detail"]);
    for r in results {
        let detail: String = match detail_width {
            Some(w) => r.message.chars().take(w).collect(),
            None => r.message.clone(),
        };
        let line = r.line.to_string();
        let user = r.api_username.as_deref().unwrap_or("-");
        t.row(&[line.as_str(), &r.gstin, r.status.as_str(), user, &detail]);
    }
    let mut s = t.render();
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

/// `portal` is the base URL the batch ran on: each row names it (`portal`,
/// the CSV's last column), so a rehearsal's report never passes for a real one.
pub fn render(path: &Path, results: &[RowResult], portal: &str) -> String {
    if path.extension().is_some_and(|e| e == "json") {
        let rows: Vec<serde_json::Value> = results
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(r).expect("a result serialises");
                v["portal"] = serde_json::json!(portal);
                v
            })
            .collect();
        return serde_json::to_string_pretty(&rows).expect("results serialise");
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
        "kind",
        "flows",
        "portal",
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
            r.credential_kind
                .map(|k| k.name())
                .unwrap_or_default()
                .into(),
            flows_cell(&r.flows),
            portal.to_string(),
        ]
    }));
    rows.map(|rec| csv_record(rec.iter().map(|c| defuse(c))))
        .collect()
}

/// A chained row's flows in one cell: `flow=status; …`.
fn flows_cell(flows: &[FlowResult]) -> String {
    flows
        .iter()
        .map(|f| format!("{}={}", f.flow, f.status.as_str()))
        .collect::<Vec<_>>()
        .join("; ")
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
            credential_kind: None,
            machine_s: 0.0,
            human_s: 0.0,
            artifacts: None,
            steps: vec![],
            flows: vec![],
        };
        let csv = render(Path::new("r.csv"), &[r], "http://127.0.0.1:9");
        assert!(
            csv.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""),
            "{csv}"
        );
    }

    fn row() -> Row {
        Row {
            line: 3,
            given: vec![],
            values: [("gstin".to_string(), "27AADCN5521K1ZD".to_string())].into(),
        }
    }

    fn part(status: RowStatus, user: Option<&str>, kind: crate::vault::Kind) -> RowResult {
        RowResult {
            api_username: user.map(String::from),
            credential_kind: user.map(|_| kind),
            machine_s: 2.0,
            ..RowResult::plain(&row(), status, "done")
        }
    }

    /// A chained row is one line: the first flow not done decides its
    /// status, the last username made is shown with its kind, and a flow
    /// after a stop is listed as not started.
    #[test]
    fn a_chained_row_is_one_line_with_each_flows_status() {
        use crate::vault::Kind;
        let flows = ["portal-login-register", "production-api-user"];
        let ok = RowStatus::Ran(RunStatus::Registered);
        let both = of_chain(
            &row(),
            &flows,
            vec![
                part(ok, Some("navkar27"), Kind::PortalLogin),
                part(ok, Some("API_navkar"), Kind::ApiUser),
            ],
        );
        assert_eq!(both.status, ok);
        assert_eq!(both.api_username.as_deref(), Some("API_navkar"));
        assert_eq!(both.credential_kind, Some(Kind::ApiUser));
        assert_eq!(both.machine_s, 4.0);
        assert_eq!(both.message, "production-api-user: done");
        let csv = render(
            Path::new("r.csv"),
            std::slice::from_ref(&both),
            "https://einvoice1.gst.gov.in",
        );
        assert!(
            csv.lines().next().unwrap().ends_with(",kind,flows,portal"),
            "{csv}"
        );
        assert!(
            csv.contains(
                ",api_user,\"portal-login-register=registered; production-api-user=registered\",https://einvoice1.gst.gov.in\n"
            ),
            "{csv}"
        );
        let json: serde_json::Value =
            serde_json::from_str(&render(Path::new("r.json"), &[both], "http://127.0.0.1:9"))
                .unwrap();
        assert_eq!(json[0]["portal"], "http://127.0.0.1:9");

        let drift = RowStatus::Ran(RunStatus::Drift);
        let stopped = of_chain(&row(), &flows, vec![part(drift, None, Kind::PortalLogin)]);
        assert_eq!(stopped.status, drift);
        assert_eq!(stopped.message, "portal-login-register: done");
        assert_eq!(stopped.flows[1].status, RowStatus::NotStarted);
        assert!(stopped.flows[1].message.contains("portal-login-register"));

        // Resumed: the first flow was done before, the second now.
        let skipped = RowStatus::Skipped;
        let resumed = of_chain(
            &row(),
            &flows,
            vec![
                part(skipped, None, Kind::PortalLogin),
                part(ok, Some("API_navkar"), Kind::ApiUser),
            ],
        );
        assert_eq!(resumed.status, ok);
        let json = serde_json::to_value(&resumed).unwrap();
        assert_eq!(json["flows"][0]["status"], "skipped");
        assert_eq!(json["credential_kind"], "api_user");

        // One flow: its result is the row's as is (no `flows` in the JSON).
        let one = of_chain(
            &row(),
            &flows[1..],
            vec![part(ok, Some("API_x"), Kind::ApiUser)],
        );
        assert_eq!(one.message, "done");
        assert!(serde_json::to_value(&one).unwrap().get("flows").is_none());
    }
}
