//! The answer desk, driven the way people use it: browsers acting as
//! operators type every captcha and OTP into the desk page; a phone-sized
//! browser acting as the taxpayer types the OTP through its link. Links
//! work once; wrong tokens are limited; off loopback the desk needs TLS.

mod people;

use crate::support::*;
use einvreg::replica::generated_taxpayers;
use fantoccini::Locator;
use people::*;
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn two_operators_answer_a_whole_batch_on_the_desk_and_never_the_same_prompt_twice() {
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(&["--taxpayers", "4"]);
    let (gstins, answers) = sandbox_rows(dir.path(), 4, &r);
    let mut desk = DeskProc::start(
        dir.path(),
        &desk_batch(
            &r,
            "2",
            &[
                "--report",
                "report.json",
                "-vv",
                "--log-file",
                "einvreg.log",
            ],
        ),
    );
    assert!(
        desk.url.starts_with("http://127.0.0.1:") && desk.url.ends_with("/desk"),
        "{}",
        desk.url
    );
    let first = Operator::sign_in_once(&desk.once);
    let second = Operator::sign_in_with_token(&desk.url, &desk.token, false);
    // The one-time link is spent: using it again is refused.
    let again = loopback("GET", &desk.once, None).unwrap();
    assert_eq!(again.status, 403);
    assert!(again.text().contains("already used"), "{}", again.text());

    let base = desk.url.trim_end_matches("/desk").to_string();
    a_prompt_is_taken_once(&first, &second, &answers, &base);
    let (log, pages) = both_answer_until_done(first, second, answers, &mut desk);
    // Some count between none and all was on view: two rows at a time may
    // end within one look of each other, so not necessarily "1".
    let midway = (1..4).any(|n| pages.contains(&format!(r#"<b id="done">{n}</b>"#)));
    assert!(
        pages.contains(r#"<b id="total">4</b>"#) && midway,
        "the view showed the rows' progress as it happened"
    );
    let (status, stdout, stderr) = desk.finish(Duration::from_secs(10));
    assert!(status.success(), "{stdout}\n{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    for row in report.as_array().unwrap() {
        assert_eq!(row["status"], "registered", "{row}");
    }

    // Each prompt was taken once; the journal says who answered, never what.
    let mut sent: HashMap<u64, usize> = HashMap::new();
    for (id, _, state) in &log {
        if state == "sent" {
            *sent.entry(*id).or_default() += 1;
        }
    }
    assert!(
        sent.values().all(|n| *n == 1),
        "a prompt answered twice: {log:?}"
    );
    let journal = journal_answers(dir.path());
    assert_eq!(journal.len(), 4);
    let mut total = 0;
    for g in &gstins {
        let by = &journal[g];
        assert!(
            by.iter().any(|(w, _)| w == "captcha") && by.iter().any(|(w, _)| w == "OTP"),
            "{by:?}"
        );
        assert!(by.iter().all(|(_, who)| who == "desk_operator"), "{by:?}");
        total += by.len();
    }
    assert_eq!(
        total,
        sent.len() + 1,
        "every answer the runs took came from the desk, once"
    );
    assert!(stderr.contains("answers: the answer desk)"), "{stderr}");
    assert_no_secrets(
        dir.path(),
        &r,
        &[
            ("stderr", &stderr),
            ("stdout", &stdout),
            ("operator pages", &pages),
        ],
    );
}

/// The first prompt, answered by the first operator, then posted again by
/// the second: refused. Without the CSRF token or a session, nothing.
fn a_prompt_is_taken_once(first: &Operator, second: &Operator, answers: &Answers, base: &str) {
    poll("a first prompt")
        .within(Duration::from_secs(60))
        .until(|| !first.open_cards().is_empty());
    first.chrome.keep_screenshot("desk-operator-view.png");
    let card = first.open_cards()[0].clone();
    assert_eq!(card.what, "captcha", "the sandbox asks a captcha first");
    let answer = answers.captcha(&first.image(card.id).unwrap());
    assert_eq!(first.type_answer(card.id, &answer), "sent");
    let again = second.chrome.js(&format!(
        "return (async () => {{ const csrf = document.querySelector('meta[name=csrf]').content;\
         const r = await fetch('/desk/prompt/{}', {{method: 'POST', headers: {{'x-csrf-token': csrf, 'content-type': 'application/x-www-form-urlencoded'}}, body: 'action=answer&answer={answer}'}});\
         return [r.status, await r.json()]; }})()",
        card.id
    ));
    assert_eq!(
        again[0], 409,
        "a second answer to one prompt is refused: {again}"
    );
    assert_eq!(again[1]["gone"], true);
    let forged = second.chrome.js(&format!(
        "return (async () => (await fetch('/desk/prompt/{}', {{method: 'POST', headers: {{'content-type': 'application/x-www-form-urlencoded'}}, body: 'action=renew'}})).status)()",
        card.id
    ));
    assert_eq!(forged, 403, "a POST without the CSRF token is refused");
    // Without a session nothing is shown, and nothing changes by GET.
    assert_eq!(get_status(&format!("{base}/desk/api/state")), 401);
    assert_eq!(
        get_status(&format!("{base}/desk/prompt/{}/image", card.id)),
        401
    );
    assert_eq!(
        get_status(&format!("{base}/desk/prompt/{}", card.id)),
        405,
        "answers are POST-only"
    );
}

/// Both operators at once, each taking the oldest prompt it sees, until
/// the batch ends: what each did ((id, what, state)) and the pages they saw.
fn both_answer_until_done(
    first: Operator,
    second: Operator,
    answers: Answers,
    desk: &mut DeskProc,
) -> (Vec<(u64, String, String)>, String) {
    let stop = Arc::new(AtomicBool::new(false));
    let answers = Arc::new(answers);
    let work = |op: Operator| {
        let (stop, answers) = (stop.clone(), answers.clone());
        std::thread::spawn(move || {
            let mut log = vec![];
            let mut pages = String::new();
            while !stop.load(Ordering::SeqCst) {
                log.extend(op.answer_open(&answers, true));
                pages.push_str(
                    op.chrome
                        .js("return document.documentElement.outerHTML")
                        .as_str()
                        .unwrap(),
                );
                std::thread::sleep(Duration::from_millis(100));
            }
            (log, pages)
        })
    };
    let (a, b) = (work(first), work(second));
    poll("the batch to end")
        .within(Duration::from_secs(300))
        .every(Duration::from_millis(200))
        .until(|| !desk.running());
    stop.store(true, Ordering::SeqCst);
    let (mut log, mut pages) = a.join().unwrap();
    let (log_b, pages_b) = b.join().unwrap();
    log.extend(log_b);
    pages.push_str(&pages_b);
    (log, pages)
}

#[test]
fn taxpayers_type_their_own_otp_through_a_link_that_works_once() {
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(&["--taxpayers", "2"]);
    let (gstins, answers) = sandbox_rows(dir.path(), 2, &r);
    let notify = dir.path().join("notify.sh");
    // The link comes in the environment; the arguments must stay empty.
    std::fs::write(&notify, "#!/bin/sh\nprintf '%s %s %s %s\\n' \"$#\" \"$EINVREG_DESK_LINK\" \"$EINVREG_GSTIN\" \"$EINVREG_MOBILE\" >> links.txt\n").unwrap();
    let notify_cmd = format!("sh {}", notify.display());
    let mut desk = DeskProc::start(
        dir.path(),
        &desk_batch(
            &r,
            "1",
            &[
                "--desk-otp-links",
                "--desk-notify-command",
                &notify_cmd,
                "--desk-link-ttl",
                "15s",
                "--report",
                "report.json",
                "-vv",
                "--log-file",
                "einvreg.log",
            ],
        ),
    );
    let operator = Operator::sign_in_once(&desk.once);
    let phone = Chrome::with("390,844", false);
    let links = || -> Vec<Vec<String>> {
        std::fs::read_to_string(dir.path().join("links.txt"))
            .unwrap_or_default()
            .lines()
            .map(|l| l.split(' ').map(String::from).collect())
            .collect()
    };
    let mut pages: Vec<String> = vec![];
    let mut handled = 0;
    let end = poll("the batch to end").within(Duration::from_secs(300));
    end.every(Duration::from_millis(100)).until(|| {
        if !desk.running() {
            return true;
        }
        operator.answer_open(&answers, handled >= 2);
        let l = links();
        if l.len() > handled {
            let [args, link, gstin, mobile] = &l[handled][..] else {
                panic!("{l:?}")
            };
            assert_eq!(args, "0", "nothing in the notify command's arguments");
            assert_eq!(gstin, &gstins[handled]);
            assert_eq!(
                mobile, &answers.mobiles[gstin],
                "the full mobile, for the gateway"
            );
            assert!(
                link.starts_with(&desk.url.replace("/desk", "/otp/")),
                "{link}"
            );
            phone.goto(link);
            let text = page_text(&phone);
            assert!(
                text.contains(gstin.as_str()) && !text.contains(mobile.as_str()),
                "{text}"
            );
            assert!(
                text.contains(&mobile[mobile.len() - 3..]),
                "the masked mobile: {text}"
            );
            let base = desk.url.trim_end_matches("/desk");
            match handled {
                0 => pages.extend(taxpayer_types_it(&phone, link, &answers.otp(gstin))),
                _ => pages.push(wrong_expired_then_locked(&phone, base, link)),
            }
            handled += 1;
        }
        false
    });
    let (status, stdout, stderr) = desk.finish(Duration::from_secs(10));
    assert!(status.success(), "{stdout}\n{stderr}");
    assert_eq!(handled, 2, "one link per OTP");
    let journal = journal_answers(dir.path());
    assert!(
        journal[&gstins[0]].contains(&("OTP".into(), "taxpayer_link".into())),
        "{journal:?}"
    );
    assert!(
        journal[&gstins[1]].contains(&("OTP".into(), "desk_operator".into())),
        "{journal:?}"
    );
    let users = get_json(&format!("{}/__replica/users", r.sandbox)).to_string();
    for g in &gstins {
        assert_eq!(
            users.matches(g.as_str()).count(),
            1,
            "{g} registered once: {users}"
        );
    }
    let pages = pages.join("\n");
    assert_no_secrets(
        dir.path(),
        &r,
        &[("stderr", &stderr), ("stdout", &stdout), ("pages", &pages)],
    );
}

/// The taxpayer types the OTP on their phone; the link then says it was used.
fn taxpayer_types_it(phone: &Chrome, link: &str, otp: &str) -> Vec<String> {
    phone.keep_screenshot("desk-taxpayer-view.png");
    phone
        .run(async {
            let c = phone.client();
            c.find(Locator::Id("otp")).await?.send_keys(otp).await?;
            c.find(Locator::Id("send")).await?.click().await
        })
        .unwrap();
    // The click posts the form; the answer page follows.
    let mut thanks = String::new();
    poll("the page after sending")
        .within(Duration::from_secs(20))
        .until(|| {
            thanks = page_text(phone);
            !thanks.contains("Send the OTP")
        });
    assert!(thanks.contains("The OTP has been passed on"), "{thanks}");
    phone.goto(link);
    let used = page_text(phone);
    assert!(used.contains("already used"), "{used}");
    vec![thanks, used]
}

/// A wrong token is refused; the link left alone expires; guessing locks
/// this address out, and then even a real link is refused.
fn wrong_expired_then_locked(phone: &Chrome, base: &str, link: &str) -> String {
    phone.goto(&format!("{base}/otp/{}", "A".repeat(43)));
    let wrong = page_text(phone);
    assert!(wrong.contains("not valid"), "{wrong}");
    poll("the link to expire")
        .within(Duration::from_secs(60))
        .until(|| {
            phone.goto(link);
            page_text(phone).contains("expired")
        });
    let expired = page_text(phone);
    let locked_at = (0..12).find(|i| {
        let s = get_status(&format!("{base}/otp/guess{i:040}"));
        assert!(s == 404 || s == 429, "{s}");
        s == 429
    });
    assert!(locked_at.is_some(), "ten wrong tokens a minute at most");
    assert_eq!(
        get_status(link),
        429,
        "a locked address gets nothing, right token or not"
    );
    expired
}

#[test]
fn off_loopback_the_desk_needs_tls_and_with_a_certificate_it_serves_https() {
    let dir = tempfile::tempdir().unwrap();
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "run",
            "sandbox-register",
            "--portal",
            "replica",
            "--desk",
            "--desk-bind",
            "0.0.0.0:0",
        ])
        .status(2)
        .timeout(Duration::from_secs(20))
        .run();
    assert!(
        d.stderr.contains(
            "--desk-bind 0.0.0.0:0 offers the desk beyond this machine: give --desk-tls CERT KEY"
        ),
        "{}",
        d.stderr
    );
    assert!(!d.stderr.contains("answer desk:"), "nothing started");

    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl (scripts/ensure-deps installs it)");
    assert!(made.success());
    let r = ReplicaProc::start(&["--taxpayers", "1"]);
    let (_, answers) = sandbox_rows(dir.path(), 1, &r);
    let t = &generated_taxpayers(1)[0];
    let vars = [
        format!("gstin={}", t.gstin),
        format!("trade_name={}", t.trade_name),
        format!("mobile={}", t.mobile),
        format!("email={}", t.email),
    ];
    let mut args = vec![
        "run",
        "sandbox-register",
        "--portal",
        &r.sandbox,
        "--desk",
        "--desk-bind",
        "127.0.0.1:0",
        "--desk-tls",
        cert.to_str().unwrap(),
        key.to_str().unwrap(),
        "--var",
        "through=erp",
        "--var",
        "provider=CLOUDZEN SOFTWARE LABS PRIVATE LIMITED(GSTZen)",
        "--var",
        "client_id=AAFCC29ERP82ZSO",
        "--var",
        "api_username=desktls",
    ];
    for v in &vars {
        args.extend(["--var", v.as_str()]);
    }
    let mut desk = DeskProc::start(dir.path(), &args);
    assert!(desk.url.starts_with("https://127.0.0.1:"), "{}", desk.url);
    let plain = desk.url.replace("https://", "http://");
    let r_plain = loopback("GET", &plain, None);
    assert!(
        r_plain.is_err() || r_plain.unwrap().status != 200,
        "no plain HTTP on the TLS port"
    );
    let operator = Operator::sign_in_with_token(&desk.url, &desk.token, true);
    let scheme = operator.chrome.js("return location.protocol");
    assert_eq!(scheme, "https:");
    // The operator asks for a new image, then a new OTP, before answering each.
    let mut renewed: Vec<String> = vec![];
    let mut seen: Vec<(String, u64, Option<String>)> = vec![];
    let end = poll("the batch to end").within(Duration::from_secs(180));
    end.every(Duration::from_millis(100)).until(|| {
        if !desk.running() {
            return true;
        }
        // Only the cards of this one look are answered, so none goes unseen.
        let cards = operator.open_cards();
        for c in &cards {
            if !seen.iter().any(|(_, id, _)| *id == c.id) {
                let image = (c.what == "captcha")
                    .then(|| operator.image(c.id))
                    .flatten();
                seen.push((c.what.clone(), c.id, image));
            }
        }
        if let Some(c) = cards.iter().find(|c| !renewed.contains(&c.what)) {
            assert_eq!(
                operator.renew(c.id),
                "sent",
                "{} renewed from the desk",
                c.what
            );
            renewed.push(c.what.clone());
            return false;
        }
        for c in cards {
            operator.answer(c, &answers);
        }
        false
    });
    let (status, stdout, stderr) = desk.finish(Duration::from_secs(10));
    assert!(status.success(), "{stdout}\n{stderr}");
    assert_eq!(renewed, ["captcha", "OTP"]);
    let kinds: Vec<&str> = seen.iter().map(|(w, _, _)| w.as_str()).collect();
    assert_eq!(
        kinds,
        ["captcha", "captcha", "OTP", "OTP"],
        "each renewal brought a new prompt"
    );
    assert_ne!(seen[0].2, seen[1].2, "and a new image");
    let sms = get_json(&format!("{}/__replica/sms?mobile={}", r.sandbox, t.mobile));
    assert_eq!(sms.as_array().unwrap().len(), 2, "a new OTP: {sms}");
    let users = get_json(&format!("{}/__replica/users", r.sandbox)).to_string();
    assert!(
        users.contains(t.gstin.as_str()),
        "registered through the HTTPS desk: {users}"
    );
}

#[test]
fn an_answer_command_and_the_desk_race_and_the_first_answer_wins() {
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(&["--taxpayers", "2"]);
    let (gstins, answers) = sandbox_rows(dir.path(), 2, &r);
    // For the first GSTIN the command answers once the test has seen the
    // desk show that prompt (the `go` file); for the second it never does
    // and the desk wins.
    let go = dir.path().join("go");
    let script = dir.path().join("otp.py");
    std::fs::write(&script, format!(
        "import json, os, sys, time, urllib.request\n\
         if os.environ['EINVREG_GSTIN'] != '{first}':\n    time.sleep(600)\n\
         while not os.path.exists('{go}'):\n    time.sleep(0.05)\n\
         sms = json.load(urllib.request.urlopen('{portal}/__replica/sms?mobile=' + os.environ['EINVREG_MOBILE']))\n\
         print(sms[-1]['otp'])\n",
        first = gstins[0],
        go = go.display(),
        portal = r.sandbox
    )).unwrap();
    let otp_cmd = format!("python3 {}", script.display());
    let mut desk = DeskProc::start(
        dir.path(),
        &desk_batch(&r, "1", &["--otp-command", &otp_cmd]),
    );
    let operator = Operator::sign_in_once(&desk.once);
    let watch = "return [...document.querySelectorAll('article.prompt[data-what=OTP]')].map(a => [a.dataset.gstin, a.dataset.state || ''])";
    let mut seen_withdrawn = false;
    let end = poll("the batch to end").within(Duration::from_secs(240));
    end.every(Duration::from_millis(50)).until(|| {
        if !desk.running() {
            return true;
        }
        for c in operator.chrome.js(watch).as_array().unwrap() {
            if c[0] == gstins[0].as_str() && !go.exists() {
                std::fs::write(&go, "").unwrap();
            }
            seen_withdrawn |= c[0] == gstins[0].as_str() && c[1] == "withdrawn";
        }
        operator.answer_open(&answers, false);
        for c in operator.open_cards() {
            if c.what == "OTP" && c.gstin == gstins[1] {
                assert_eq!(operator.type_answer(c.id, &answers.otp(&c.gstin)), "sent");
            }
        }
        false
    });
    let (status, stdout, stderr) = desk.finish(Duration::from_secs(10));
    assert!(status.success(), "{stdout}\n{stderr}");
    let left: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|p| std::fs::read(p.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(script.to_str().unwrap()))
        .collect();
    assert!(
        left.is_empty(),
        "the losing answer command was stopped, children and all: {left:?}"
    );
    assert!(
        seen_withdrawn,
        "the desk showed the first OTP, then withdrew it when the command answered"
    );
    assert!(
        stderr.contains("answers: the answer desk and OTP: answer command)"),
        "{stderr}"
    );
    let journal = journal_answers(dir.path());
    assert!(
        journal[&gstins[0]].contains(&("OTP".into(), "command".into())),
        "{journal:?}"
    );
    assert!(
        journal[&gstins[1]].contains(&("OTP".into(), "desk_operator".into())),
        "{journal:?}"
    );
}

#[test]
fn the_production_flow_is_answered_on_the_desk_too() {
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(&[]);
    write_secrets(dir.path(), "udaytrd01 = \"Uday@Login2024\"\n");
    let mut args: Vec<String> = demo_run(&r.production)
        .into_iter()
        .filter(|a| a != "--auto-answer")
        .collect();
    args.extend(["--desk", "--secrets", "secrets.toml"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut desk = DeskProc::start(dir.path(), &args);
    let answers = Answers::of(&r.production);
    let operator = Operator::sign_in_once(&desk.once);
    let mut log = vec![];
    let end = poll("the run to end").within(Duration::from_secs(180));
    end.every(Duration::from_millis(100)).until(|| {
        if !desk.running() {
            return true;
        }
        log.extend(operator.answer_open(&answers, true));
        false
    });
    let (status, stdout, stderr) = desk.finish(Duration::from_secs(10));
    assert!(status.success(), "{stdout}\n{stderr}");
    let sent: Vec<&str> = log
        .iter()
        .filter(|(_, _, s)| s == "sent")
        .map(|(_, w, _)| w.as_str())
        .collect();
    assert_eq!(
        sent,
        ["captcha", "OTP", "OTP"],
        "the login captcha, the login OTP, the API OTP: {log:?}"
    );
    let creds = vault_in(dir.path());
    assert_eq!(creds.len(), 1, "{creds:?}");
    assert_eq!(creds[0].username, "API_udaytera");
}

/// `--repair --desk` with no terminal: each repair question is a card on
/// the desk showing what was tried and the numbered candidates; answering
/// `1` there gets the run through, in the same session.
#[test]
fn repairs_are_answered_on_the_desk() {
    let dir = tempfile::tempdir().unwrap();
    let r = ReplicaProc::start(&["--layout", "relabelled"]);
    write_secrets(dir.path(), "udaytrd01 = \"Uday@Login2024\"\n");
    let mut args = demo_run(&r.production);
    args.extend(["--desk", "--repair", "--secrets", "secrets.toml"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut desk = DeskProc::start(dir.path(), &args);
    let operator = Operator::sign_in_once(&desk.once);
    let mut shown = vec![];
    let end = poll("the run to end").within(Duration::from_secs(180));
    end.every(Duration::from_millis(100)).until(|| {
        if !desk.running() {
            return true;
        }
        for card in operator
            .open_cards()
            .into_iter()
            .filter(|c| c.what == "repair")
        {
            let text = operator.card_text(card.id);
            if operator.type_answer(card.id, "1") == "sent" {
                shown.push(text);
            }
        }
        false
    });
    let (status, stdout, stderr) = desk.finish(Duration::from_secs(10));
    assert!(status.success(), "{stdout}\n{stderr}");
    assert!(stdout.starts_with("registered: created"), "{stdout}");
    assert!(!shown.is_empty(), "no repair was asked on the desk");
    for text in &shown {
        assert!(
            text.contains("no usable element") && text.contains(" 1. "),
            "{text}"
        );
        assert!(text.contains("Answer: 1-"), "{text}");
    }
    assert_eq!(counter(&r.production, "login_submit"), 1, "one login");
}
