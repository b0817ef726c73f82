//! The submit window: einvreg, Chromium or chromedriver killed while the
//! portal holds a just-created credential's answer (`hold_create`), then
//! `--resume`. Every route ends with exactly one `created` credential, the
//! one the portal holds, and the report agrees. Plus SIGKILL at random
//! moments over many rounds.

use crate::procs;
use crate::support::*;
use einvreg::vault::Status;
use std::path::Path;
use std::time::Duration;

use crate::fidelity::SECRETS;

const PROD_HEAD: &str =
    "gstin,portal_username,through,provider,other_gstin,api_username,client_id\n";
const SANDBOX_HEAD: &str =
    "gstin,trade_name,mobile,email,through,provider,client_id,api_username\n";

/// One route's row and where it registers.
struct Route {
    flow: &'static str,
    sandbox: bool,
    gstin: &'static str,
    csv: String,
}

fn prod(row: &'static str) -> Route {
    Route {
        flow: "production-api-user",
        sandbox: false,
        gstin: &row[..15],
        csv: format!("{PROD_HEAD}{row}\n"),
    }
}

fn gsp() -> Route {
    prod("27AAPFU0939F1ZV,udaytrd01,gsp,Tera Software Limited,,udaytera,")
}
fn erp() -> Route {
    prod("29AAFCC9980MZZT,gstzendemo,erp,CLOUDZEN SOFTWARE LABS PRIVATE LIMITED(GSTZen),,zenerp,")
}
fn direct() -> Route {
    prod("05AAACH6188F1ZM,himagro05,direct,,,himdirect,HIM-OWN-CLIENT")
}
fn other_gstin() -> Route {
    prod("29AAACJ4323N1ZC,jayantka,other_gstin,,27AAACJ4323N1ZG,jayantcid,")
}
fn sandbox() -> Route {
    Route {
        flow: "sandbox-register",
        sandbox: true,
        gstin: "33GSPTN9771G3ZP",
        csv: format!("{SANDBOX_HEAD}33GSPTN9771G3ZP,TAMIL GSP SERVICES,8056012345,gsp@tamilgsp.example,gsp,DEFMACRO SOFTWARE PRIVATE LIMITED,AACCT29GSPB5H8G,tngspsbx\n"),
    }
}

/// What is killed inside the window.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kill {
    Einvreg,
    Chromium,
    Chromedriver,
}

fn setup(dir: &Path, csv: &str) {
    std::fs::write(dir.join("batch.csv"), csv).unwrap();
    write_secrets(dir, SECRETS);
}

fn batch_args<'a>(flow: &'a str, url: &'a str) -> Vec<&'a str> {
    [batch_on(flow, url), vec!["--report", "report.json"]].concat()
}

/// Waits until the portal holds a created credential's answer.
fn wait_for_window(url: &str, child: &mut std::process::Child) {
    poll("the submit window").until(|| {
        assert!(
            child.try_wait().unwrap().is_none(),
            "einvreg ended before the submit window opened"
        );
        counter(url, "create_held") > 0
    });
}

/// The one process named `comm` under `root`.
fn find(root: u32, comm: &str) -> procs::Proc {
    procs::descendants(root)
        .into_iter()
        .find(|p| p.comm == comm)
        .unwrap_or_else(|| panic!("no {comm} under einvreg"))
}

/// Kills `what` inside the window; returns einvreg's exit code, if it had one.
fn kill_in_window(what: Kill, child: &mut std::process::Child) -> Option<i32> {
    match what {
        Kill::Einvreg => {
            // The guard takes Chromium and chromedriver down with einvreg.
            if let Err(left) = procs::sigkill_alone(child) {
                panic!("processes outlived einvreg: {left:?}");
            }
            None
        }
        Kill::Chromium => {
            let driver = find(child.id(), "chromedriver");
            let chromium = procs::all()
                .into_iter()
                .find(|p| p.ppid == driver.pid)
                .expect("chromium under chromedriver");
            procs::kill(chromium.pid);
            child.wait().unwrap().code()
        }
        Kill::Chromedriver => {
            let driver = find(child.id(), "chromedriver");
            let addrs = procs::listening(driver.pid);
            assert!(!addrs.is_empty(), "chromedriver listens somewhere");
            assert!(
                addrs.iter().all(|a| procs::is_loopback(a)),
                "chromedriver listens beyond loopback: {addrs:?}"
            );
            procs::kill(driver.pid);
            child.wait().unwrap().code()
        }
    }
}

fn crash_in_the_submit_window(route: Route, what: Kill) {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path(), &route.csv);
    let r = ReplicaProc::start(&["--faults", "hold_create=60s"]);
    let url = match route.sandbox {
        true => r.sandbox.clone(),
        false => r.production.clone(),
    };
    let args = batch_args(route.flow, &url);
    let mut child = spawn(dir.path(), &args, false);
    wait_for_window(&url, &mut child);
    let code = kill_in_window(what, &mut child);
    if what != Kill::Einvreg {
        assert_eq!(
            code,
            Some(7),
            "a crash after the submit is in doubt, not failed"
        );
        let creds = vault_in(dir.path());
        assert_eq!(creds.len(), 1, "{creds:?}");
        assert_eq!(creds[0].status, Status::NeedsVerification, "{creds:?}");
    }
    resume(dir.path(), &args);
    exactly_one_working_credential(dir.path(), &url, route.gstin);
    assert_owner_only(dir.path(), &["batch.csv", "secrets.toml"]);
}

/// The portal holds one API user for `gstin`; the vault one `created`
/// credential, whose password logs in; the report says so.
fn exactly_one_working_credential(dir: &Path, url: &str, gstin: &str) {
    exactly_once(dir, url, gstin, &["registered"]);
}

/// As above, with the report's status one of `statuses` (a row done in
/// an earlier run is `skipped` by the resume).
fn exactly_once(dir: &Path, url: &str, gstin: &str, statuses: &[&str]) {
    let users = get_json(&format!("{url}/__replica/users"));
    let held: Vec<&serde_json::Value> = ["api_users", "sandbox_users"]
        .iter()
        .flat_map(|k| users[k].as_array().into_iter().flatten())
        .filter(|u| u["gstin"] == gstin)
        .collect();
    assert_eq!(held.len(), 1, "{gstin} on the portal: {held:?}");
    let creds = vault_in(dir);
    let created: Vec<_> = creds
        .iter()
        .filter(|c| c.gstin == gstin && c.status == Status::Created)
        .collect();
    assert_eq!(created.len(), 1, "{gstin} in the vault: {creds:?}");
    assert_eq!(created[0].username, held[0]["username"].as_str().unwrap());
    assert_eq!(
        auth(url, &created[0].username, &created[0].password),
        200,
        "{gstin}: the vault's password is not the one the portal holds"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let row = report
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["gstin"] == gstin)
        .expect("the row is in the report");
    assert!(
        statuses.iter().any(|s| row["status"] == *s),
        "{gstin}: {row}"
    );
}

/// The portal holds this API user with this password.
pub(crate) fn logs_in(url: &str, username: &str, password: &str) {
    assert_eq!(
        auth(url, username, password),
        200,
        "{username} does not log in"
    );
}

fn auth(url: &str, username: &str, password: &str) -> u16 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body = einvreg::loopback::form_encode(&[("username", username), ("password", password)]);
    rt.block_on(einvreg::loopback::request(
        "POST",
        &format!("{url}/__replica/auth"),
        &[],
        Some(&body),
    ))
    .unwrap()
    .status
}

#[test]
fn sigkill_in_the_submit_window_gsp() {
    crash_in_the_submit_window(gsp(), Kill::Einvreg);
}

#[test]
fn sigkill_in_the_submit_window_erp() {
    crash_in_the_submit_window(erp(), Kill::Einvreg);
}

#[test]
fn sigkill_in_the_submit_window_directly() {
    crash_in_the_submit_window(direct(), Kill::Einvreg);
}

#[test]
fn sigkill_in_the_submit_window_other_gstin() {
    crash_in_the_submit_window(other_gstin(), Kill::Einvreg);
}

#[test]
fn sigkill_in_the_submit_window_sandbox() {
    crash_in_the_submit_window(sandbox(), Kill::Einvreg);
}

#[test]
fn chromium_killed_in_the_submit_window_gsp() {
    crash_in_the_submit_window(gsp(), Kill::Chromium);
}

#[test]
fn chromium_killed_in_the_submit_window_sandbox() {
    crash_in_the_submit_window(sandbox(), Kill::Chromium);
}

#[test]
fn chromedriver_killed_in_the_submit_window_directly() {
    crash_in_the_submit_window(direct(), Kill::Chromedriver);
}

#[test]
fn chromedriver_killed_in_the_submit_window_other_gstin() {
    crash_in_the_submit_window(other_gstin(), Kill::Chromedriver);
}

fn finished(dir: &Path) -> usize {
    finished_entries(dir).len()
}

fn prod_batch_args(url: &str) -> Vec<String> {
    batch_args("production-api-user", url)
        .into_iter()
        .map(String::from)
        .collect()
}

/// Every GSTIN has one API user on the portal and one `created` credential.
fn each_exactly_once(dir: &Path, url: &str, gstins: &[String]) {
    for g in gstins {
        exactly_once(dir, url, g, &["registered", "skipped"]);
    }
}

#[test]
fn a_killed_chromedriver_is_replaced_and_the_batch_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (gstins, _) = prod_rows(dir.path(), 4);
    let r = ReplicaProc::start(&["--taxpayers", "4"]);
    let args = prod_batch_args(&r.production);
    let one_at_a_time = [&args[..], &["--parallel".into(), "1".into()]].concat();
    let child = spawn(dir.path(), &one_at_a_time, true);
    poll("a row to finish").until(|| finished(dir.path()) >= 1);
    let first = find(child.id(), "chromedriver").pid;
    procs::kill(first);
    let out = child.wait_with_output().unwrap();
    let stdout = format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    let rows = report.as_array().unwrap();
    assert_eq!(rows.len(), 4, "{stdout}");
    // At most the row in flight is hit; the ones after it run on a new chromedriver.
    let registered = rows.iter().filter(|r| r["status"] == "registered").count();
    assert!(registered >= 3, "{stdout}");
    assert!(
        stdout.contains("chromedriver exited; starting a new one"),
        "a new chromedriver took over: {stdout}"
    );
    // Rows start in file order, so the last one started on the new chromedriver.
    assert_eq!(rows[3]["status"], "registered", "{stdout}");
    resume(dir.path(), &args);
    each_exactly_once(dir.path(), &r.production, &gstins);
}

/// SIGKILL at a random moment, then `--resume`, many times over: every
/// GSTIN still ends with exactly one credential, the one the portal holds.
#[test]
fn twenty_sigkills_at_random_moments_then_resume() {
    use rand::{Rng, SeedableRng};
    let seed: u64 = std::env::var("EINVREG_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(11);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let (gstins, _) = prod_rows(dir.path(), 6);
    let r = ReplicaProc::start(&["--taxpayers", "6"]);
    let args = prod_batch_args(&r.production);
    for round in 0..20 {
        let round_args = [
            &args[..],
            &["--parallel".into(), "2".into(), "--resume".into()],
        ]
        .concat();
        let mut child = spawn(dir.path(), &round_args, false);
        // The kill's random moment is the test's subject, not a wait for something.
        let at = Duration::from_millis(rng.random_range(300..2500));
        std::thread::sleep(at);
        if let Err(left) = procs::sigkill_alone(&mut child) {
            panic!("seed {seed} round {round}: processes outlived einvreg: {left:?}");
        }
    }
    resume(dir.path(), &args);
    each_exactly_once(dir.path(), &r.production, &gstins);
}

#[test]
fn chromium_killed_in_the_submit_window_erp() {
    crash_in_the_submit_window(erp(), Kill::Chromium);
}

#[test]
fn chromium_killed_in_the_submit_window_directly() {
    crash_in_the_submit_window(direct(), Kill::Chromium);
}

#[test]
fn chromium_killed_in_the_submit_window_other_gstin() {
    crash_in_the_submit_window(other_gstin(), Kill::Chromium);
}

#[test]
fn chromedriver_killed_in_the_submit_window_gsp() {
    crash_in_the_submit_window(gsp(), Kill::Chromedriver);
}

#[test]
fn chromedriver_killed_in_the_submit_window_erp() {
    crash_in_the_submit_window(erp(), Kill::Chromedriver);
}

#[test]
fn chromedriver_killed_in_the_submit_window_sandbox() {
    crash_in_the_submit_window(sandbox(), Kill::Chromedriver);
}
