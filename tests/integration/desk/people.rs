//! The people around the desk, played by the tests: einvreg started with
//! `--desk`, operators in their browsers, what they read their answers
//! from, and the scan for secrets afterwards.

use crate::support::*;
use einvreg::replica::generated_taxpayers;
use fantoccini::Locator;
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `einvreg` with `--desk`, its stderr read as it comes (the desk's
/// address and token are printed there).
pub(super) struct DeskProc {
    child: Child,
    out: Pipe,
    err: Pipe,
    pub(super) url: String,
    pub(super) once: String,
    pub(super) token: String,
}

/// A child's output, read line by line as it comes.
struct Pipe {
    text: Arc<Mutex<String>>,
    reader: std::thread::JoinHandle<()>,
}

impl Pipe {
    fn read(r: impl std::io::Read + Send + 'static) -> Pipe {
        let text = Arc::new(Mutex::new(String::new()));
        let t = text.clone();
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(r).lines().map_while(Result::ok) {
                let mut t = t.lock().unwrap();
                t.push_str(&line);
                t.push('\n');
            }
        });
        Pipe { text, reader }
    }

    fn so_far(&self) -> String {
        self.text.lock().unwrap().clone()
    }

    /// All of it, once the child and anything it started have closed the pipe.
    fn all(self) -> String {
        let closed = || self.reader.is_finished();
        poll("einvreg's children to close its output")
            .within(Duration::from_secs(10))
            .until(closed);
        self.reader.join().unwrap();
        let text = self.text.lock().unwrap().clone();
        text
    }
}

impl DeskProc {
    pub(super) fn start(dir: &Path, args: &[&str]) -> DeskProc {
        let mut child = Command::new(bin())
            .args(args)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = Pipe::read(child.stdout.take().unwrap());
        let err = Pipe::read(child.stderr.take().unwrap());
        let printed = poll("the desk's address").within(Duration::from_secs(60));
        let (url, once, token) = printed.every(Duration::from_millis(50)).value(|| {
            let text = err.so_far();
            let after = |label: &str| {
                text.lines()
                    .find_map(|l| l.split_once(label).map(|(_, v)| v.trim().to_string()))
            };
            if let (Some(url), Some(once), Some(token)) = (
                after("answer desk:"),
                after("(this link works once):"),
                after("paste the desk token"),
            ) {
                return Some((url, once, token));
            }
            if let Some(s) = child.try_wait().unwrap() {
                panic!("einvreg ended ({s}) before its desk started:\n{text}");
            }
            None
        });
        DeskProc {
            child,
            out,
            err,
            url,
            once,
            token,
        }
    }

    pub(super) fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Waits for einvreg to end: its status, stdout and stderr.
    pub(super) fn finish(mut self, limit: Duration) -> (ExitStatus, String, String) {
        let ended = poll("einvreg to end")
            .within(limit)
            .every(Duration::from_millis(100))
            .try_value(|| self.child.try_wait().unwrap());
        let Some(status) = ended else {
            self.child.kill().expect("einvreg killed");
            panic!("einvreg ran past {limit:?}:\n{}", self.err.so_far());
        };
        (status, self.out.all(), self.err.all())
    }
}

/// What the person at the desk answers from: the replica reads its own
/// captcha images back; OTPs are in its SMS outbox.
pub(super) struct Answers {
    portal: String,
    pub(super) mobiles: HashMap<String, String>,
}

impl Answers {
    /// For the replica portal at `portal`, its taxpayers' mobiles.
    pub(super) fn of(portal: &str) -> Answers {
        let list = get_json(&format!("{portal}/__replica/taxpayers"));
        let mobiles = list.as_array().unwrap().iter().map(|t| {
            (
                t["gstin"].as_str().unwrap().to_string(),
                t["mobile"].as_str().unwrap().to_string(),
            )
        });
        Answers {
            portal: portal.to_string(),
            mobiles: mobiles.collect(),
        }
    }

    pub(super) fn captcha(&self, png_b64: &str) -> String {
        let url = format!("{}/__replica/read-captcha", self.portal);
        let r = loopback("POST", &url, Some(png_b64)).unwrap();
        assert_eq!(
            r.status,
            200,
            "the desk's image is one the replica served: {}",
            r.text()
        );
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        v["answer"].as_str().unwrap().to_string()
    }

    pub(super) fn otp(&self, gstin: &str) -> String {
        let m = &self.mobiles[gstin];
        let sms = get_json(&format!("{}/__replica/sms?mobile={m}", self.portal));
        let last = sms
            .as_array()
            .and_then(|a| a.last())
            .expect("an OTP was sent");
        last["otp"].as_str().unwrap().to_string()
    }
}

/// A browser acting as one desk operator.
pub(super) struct Operator {
    pub(super) chrome: Chrome,
}

/// An open prompt as the operator view lists it.
#[derive(Debug, Clone)]
pub(super) struct Card {
    pub(super) id: u64,
    pub(super) what: String,
    pub(super) gstin: String,
}

impl Operator {
    pub(super) fn sign_in_once(link: &str) -> Operator {
        let op = Operator {
            chrome: Chrome::start(),
        };
        op.chrome.goto(link);
        op.wait_for_view();
        op
    }

    pub(super) fn sign_in_with_token(desk_url: &str, token: &str, insecure: bool) -> Operator {
        let op = Operator {
            chrome: Chrome::with("1400,1000", insecure),
        };
        op.chrome.goto(&format!("{desk_url}/login"));
        op.chrome
            .run(async {
                let c = op.chrome.client();
                c.find(Locator::Id("token")).await?.send_keys(token).await?;
                c.find(Locator::Id("sign-in")).await?.click().await
            })
            .unwrap();
        op.wait_for_view();
        op
    }

    pub(super) fn wait_for_view(&self) {
        let live = "return document.getElementById('status')?.textContent === 'live'";
        poll("the operator view")
            .within(Duration::from_secs(20))
            .until(|| self.chrome.js(live) == true);
    }

    /// The prompts shown and not yet answered from this page, oldest first.
    pub(super) fn open_cards(&self) -> Vec<Card> {
        let v = self.chrome.js(
            "return [...document.querySelectorAll('article.prompt')].filter(a => !a.dataset.state)\
             .map(a => [Number(a.dataset.id), a.dataset.what, a.dataset.gstin])",
        );
        v.as_array()
            .unwrap()
            .iter()
            .map(|c| Card {
                id: c[0].as_u64().unwrap(),
                what: c[1].as_str().unwrap().into(),
                gstin: c[2].as_str().unwrap().into(),
            })
            .collect()
    }

    /// The captcha image as the desk serves it (base64).
    pub(super) fn image(&self, id: u64) -> Option<String> {
        let js = "const [id, done] = arguments; fetch('/desk/prompt/' + id + '/image').then(r => r.ok ? r.arrayBuffer() : null)\
                  .then(b => { if (!b) return done(null); let s = ''; new Uint8Array(b).forEach(x => s += String.fromCharCode(x)); done(btoa(s)); })";
        let v = self
            .chrome
            .run(self.chrome.client().execute_async(js, vec![id.into()]))
            .unwrap();
        v.as_str().map(String::from)
    }

    /// What the card shows, as text.
    pub(super) fn card_text(&self, id: u64) -> String {
        let js = format!("const a = document.querySelector('article[data-id=\"{id}\"]'); return a ? a.innerText : ''");
        self.chrome.js(&js).as_str().unwrap_or("").to_string()
    }

    /// Types `answer` into the card and sends it: the card's state after
    /// ("sent", "gone": someone else answered first, "withdrawn", "refused").
    pub(super) fn type_answer(&self, id: u64, answer: &str) -> String {
        let card = format!("article[data-id=\"{id}\"]");
        let typed = self.chrome.run(async {
            let c = self.chrome.client();
            let input = c
                .find(Locator::Css(&format!("{card} input[name=answer]")))
                .await?;
            input.send_keys(answer).await?;
            c.find(Locator::Css(&format!("{card} button.send")))
                .await?
                .click()
                .await
        });
        if typed.is_err() {
            return "withdrawn".into(); // gone from the page before it could be typed
        }
        self.state_after(id)
    }

    /// Asks for a new image or OTP from the card: the card's state after.
    pub(super) fn renew(&self, id: u64) -> String {
        let button = format!("article[data-id=\"{id}\"] button.renew");
        self.chrome
            .run(async {
                let c = self.chrome.client();
                c.find(Locator::Css(&button)).await?.click().await
            })
            .unwrap();
        self.state_after(id)
    }

    /// The card's state once the desk has replied ("sent", "gone",
    /// "refused"), or "withdrawn" when it left the page.
    fn state_after(&self, id: u64) -> String {
        let js = format!("const a = document.querySelector('article[data-id=\"{id}\"]'); return a ? (a.dataset.state || '') : 'withdrawn'");
        let mut state = String::new();
        poll("the desk's reply")
            .within(Duration::from_secs(20))
            .until(|| {
                state = self.chrome.js(&js).as_str().unwrap_or("").to_string();
                !state.is_empty() && state != "sending"
            });
        state
    }

    /// Answers each open prompt once (OTPs only when `otps`): (id, what, state).
    pub(super) fn answer_open(&self, a: &Answers, otps: bool) -> Vec<(u64, String, String)> {
        self.open_cards()
            .into_iter()
            .filter(|c| otps || c.what != "OTP")
            .filter_map(|c| self.answer(c, a))
            .collect()
    }

    /// Answers one card: (id, what, state), or nothing when it went first.
    pub(super) fn answer(&self, card: Card, a: &Answers) -> Option<(u64, String, String)> {
        let answer = match card.what.as_str() {
            "captcha" => a.captcha(&self.image(card.id)?),
            _ => a.otp(&card.gstin),
        };
        let state = self.type_answer(card.id, &answer);
        Some((card.id, card.what, state))
    }
}

/// What a page shows, as text.
pub(super) fn page_text(c: &Chrome) -> String {
    c.js("return document.body.innerText")
        .as_str()
        .unwrap()
        .to_string()
}

pub(super) fn sandbox_rows(dir: &Path, n: usize, r: &ReplicaProc) -> (Vec<String>, Answers) {
    let tps = generated_taxpayers(n);
    let mut s =
        String::from("gstin,trade_name,mobile,email,through,provider,client_id,api_username\n");
    for (i, t) in tps.iter().enumerate() {
        s.push_str(&format!("{},{},{},{},erp,CLOUDZEN SOFTWARE LABS PRIVATE LIMITED(GSTZen),AAFCC29ERP82ZSO,desk{i:04}\n", t.gstin, t.trade_name, t.mobile, t.email));
    }
    std::fs::write(dir.join("batch.csv"), s).unwrap();
    let answers = Answers {
        portal: r.sandbox.clone(),
        mobiles: tps
            .iter()
            .map(|t| (t.gstin.clone(), t.mobile.clone()))
            .collect(),
    };
    (tps.into_iter().map(|t| t.gstin).collect(), answers)
}

pub(super) fn journal_answers(dir: &Path) -> HashMap<String, Vec<(String, String)>> {
    let text = std::fs::read_to_string(journal_file(dir)).unwrap();
    let mut out = HashMap::new();
    for line in text.lines() {
        let e: serde_json::Value = serde_json::from_str(line).unwrap();
        if e["state"] == "finished" {
            let list = e["answered"].as_array().cloned().unwrap_or_default();
            let by = list.iter().map(|a| {
                (
                    a["what"].as_str().unwrap().to_string(),
                    a["by"].as_str().unwrap().to_string(),
                )
            });
            out.insert(e["gstin"].as_str().unwrap().to_string(), by.collect());
        }
    }
    out
}

/// Every captcha answer and OTP the replica issued, and the vault's API
/// passwords, must be absent from `texts` and from every file under the
/// run's artifacts (the vault holds the passwords: it alone is left out).
pub(super) fn assert_no_secrets(dir: &Path, r: &ReplicaProc, texts: &[(&str, &str)]) {
    let mut secrets: Vec<String> = vec![];
    for c in get_json(&format!("{}/__replica/captchas", r.sandbox))
        .as_array()
        .unwrap()
    {
        secrets.push(c.as_str().unwrap().to_string());
    }
    for m in get_json(&format!("{}/__replica/sms", r.sandbox))
        .as_array()
        .unwrap()
    {
        secrets.push(m["otp"].as_str().unwrap().to_string());
    }
    let vault = std::fs::read_to_string(vault_file(dir)).unwrap();
    for l in vault.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        if let Some(p) = v["password"].as_str() {
            secrets.push(p.to_string());
        }
    }
    assert!(secrets.len() >= 4, "the scan has secrets to look for");
    let mut files: Vec<(String, String)> = texts
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    for p in crate::leaks::written(dir) {
        let bytes = std::fs::read(&p).unwrap();
        files.push((
            p.display().to_string(),
            String::from_utf8_lossy(&bytes).into(),
        ));
    }
    assert!(
        files.iter().any(|(n, _)| n.ends_with("einvreg.log")),
        "the debug log is scanned too"
    );
    for (name, text) in &files {
        for s in &secrets {
            for form in crate::leaks::forms(s) {
                assert!(
                    !holds(text, &form),
                    "a secret ({} chars) is in {name}",
                    s.len()
                );
            }
        }
    }
}

/// Whether `text` holds `secret`. Six digits (an OTP, a sandbox captcha)
/// count only standing alone: not inside a longer number, nor as the
/// fraction of a timestamp's seconds, which a log has on every line.
pub(super) fn holds(text: &str, secret: &str) -> bool {
    if !secret.bytes().all(|b| b.is_ascii_digit()) {
        return text.contains(secret);
    }
    text.match_indices(secret).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + secret.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit() || c == '.')
            && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

/// A GET's status code (loopback).
pub(super) fn get_status(url: &str) -> u16 {
    loopback("GET", url, None).unwrap().status
}

/// `einvreg batch sandbox-register batch.csv` on the replica with the
/// desk, `parallel` at a time, and `extra`.
pub(super) fn desk_batch<'a>(
    r: &'a ReplicaProc,
    parallel: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "batch",
        "sandbox-register",
        "batch.csv",
        "--portal",
        &r.sandbox,
        "--parallel",
        parallel,
        "--desk",
    ];
    args.extend(extra);
    args
}
