//! No secret leaves the vault: a hostile page that echoes the posted form
//! in every encoding, one that also undoes einvreg's masking, and a page
//! of another origin that asks for a password.

use crate::support::*;
use base64::Engine;
use std::path::Path;
use std::time::Duration;

const API_PASSWORD: &str = "Ec#o!P%w$d@12";
const PORTAL_PASSWORD: &str = "Uday@Login2024";

/// Every form of `s` a page, a log or a file may hold it in.
pub(crate) fn forms(s: &str) -> Vec<String> {
    let url: String = s
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect();
    vec![
        s.to_string(),
        url.clone(),
        url.to_lowercase(),
        serde_json::to_string(s)
            .unwrap()
            .trim_matches('"')
            .to_string(),
        base64::engine::general_purpose::STANDARD
            .encode(s)
            .trim_end_matches('=')
            .to_string(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s),
    ]
}

/// Every file under `dir`, but the vault (the one place credentials go)
/// and the test's own inputs.
pub(crate) fn written(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        if p.is_dir() {
            out.extend(written(&p));
        } else if ![
            einvreg::vault::DEFAULT_FILE,
            einvreg::vault::REHEARSAL_FILE,
            "batch.csv",
            "secrets.toml",
        ]
        .contains(&name.as_str())
        {
            out.push(p);
        }
    }
    out
}

fn echo_batch(fault: &str) -> (tempfile::TempDir, Done) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("batch.csv"),
        "gstin,portal_username,through,provider,api_username\n27AAPFU0939F1ZV,udaytrd01,gsp,Tera Software Limited,udayecho\n",
    )
    .unwrap();
    write_secrets(
        dir.path(),
        &format!("[portal_password]\nudaytrd01 = \"{PORTAL_PASSWORD}\"\n[api_password]\n27AAPFU0939F1ZV = \"{API_PASSWORD}\"\n"),
    );
    let r = ReplicaProc::start(&["--faults", fault]);
    let d = Test::new()
        .cwd(dir.path())
        .args(batch_on("production-api-user", &r.production))
        .args(["-vvv", "--log-file", "log.txt"])
        .args(["--report", "report.csv"])
        .timeout(Duration::from_secs(180))
        .status(7) // the portal's answer says nothing: in doubt
        .run();
    (dir, d)
}

fn no_secret_anywhere(dir: &Path, d: &Done) {
    let files = written(dir);
    assert!(files.iter().any(|f| f.ends_with("page.html")), "{files:?}");
    for secret in [API_PASSWORD, PORTAL_PASSWORD] {
        for form in forms(secret) {
            for f in &files {
                let bytes = std::fs::read(f).unwrap();
                let text = String::from_utf8_lossy(&bytes);
                assert!(!text.contains(&form), "{} holds {form:?}", f.display());
            }
            assert!(
                !d.stdout.contains(&form) && !d.stderr.contains(&form),
                "output holds {form:?}"
            );
        }
    }
    // The page did echo it: the vault's password is the one shown, blanked.
    let page = files.iter().find(|f| f.ends_with("page.html")).unwrap();
    let html = std::fs::read_to_string(page).unwrap();
    assert!(
        html.contains("tblEcho") && html.contains("[REDACTED]"),
        "{html}"
    );
    let vault = std::fs::read_to_string(vault_file(dir)).unwrap();
    assert!(vault.contains(API_PASSWORD), "the vault keeps it");
    assert_owner_only(dir, &["batch.csv", "secrets.toml"]);
}

#[test]
fn a_page_echoing_the_form_in_every_encoding_leaks_nothing_into_any_file() {
    let (dir, d) = echo_batch("echo_form");
    no_secret_anywhere(dir.path(), &d);
    let log = std::fs::read_to_string(dir.path().join("log.txt")).unwrap();
    let hid = regex::Regex::new(r"hid (\d+) element\(s\) showing a secret").unwrap();
    let n: u32 = hid.captures(&log).unwrap_or_else(|| panic!("{log}"))[1]
        .parse()
        .unwrap();
    // Per echoed secret field (Password, RePassword): the cell, the link, base64, the box.
    assert!(n >= 8, "hid only {n}");
    let runs = row_dir(dir.path(), 2, "27AAPFU0939F1ZV");
    assert!(
        runs.join("screenshot.png").exists(),
        "the masked screenshot is kept"
    );
}

#[test]
fn a_page_that_undoes_the_masking_gets_no_screenshot_and_says_so() {
    let (dir, d) = echo_batch("echo_form=stubborn");
    no_secret_anywhere(dir.path(), &d);
    let runs = row_dir(dir.path(), 2, "27AAPFU0939F1ZV");
    assert!(
        !runs.join("screenshot.png").exists(),
        "no screenshot with a secret in it"
    );
    let why = std::fs::read_to_string(runs.join("screenshot-withheld.txt")).unwrap();
    assert!(why.contains("could not be hidden"), "{why}");
}

const FOREIGN: &str = r#"[flow]
name = "foreign-origin"
portal = "production"
base_url = "https://einvoice1.gst.gov.in"
ORIGINS

[inputs.elsewhere]
type = "text"
label = "the other site's address"

[inputs.portal_password]
type = "secret"
label = "portal password"

[[screens]]
id = "lookalike"
label = "A look-alike login page"
recognise = { url = "/EncDesc/Login.aspx" }

  [[screens.steps]]
  label = "Open the page"
  goto = "${elsewhere}/einvapiclient/EncDesc/Login.aspx"

  [[screens.steps]]
  label = "Password"
  fill_secret = ["input[type='password']"]
  secret = "portal_password"

[[outcomes]]
id = "done"
kind = "registered"
text = "never shown"
"#;

#[test]
fn a_page_of_another_origin_is_never_typed_into() {
    let r = ReplicaProc::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let run = |origins: &str, code: i32| {
        std::fs::write(
            dir.path().join("f.toml"),
            FOREIGN.replace("ORIGINS", origins),
        )
        .unwrap();
        Test::new()
            .cwd(dir.path())
            .args(["run", "f.toml", "--portal", &r.production])
            .args(["--var", &format!("elsewhere={}", r.sandbox)])
            .env("EINVREG_PORTAL_PASSWORD", PORTAL_PASSWORD)
            .timeout(Duration::from_secs(120))
            .status(code)
            .run()
    };
    let d = run("", 5);
    let want = format!(
        "step \"Password\": the page at {}/einvapiclient/EncDesc/Login.aspx is on {}, not the portal's {}",
        r.sandbox, r.sandbox, r.production
    );
    assert!(d.stdout.contains(&want), "{}", d.stdout);
    // An origin the flow lists is the portal's: typed there (the flow then
    // finds no outcome, which is another matter).
    let d = run(&format!("origins = [\"{}\"]", r.sandbox), 5);
    assert!(!d.stdout.contains("types secrets only"), "{}", d.stdout);
    assert!(d.stdout.contains("no outcome matched"), "{}", d.stdout);
}

/// Pixels of pure red (the replica draws its tricks in #f00, nothing else).
fn red_pixels(png_path: &Path) -> usize {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let step = info.color_type.samples();
    assert!(step >= 3, "{:?}", info.color_type);
    buf[..info.buffer_size()]
        .chunks(step)
        .filter(|p| p[0] > 200 && p[1] < 60 && p[2] < 60)
        .count()
}

/// The secrets reversed, as a bidi override or a row-reversed flex holds them.
fn reversed_anywhere(dir: &Path, d: &Done) {
    for secret in [API_PASSWORD, PORTAL_PASSWORD] {
        let rev: String = secret.chars().rev().collect();
        for f in written(dir) {
            let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).to_string();
            assert!(!text.contains(&rev), "{} holds {rev:?}", f.display());
        }
        assert!(!d.stdout.contains(&rev) && !d.stderr.contains(&rev));
    }
}

#[test]
fn secrets_drawn_where_markup_masking_does_not_look_never_reach_a_pixel_or_a_file() {
    // The control: unmasked, every trick paints the secret in red.
    let chrome = Chrome::start();
    let dir = tempfile::tempdir().unwrap();
    let values =
        std::collections::HashMap::from([("Password".to_string(), API_PASSWORD.to_string())]);
    for trick in ["alt", "attr", "bidi", "canvas", "flex"] {
        let page = dir.path().join(format!("{trick}.html"));
        std::fs::write(
            &page,
            einvreg::replica::tricks_page(&values, trick).unwrap(),
        )
        .unwrap();
        chrome.open(&page);
        let shot = chrome.keep_screenshot(&format!("trick-{trick}.png"));
        assert!(
            red_pixels(&shot) > 20,
            "the {trick} trick paints nothing red"
        );
    }
    drop(chrome);
    // Alt text, generated content, a bidi override and a canvas: each is
    // hidden, and the kept screenshot has not one red (secret) pixel.
    let (dir, d) = echo_batch("echo_form=tricks:alt+attr+bidi+canvas");
    no_secret_anywhere(dir.path(), &d);
    reversed_anywhere(dir.path(), &d);
    let runs = row_dir(dir.path(), 2, "27AAPFU0939F1ZV");
    let shot = runs.join("screenshot.png");
    assert!(
        shot.exists(),
        "every trick can be hidden: the screenshot is kept"
    );
    assert_eq!(red_pixels(&shot), 0, "a secret is drawn in the screenshot");
    // Single characters laid out reversed cannot be hidden: no screenshot,
    // and no page.html either (the markup splits the secret); both say why.
    let (dir, d) = echo_batch("echo_form=tricks:flex");
    reversed_anywhere(dir.path(), &d);
    let runs = row_dir(dir.path(), 2, "27AAPFU0939F1ZV");
    assert!(!runs.join("screenshot.png").exists());
    assert!(!runs.join("page.html").exists());
    let why = std::fs::read_to_string(runs.join("screenshot-withheld.txt")).unwrap();
    assert!(why.contains("could not be hidden"), "{why}");
    assert!(runs.join("page-withheld.txt").exists());
}
