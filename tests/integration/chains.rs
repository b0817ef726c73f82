//! `einvreg batch A,B`: GSTINs with no portal login taken to verified API
//! users in one batch (the login registered, then the API user made with
//! it), one report line per row, and `--resume` after a SIGKILL going on
//! at the flow each row stopped in.

use crate::procs;
use crate::support::*;
use einvreg::vault::{Credential, Kind, Status};
use std::path::Path;
use std::time::Duration;

const CHAIN: &str = "portal-login-register,production-api-user";
const HEAD: &str = "gstin,portal_username,provider,api_username\n";
/// The built-in taxpayers with no portal login, each with the login and
/// API user the batch makes.
const BARE: [(&str, &str, &str); 3] = [
    ("27AADCN5521K1ZD", "navkar27", "navkarapi"),
    ("29AAGFK8812R1ZH", "kaveri29", "kaveriapi"),
    ("33AAHPV4410M1ZJ", "vellore33", "velloreapi"),
];

fn bare_rows() -> String {
    BARE.iter()
        .map(|(g, login, api)| format!("{g},{login},Tera Software Limited,{api}\n"))
        .collect()
}

/// The batch, its API users verified through the replica's auth API.
fn chained_batch(url: &str) -> Vec<String> {
    let key = format!("production={}", crate::verify::key("production"));
    let args = [
        "batch",
        CHAIN,
        "batch.csv",
        "--portal",
        url,
        "--auto-answer",
    ];
    let verify = ["--verify=all", "--nic-public-key", &key];
    let more = ["--secrets", "secrets.toml", "--report", "report.json"];
    let all = args.iter().chain(&verify).chain(&more);
    all.map(|s| s.to_string()).collect()
}

/// The secrets file: the API client, and `logins` (TOML lines).
fn secrets(dir: &Path, logins: &str) {
    use crate::verify::{CLIENT_ID, CLIENT_SECRET};
    let client =
        format!("api_client_id = \"{CLIENT_ID}\"\napi_client_secret = \"{CLIENT_SECRET}\"\n");
    write_secrets(dir, &format!("{client}[portal_password]\n{logins}"));
}

fn report_rows(dir: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join("report.json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    report.as_array().unwrap().clone()
}

fn row<'a>(rows: &'a [serde_json::Value], gstin: &str) -> &'a serde_json::Value {
    rows.iter()
        .find(|r| r["gstin"] == gstin)
        .unwrap_or_else(|| panic!("{gstin} is not in the report: {rows:?}"))
}

/// Each flow's status in a chained row, in order.
fn flow_statuses(r: &serde_json::Value) -> Vec<&str> {
    let flows = r["flows"]
        .as_array()
        .expect("a chained row lists its flows");
    flows
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect()
}

/// Each bare GSTIN ends with one login and one API user on the portal,
/// and two `created` credentials in the vault (one of each kind, nothing
/// else for it): the login's password is what made the API user, and the
/// API user was confirmed by the auth API.
fn each_bare_gstin_has_a_login_and_a_verified_api_user(dir: &Path, url: &str) {
    let vault = vault_in(dir);
    let taxpayers = get_json(&format!("{url}/__replica/taxpayers"));
    let users = get_json(&format!("{url}/__replica/users"));
    for (gstin, login, api) in BARE {
        let mine: Vec<&Credential> = vault.iter().filter(|c| c.gstin == gstin).collect();
        let kinds: Vec<(Kind, Status, &str)> = mine
            .iter()
            .map(|c| (c.kind, c.status, c.username.as_str()))
            .collect();
        let api_user = format!("API_{api}");
        assert_eq!(
            kinds,
            [
                (Kind::PortalLogin, Status::Created, login),
                (Kind::ApiUser, Status::Created, api_user.as_str())
            ],
            "{gstin} in the vault"
        );
        assert!(mine[1].verified_at.is_some(), "{gstin}: not verified");
        let t = taxpayers
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["gstin"] == gstin);
        assert_eq!(
            t.unwrap()["username"],
            login,
            "{gstin}'s login on the portal"
        );
        let held = users["api_users"].as_array().unwrap();
        let held = held.iter().filter(|u| u["gstin"] == gstin).count();
        assert_eq!(held, 1, "{gstin}: API users on the portal");
    }
    let logins = counter(url, "portal_login_created");
    assert!(logins <= 3, "{logins} logins made for 3 GSTINs");
}

/// Three bare GSTINs, one with a login (given in the secrets file) and
/// one with a login nobody gave: the bare ones get a login and a verified
/// API user, the second "already registered" then its API user, the last
/// stops naming the secret to give. One line per row, each flow's status.
#[test]
fn a_chained_batch_takes_bare_gstins_to_verified_api_users() {
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(&[]);
    let csv = format!(
        "{HEAD}{}27AAPFU0939F1ZV,udaytrd01,Tera Software Limited,udaybatch\n29AAFCC9980MZZT,gstzendemo,Tera Software Limited,zenbatch\n",
        bare_rows()
    );
    std::fs::write(dir.path().join("batch.csv"), csv).unwrap();
    secrets(dir.path(), "udaytrd01 = \"Uday@Login2024\"\n");
    let more = ["--parallel", "2", "--html", "report.html"].map(String::from);
    let args = [&chained_batch(&r.production)[..], &more].concat();
    let d = Test::new()
        .cwd(dir.path())
        .args(&args)
        .status(1)
        .timeout(Duration::from_secs(300))
        .run();
    let shown = format!("{}\n{}", d.stdout, d.stderr);
    each_bare_gstin_has_a_login_and_a_verified_api_user(dir.path(), &r.production);
    let rows = report_rows(dir.path());
    assert_eq!(rows.len(), 5, "one line per row: {shown}");
    for (gstin, _, api) in BARE {
        let r = row(&rows, gstin);
        assert_eq!(r["status"], "registered", "{r}");
        assert_eq!(flow_statuses(r), ["registered", "registered"], "{r}");
        assert_eq!(
            (&r["api_username"], &r["credential_kind"]),
            (&format!("API_{api}").into(), &"api_user".into())
        );
    }
    let uday = row(&rows, "27AAPFU0939F1ZV");
    assert_eq!(uday["status"], "registered", "{uday}");
    assert_eq!(flow_statuses(uday), ["already_registered", "registered"]);
    let zen = row(&rows, "29AAFCC9980MZZT");
    assert_eq!(zen["status"], "failed", "{zen}");
    assert_eq!(flow_statuses(zen), ["already_registered", "failed"]);
    let why = zen["message"].as_str().unwrap();
    assert!(
        why.contains("`portal_password`") && why.contains("[portal_password]"),
        "{why}"
    );
    // Not a terminal: the summary table carries the whole message.
    assert!(d.stdout.contains(why), "{}", d.stdout);
    let vault = vault_in(dir.path());
    assert_eq!(
        vault
            .iter()
            .filter(|c| c.gstin == "29AAFCC9980MZZT")
            .count(),
        0
    );
    // No password the batch made or read is in what it printed or reported.
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    let report = std::fs::read_to_string(dir.path().join("report.json")).unwrap();
    let journal = std::fs::read_to_string(journal_file(dir.path())).unwrap();
    for c in &vault {
        for text in [&shown, &html, &report, &journal] {
            assert!(
                !text.contains(&c.password),
                "{}'s password leaked",
                c.username
            );
        }
    }
    assert!(
        html.contains("<ol class=\"flows\">"),
        "the HTML lists each flow"
    );
    // The journal names each entry's flow: that is what --resume goes by.
    let flows: Vec<String> = journal_states(dir.path())
        .iter()
        .map(|e| e["flow"].as_str().unwrap_or("none").to_string())
        .collect();
    assert!(
        flows.iter().all(|f| CHAIN.split(',').any(|c| c == f)),
        "{flows:?}"
    );
}

/// SIGKILL while the first row's new login is being saved (the portal
/// holds its answer), the replica restarted from its state, then
/// `--resume`: the row goes on at its first flow (its login, in doubt, is
/// submitted again and confirmed), then makes its API user; the other rows
/// run whole. Nothing is held twice, on the portal or in the vault.
#[test]
fn a_chained_batch_killed_mid_chain_resumes_at_the_flow_it_stopped_in() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("batch.csv"),
        format!("{HEAD}{}", bare_rows()),
    )
    .unwrap();
    secrets(dir.path(), "");
    let state = dir.path().join("replica-state.json").display().to_string();
    let first = ReplicaProc::start(&["--state", &state, "--faults", "hold_create=60s"]);
    let one_at_a_time = [
        &chained_batch(&first.production)[..],
        &["--parallel".into(), "1".into()],
    ]
    .concat();
    let mut child = spawn(dir.path(), &one_at_a_time, false);
    poll("the new login's Save to be held").until(|| {
        assert!(
            child.try_wait().unwrap().is_none(),
            "einvreg ended before the Save"
        );
        counter(&first.production, "create_held") > 0
    });
    if let Err(left) = procs::sigkill_alone(&mut child) {
        panic!("processes outlived einvreg: {left:?}");
    }
    let last = journal_states(dir.path()).pop().expect("a journal entry");
    assert_eq!(
        (last["flow"].as_str(), last["state"].as_str()),
        (Some("portal-login-register"), Some("submitting")),
        "killed inside the first flow's submit: {last}"
    );
    assert_eq!(vault_in(dir.path())[0].status, Status::Pending);
    drop(first);

    let r = ReplicaProc::start(&["--state", &state]);
    // It ends 0: every row registered.
    resume(dir.path(), &chained_batch(&r.production));
    each_bare_gstin_has_a_login_and_a_verified_api_user(dir.path(), &r.production);
    assert_eq!(
        counter(&r.production, "portal_login_created"),
        2,
        "only the rows not reached made logins now"
    );
    let rows = report_rows(dir.path());
    let (gstin, _, _) = BARE[0];
    let resumed = row(&rows, gstin);
    assert_eq!(
        flow_statuses(resumed),
        ["registered", "registered"],
        "{resumed}"
    );
    let confirmed = resumed["flows"][0]["message"].as_str().unwrap();
    assert!(confirmed.contains("confirmed"), "{confirmed}");
}

/// SIGKILL as the second flow starts, its first done: `--resume` skips
/// the first (its login read back from the vault, where it was recorded
/// before its Save) and makes the API user with that login.
#[test]
fn a_resumed_chain_logs_in_with_the_login_its_first_flow_made() {
    let dir = tempfile::tempdir().unwrap();
    let (gstin, login, api) = BARE[2];
    let csv = format!("{HEAD}{gstin},{login},Tera Software Limited,{api}\n");
    std::fs::write(dir.path().join("batch.csv"), csv).unwrap();
    secrets(dir.path(), "");
    let r = ReplicaProc::start(&[]);
    let mut child = spawn(dir.path(), &chained_batch(&r.production), false);
    let second_started =
        |e: &serde_json::Value| e["flow"] == "production-api-user" && e["state"] == "started";
    poll("the second flow to start").until(|| {
        assert!(child.try_wait().unwrap().is_none(), "einvreg ended first");
        journal_states(dir.path()).iter().any(second_started)
    });
    if let Err(left) = procs::sigkill_alone(&mut child) {
        panic!("processes outlived einvreg: {left:?}");
    }
    let made = vault_in(dir.path());
    assert_eq!(
        (made[0].kind, made[0].status),
        (Kind::PortalLogin, Status::Created)
    );
    resume(dir.path(), &chained_batch(&r.production));
    let rows = report_rows(dir.path());
    assert_eq!(
        flow_statuses(&rows[0]),
        ["skipped", "registered"],
        "{}",
        rows[0]
    );
    assert_eq!(counter(&r.production, "portal_login_created"), 1);
    let vault = vault_in(dir.path());
    let api_users: Vec<_> = vault.iter().filter(|c| c.kind == Kind::ApiUser).collect();
    assert_eq!(api_users.len(), 1, "{vault:?}");
    assert_eq!(
        (api_users[0].status, api_users[0].username.as_str()),
        (Status::Created, format!("API_{api}").as_str())
    );
    assert!(api_users[0].verified_at.is_some());
}
