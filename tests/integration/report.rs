//! `--html`: the batch and smoke reports open in Chromium, show each row's
//! status, carry their screenshots inline and hold no password.

use crate::support::*;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

/// Three demo rows; the second's login password is wrong, so it fails on
/// the portal (with a screenshot) while the others register.
fn three_rows(dir: &std::path::Path) -> (String, String) {
    let csv = std::fs::read_to_string(root().join("fixtures/demo-batch.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().take(4).collect();
    std::fs::write(dir.join("batch.csv"), rows.join("\n") + "\n").unwrap();
    let wrong = "Wrong@Login99";
    write_secrets(
        dir,
        &format!("[portal_password]\nudaytrd01 = \"Uday@Login2024\"\ngstzendemo = \"{wrong}\"\njayantka = \"Jay@Login2024k\"\n"),
    );
    (wrong.to_string(), "Uday@Login2024".to_string())
}

#[test]
fn the_batch_report_opens_in_chromium_and_shows_each_rows_status() {
    let dir = tempfile::tempdir().unwrap();
    let (wrong, right) = three_rows(dir.path());
    let d = Test::new()
        .cwd(dir.path())
        .args(batch_on("production-api-user", "replica"))
        .args(["--html", "report.html", "--report", "report.json"])
        .any_status()
        .timeout(Duration::from_secs(300))
        .run();
    let report: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    let statuses: Vec<(String, String)> = report
        .iter()
        .map(|r| {
            (
                r["gstin"].as_str().unwrap().into(),
                r["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        statuses.iter().filter(|(_, s)| s == "registered").count(),
        2,
        "{statuses:?}\n{}",
        d.stderr
    );
    let path = dir.path().join("report.html");
    let html = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Self-contained: nothing is fetched from anywhere.
    for external in [
        "src=\"http",
        "href=\"http",
        "<link",
        "<script",
        "url(http",
        "@import",
    ] {
        assert!(!html.contains(external), "the report loads `{external}`");
    }
    // No password: the logins', and the API passwords the vault holds.
    let creds = vault_in(dir.path());
    assert_eq!(creds.len(), 2);
    for pw in creds
        .iter()
        .map(|c| c.password.clone())
        .chain([wrong, right])
    {
        assert!(!html.contains(&pw), "a password is in the report");
    }

    let chrome = Chrome::start();
    chrome.open(&path);
    let shown = chrome.js(
        "return [...document.querySelectorAll('#rows > tbody > tr')].map(tr => {
           const st = tr.querySelector('.st'); const r = st.getBoundingClientRect();
           const img = tr.querySelector('img.shot');
           return {gstin: tr.cells[1].innerText, status: st.innerText, visible: r.width > 0 && r.height > 0,
                   user: tr.cells[4].innerText, shot: img ? img.naturalWidth : 0};
         })",
    );
    let shown = shown.as_array().unwrap();
    assert_eq!(shown.len(), 3, "{shown:?}");
    for ((gstin, status), row) in statuses.iter().zip(shown) {
        assert_eq!(row["gstin"], gstin.as_str());
        assert_eq!(row["status"], status.as_str(), "{row}");
        assert_eq!(row["visible"], true, "{row}");
        if status == "registered" {
            assert!(row["user"].as_str().unwrap().starts_with("API_"), "{row}");
        } else {
            assert!(
                row["shot"].as_u64().unwrap() > 100,
                "the failure screenshot shows: {row}"
            );
        }
    }
    let cards =
        chrome.js("return document.querySelector('[data-card=\"registered\"] b').innerText");
    assert_eq!(cards, "2");
    let steps = chrome.js("return document.querySelectorAll('table.steps tr').length");
    assert!(steps.as_u64().unwrap() > 10, "step timelines: {steps}");
    chrome.keep_screenshot("batch-report.png");
}

#[test]
fn the_smoke_report_shows_drift_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let (path, stdout) = smoke_html(dir.path(), "renamed-id");
    let chrome = Chrome::start();
    chrome.open(&path);
    let rows = chrome.js(
        "return [...document.querySelectorAll('#findings > tbody > tr')].map(tr => tr.dataset.class)",
    );
    let rows: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(rows.iter().any(|c| *c != "ok"), "{rows:?}");
    let drift = chrome.js("return document.querySelector('[data-card=\"drift\"] b').innerText");
    let fallback =
        chrome.js("return document.querySelector('[data-card=\"fallback\"] b').innerText");
    let in_stdout = |w: &str| {
        stdout
            .lines()
            .filter(|l| l.starts_with(w))
            .count()
            .to_string()
    };
    assert_eq!(drift, in_stdout("drift").as_str(), "{stdout}");
    assert_eq!(fallback, in_stdout("fallback").as_str(), "{stdout}");
    chrome.keep_screenshot("smoke-report.png");
}

/// `smoke --html` on `drift`: the report file and what smoke printed.
fn smoke_html(dir: &std::path::Path, drift: &str) -> (std::path::PathBuf, String) {
    let d = Test::new()
        .cwd(dir)
        .args(["smoke", "production-api-user", "--portal", "replica"])
        .args([
            "--replica-drift",
            drift,
            "--timeout",
            "4s",
            "--html",
            "smoke.html",
        ])
        .any_status()
        .run();
    (dir.join("smoke.html"), d.stdout)
}

/// A drift shows the page the walk stopped on inline (it decodes in
/// Chromium); a smoke where every check passed says so in one line.
#[test]
fn the_smoke_report_shows_the_drifted_page_or_that_all_passed() {
    let chrome = Chrome::start();
    let dir = tempfile::tempdir().unwrap();
    let (path, stdout) = smoke_html(dir.path(), "interstitial");
    chrome.open(&path);
    let shot = chrome.js(
        "const i = document.querySelector('details.shot img'); return i ? [i.closest('details').dataset.flow, i.naturalWidth] : null",
    );
    assert_eq!(shot[0], "production-api-user", "{stdout}");
    assert!(
        shot[1].as_u64().unwrap() > 100,
        "the screenshot decodes: {shot}"
    );

    let dir = tempfile::tempdir().unwrap();
    let (path, stdout) = smoke_html(dir.path(), "missing-gsp");
    let checks = stdout
        .lines()
        .find_map(|l| l.split_once(" checks: ").map(|(n, _)| n.to_string()))
        .expect("smoke counts its checks");
    chrome.open(&path);
    let said =
        chrome.js("const p = document.getElementById('all-passed'); return p && p.innerText");
    assert_eq!(
        said,
        format!("all {checks} checks passed").as_str(),
        "{stdout}"
    );
    let table = chrome.js("return document.getElementById('findings') === null");
    assert_eq!(table, true, "no empty table");
    // How far the flow was checked, as smoke printed it.
    let covered = chrome.js("return document.getElementById('coverage').innerText");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("coverage    "))
        .expect("a coverage line");
    let said = covered.as_str().unwrap();
    assert!(
        said.contains("screens checked") && line.ends_with(said.trim()),
        "{said:?} vs {line:?}"
    );
}
