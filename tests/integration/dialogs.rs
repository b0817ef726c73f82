//! JS dialogs as the walk meets them: each read, sorted and answered in
//! order and recorded in trace.json; a confirm the flow names is answered
//! yes on its step, one nothing names is answered no.

use crate::support::*;

/// 20 registrations in a row, each with a confirm before the create and
/// the success alert right after it: each created, and the trace lists
/// both dialogs in order.
#[test]
fn a_confirm_before_the_create_and_the_alert_right_after_are_both_seen() {
    let dir = tempfile::tempdir().unwrap();
    let n = 20;
    let (gstins, _) = prod_rows(dir.path(), n);
    let r = ReplicaProc::start(&["--taxpayers", "20", "--faults", "confirm_create"]);
    let mut args = batch_on("production-api-user", &r.production);
    args.extend(["--parallel", "2"]);
    let d = Test::new()
        .cwd(dir.path())
        .args(args)
        .timeout(std::time::Duration::from_secs(600))
        .run();
    assert!(!d.stdout.contains("needs_verification"), "{}", d.stdout);
    let created = vault_in(dir.path())
        .into_iter()
        .filter(|c| c.status == einvreg::vault::Status::Created)
        .count();
    assert_eq!(created, n, "{}", d.stdout);
    for (i, g) in gstins.iter().enumerate() {
        let t = trace_of(dir.path(), i + 2, g);
        let dialogs: Vec<(String, String, String)> = t["dialogs"]
            .as_array()
            .unwrap_or_else(|| panic!("no dialogs in the trace.json of {g}"))
            .iter()
            .map(|d| {
                let s = |k: &str| d[k].as_str().unwrap_or_default().to_string();
                (s("text"), s("sorted"), s("answer"))
            })
            .collect();
        let confirm = dialogs
            .iter()
            .position(|d| d.0 == "Are you sure you want to create the API user?")
            .unwrap_or_else(|| panic!("{g}: no confirm in {dialogs:?}"));
        assert_eq!(
            (dialogs[confirm].1.as_str(), dialogs[confirm].2.as_str()),
            ("step", "accept"),
            "{g}: {dialogs:?}"
        );
        let after = &dialogs[confirm + 1..];
        assert!(
            after
                .iter()
                .any(|d| d.1 == "outcome" && d.2 == "accept" && d.0.contains("created")),
            "{g}: the success alert after the confirm: {dialogs:?}"
        );
    }
}

/// The Submit's confirm opens a moment after the click, while the click's
/// wait for the page load is under way: answered yes, the wait goes on
/// for the page the form then posts, and its success alert is the
/// outcome (not an alert nobody names).
#[test]
fn a_confirm_met_while_waiting_for_the_submits_page_load_lets_the_wait_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let (gstins, _, _) = one_row_registers_with(dir.path(), "late_confirm");
    let t = trace_of(dir.path(), 2, &gstins[0]);
    let sorted: Vec<(String, String)> = t["dialogs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["screen"] == "API Registration form")
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap_or_default().to_string();
            (s("sorted"), s("answer"))
        })
        .collect();
    let want =
        [("step", "accept"), ("outcome", "accept")].map(|(a, b)| (a.to_string(), b.to_string()));
    assert_eq!(sorted, want, "{}", t["dialogs"]);
    // The Submit's own wait saw it, not a later step's look.
    let submit = t["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "Submit")
        .unwrap();
    assert_eq!(submit["result"], "outcome:created", "{submit}");
}

/// The trace.json of a batch row (CSV line `line`).
fn trace_of(dir: &std::path::Path, line: usize, gstin: &str) -> serde_json::Value {
    let trace = row_dir(dir, line, gstin).join("trace.json");
    serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap()
}

/// One production row on a replica with `fault`, registered.
fn one_row_registers_with(dir: &std::path::Path, fault: &str) -> (Vec<String>, ReplicaProc, Done) {
    let (gstins, _) = prod_rows(dir, 1);
    let r = ReplicaProc::start(&["--taxpayers", "1", "--faults", fault]);
    let d = Test::new()
        .cwd(dir)
        .args(batch_on("production-api-user", &r.production))
        .run();
    assert!(
        d.stdout.contains("1 rows: 1 registered"),
        "{}\n{}",
        d.stdout,
        d.stderr
    );
    (gstins, r, d)
}

/// A dialog that stays open after it was answered twice (the replica opens
/// the same alert three times in a row, as a browser does when a driver's
/// answers do not reach it): the session counts as lost, and the row,
/// before its submit, starts again in a fresh one instead of answering
/// until the screen's timeout.
#[test]
fn a_dialog_still_open_after_two_answers_loses_the_session_and_the_row_starts_again() {
    let dir = tempfile::tempdir().unwrap();
    let (_, r, d) = one_row_registers_with(dir.path(), "stuck_alert");
    assert!(
        d.stderr
            .contains("the browser session was lost before the submit; starting the row again"),
        "{}",
        d.stderr
    );
    assert_eq!(counter(&r.production, "stuck_alert.shown"), 1);
}

/// The expiry alert opens after the password is typed, while its value
/// check still rides on the next step's find, and that find meets it: the
/// interrupt's own step answers it (the check is made after it is closed),
/// and the row registers in its first session.
#[test]
fn an_interrupt_alert_met_by_a_pending_value_check_is_answered_by_its_own_step() {
    let dir = tempfile::tempdir().unwrap();
    let (gstins, r, d) = one_row_registers_with(dir.path(), "expiry_after_password");
    assert!(!d.stderr.contains("starting the row again"), "{}", d.stderr);
    assert_eq!(counter(&r.production, "expiry_after_password.shown"), 1);
    let t = trace_of(dir.path(), 2, &gstins[0]);
    let expiry: Vec<(String, String)> = t["dialogs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d["text"]
                .as_str()
                .unwrap_or_default()
                .contains("about to expire")
        })
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap_or_default().to_string();
            (s("sorted"), s("answer"))
        })
        .collect();
    assert_eq!(
        expiry,
        [("step".to_string(), "accept".to_string())],
        "{}",
        t["dialogs"]
    );
}

/// The expiry alert opens as the re-entered password is typed and takes
/// the keys after it; the check of that box, made as the next step
/// starts, meets the alert: it is kept until the alert is sorted, then
/// finds the box short and types it again. The portal gets matching
/// passwords.
#[test]
fn keys_an_interrupt_alert_took_are_typed_again_before_the_submit() {
    let dir = tempfile::tempdir().unwrap();
    let (_, r, d) = one_row_registers_with(dir.path(), "expiry_mid_retype");
    assert!(!d.stdout.contains("do not match"), "{}", d.stdout);
    assert_eq!(counter(&r.production, "expiry_mid_retype.shown"), 1);
}

/// The expiry alert opens on the old page while the Create API User page
/// is still loading: the click went through (the page had begun to leave),
/// so it is not made again; the page, and its OTP, come once.
#[test]
fn a_click_whose_page_is_loading_when_an_interrupt_alert_opens_is_not_made_again() {
    let dir = tempfile::tempdir().unwrap();
    let (_, r, d) = one_row_registers_with(dir.path(), "expiry_while_loading");
    assert!(!d.stderr.contains("starting the row again"), "{}", d.stderr);
    assert_eq!(counter(&r.production, "expiry_while_loading.shown"), 1);
    assert_eq!(counter(&r.production, "create_api_user"), 1, "{}", d.stderr);
}

/// A confirm the flow does not know is never agreed to: einvreg says no
/// (Cancel), stops as drift quoting it, and the portal shows it was not
/// accepted.
#[test]
fn an_unknown_confirm_before_the_submit_is_refused_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(&["--faults", "unknown_confirm"]);
    let d = Test::new()
        .cwd(dir.path())
        .args(demo_run(&r.production))
        .env("EINVREG_PORTAL_PASSWORD", "Uday@Login2024")
        .status(5)
        .run();
    assert!(
        d.stdout.contains(
            "unexpected alert \"Link your Aadhaar with this GSTIN now? Click OK to continue.\""
        ),
        "{}",
        d.stdout
    );
    assert_eq!(counter(&r.production, "unknown_confirm.asked"), 1);
    assert_eq!(
        counter(&r.production, "unknown_confirm.accepted"),
        0,
        "the confirm was agreed to"
    );
    let users = get_json(&format!("{}/__replica/users", r.production));
    assert_eq!(users["api_users"].as_array().unwrap().len(), 0, "{users}");
}

/// In a shared browser the dialogs come pushed, in order (WebDriver BiDi
/// events): a row that fails on an unknown confirm keeps every dialog its
/// pages opened, and how each closed, in its failure artifacts.
#[test]
fn a_failed_rows_artifacts_list_the_dialogs_its_pages_opened_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (gstins, _) = prod_rows(dir.path(), 1);
    let r = ReplicaProc::start(&["--taxpayers", "1", "--faults", "unknown_confirm"]);
    let d = Test::new()
        .cwd(dir.path())
        .args(batch_on("production-api-user", &r.production))
        .any_status()
        .run();
    assert!(
        d.stdout.contains("1 rows: 0 registered"),
        "{}\n{}",
        d.stdout,
        d.stderr
    );
    let at = row_dir(dir.path(), 2, &gstins[0]).join("dialogs.txt");
    let listed = std::fs::read_to_string(&at)
        .unwrap_or_else(|e| panic!("{}: {e}\n{}", at.display(), d.stderr));
    assert_eq!(
        listed,
        "1. confirm (dismissed or closed by the page): Link your Aadhaar with this GSTIN now? Click OK to continue.\n"
    );
    assert_eq!(counter(&r.production, "unknown_confirm.accepted"), 0);
}

/// A success alert whose page goes on to the dashboard the moment it is
/// answered (and, on the widgets layout, a window that closes then): the
/// run still ends created, and logs out.
#[test]
fn a_success_alert_whose_page_moves_on_ends_created() {
    for layout in ["evidence", "widgets"] {
        let dir = tempfile::tempdir().unwrap();
        let r = ReplicaProc::start(&["--faults", "success_moves_on", "--layout", layout]);
        let d = Test::new()
            .cwd(dir.path())
            .args(demo_run(&r.production))
            .env("EINVREG_PORTAL_PASSWORD", "Uday@Login2024")
            .run();
        assert!(
            d.stdout.starts_with("registered: created"),
            "{layout}: {}\n{}",
            d.stdout,
            d.stderr
        );
        assert_eq!(counter(&r.production, "logouts"), 1, "{layout}: logged out");
    }
}
