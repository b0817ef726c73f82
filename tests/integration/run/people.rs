//! What a run needs from people: captchas and OTPs wrong then right, expiry,
//! no answer source, answer commands, the terminal prompt.

use super::*;

#[test]
fn wrong_captcha_then_right_and_wrong_otp_then_right() {
    let c = prod(
        "27AAPFU0939F1ZV",
        "udaytrd01",
        "Uday@Login2024",
        "gsp",
        &[
            "--portal",
            "replica",
            "--auto-answer-mistakes",
            "captcha=1,otp=1",
            "--var",
            "provider=Tera Software Limited",
            "--var",
            "api_username=udaytera",
        ],
    );
    let d = c.test.run();
    assert!(d.stdout.contains("registered"), "{}", d.stdout);
    assert!(
        d.stderr
            .contains("↺ wrong captcha: back to \"E-INVOICE SYSTEM LOGIN\" (try 2)"),
        "{}",
        d.stderr
    );
    assert!(
        d.stderr
            .contains("↺ wrong login otp: back to \"Two Factor Authentication\" (try 2)"),
        "{}",
        d.stderr
    );
    let r = results(&trace(c.dir.path()));
    assert!(
        r.contains(&"outcome:wrong-captcha".to_string())
            && r.contains(&"outcome:wrong-login-otp".to_string()),
        "{r:?}"
    );
}

#[test]
fn expired_otp_retries_on_production_and_stops_on_sandbox() {
    let c = prod(
        "29AAFCC9980MZZT",
        "gstzendemo",
        "Zen@Login2024x",
        "direct",
        &[
            "--portal",
            "replica",
            "--auto-answer-mistakes",
            "expire_otp=1",
            "--var",
            "api_username=zenexp",
        ],
    );
    let d = c.test.run();
    assert!(
        d.stderr
            .contains("↺ login otp expired: back to \"Home page\""),
        "{}",
        d.stderr
    );
    assert!(d.stdout.contains("registered"), "{}", d.stdout);
    let c = sandbox(
        "29AAFCC9980MZZT",
        "GSTZEN DEMO",
        "9845012345",
        "gst@gstzen-demo.example",
        &[
            "--portal",
            "replica",
            "--auto-answer-mistakes",
            "expire_otp=1",
            "--var",
            "provider=Tera Software Limited",
            "--var",
            "client_id=X",
            "--var",
            "api_username=gstzensbx",
        ],
    );
    let d = c.test.status(1).run();
    assert!(d.stdout.contains("failed: otp expired"), "{}", d.stdout);
    assert!(vault(c.dir.path()).is_empty(), "nothing was submitted");
}

#[test]
fn repeat_registration_is_already_registered() {
    let state = tempfile::tempdir().unwrap();
    let st = state.path().join("replica.json");
    let args = [
        "--portal",
        "replica",
        "--replica-state",
        st.to_str().unwrap(),
        "--var",
        "provider=Tera Software Limited",
        "--var",
        "api_username=udaytera",
    ];
    let c = prod(
        "27AAPFU0939F1ZV",
        "udaytrd01",
        "Uday@Login2024",
        "gsp",
        &args,
    );
    c.test.run();
    let mut args2 = args.to_vec();
    args2[7] = "api_username=udaytera2";
    let c = prod(
        "27AAPFU0939F1ZV",
        "udaytrd01",
        "Uday@Login2024",
        "gsp",
        &args2,
    );
    let d = c.test.status(3).run();
    assert!(
        d.stdout.contains(
            "already registered: this GSTIN already has an API user for the chosen GSP/ERP"
        ),
        "{}",
        d.stdout
    );
    assert!(
        vault(c.dir.path()).is_empty(),
        "no second credential was made"
    );
}

#[test]
fn session_expiry_mid_flow_logs_in_again() {
    let c = prod(
        "29AAFCC9980MZZT",
        "gstzendemo",
        "Zen@Login2024x",
        "direct",
        &[
            "--portal",
            "replica",
            "--auto-answer-mistakes",
            "expire_session=1",
            "--var",
            "api_username=zensess",
        ],
    );
    let d = c.test.run();
    assert!(
        d.stderr
            .contains("↺ session expired: back to \"Home page\""),
        "{}",
        d.stderr
    );
    assert!(d.stdout.contains("registered"), "{}", d.stdout);
}

#[test]
fn spurious_already_created_keeps_the_credential_and_exits_7() {
    let c = prod(
        "29AAFCC9980MZZT",
        "gstzendemo",
        "Zen@Login2024x",
        "gsp",
        &[
            "--portal",
            "replica",
            "--replica-faults",
            "spurious_already_created",
            "--var",
            "provider=Masters India Private Limited",
            "--var",
            "api_username=zenspur",
        ],
    );
    let d = c.test.status(7).run();
    assert!(
        d.stdout.contains("NEEDS VERIFICATION") && d.stdout.contains("API user    API_zenspur"),
        "{}",
        d.stdout
    );
    let v = vault(c.dir.path());
    assert_eq!(v.len(), 2);
    assert_eq!(v[0]["status"], "pending");
    assert!(
        v[0]["password"].as_str().unwrap().len() >= 8,
        "the password is kept"
    );
    assert_eq!(v[1]["status"], "needs_verification");
}

#[test]
fn unattended_without_answer_source_exits_4_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = Test::new()
        .cwd(dir.path())
        // The demo run without its answer source.
        .args(demo_run("replica").iter().filter(|a| *a != "--auto-answer"))
        .env("EINVREG_PORTAL_PASSWORD", "Uday@Login2024")
        .timeout(Duration::from_secs(60))
        .status(4)
        .run();
    assert!(
        d.stdout.contains("stopped: a person was needed") && d.stdout.contains("--captcha-command"),
        "{}",
        d.stdout
    );
}

#[test]
fn answer_commands_supply_captcha_and_otp() {
    let r = ReplicaProc::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    // The "SMS gateway": reads the replica's outbox for the mobile it is
    // given (the flow's optional `mobile`, passed on as EINVREG_MOBILE).
    let otp_cmd = format!("python3 -c \"import json,os,urllib.request;m=os.environ['EINVREG_MOBILE'];assert m, 'EINVREG_MOBILE is empty';print(json.load(urllib.request.urlopen('{}/__replica/sms?mobile='+m))[-1]['otp'])\"", r.production);
    // The "captcha desk": the replica remembers what it showed (the PNG path
    // arrives as $1); its first answer is wrong. Both log each prompt's try.
    let log = "echo \"$EINVREG_STEP $EINVREG_ATTEMPT\" >> asked.log";
    let otp_cmd = format!("{log}; {otp_cmd}");
    let cap_cmd = format!("{log}; test -s \"$1\" || exit 1; if [ ! -e wrong.done ]; then touch wrong.done; echo WRONG1; exit 0; fi; python3 -c \"import json,urllib.request;print(json.load(urllib.request.urlopen('{}/__replica/captchas'))[-1])\"", r.production);
    let d = Test::new()
        .cwd(dir.path())
        .args([
            "run",
            "production-api-user",
            "--portal",
            &r.production,
            "--captcha-command",
            &cap_cmd,
            "--otp-command",
            &otp_cmd,
            "--var",
            "gstin=29AAFCC9980MZZT",
            "--var",
            "portal_username=gstzendemo",
            "--var",
            "through=direct",
            "--var",
            "api_username=zencmd",
            "--var",
            "client_id=OWN-CLIENT-ID-1",
            "--var",
            "mobile=9845012345",
        ])
        .env("EINVREG_PORTAL_PASSWORD", "Zen@Login2024x")
        .env("EINVREG_CLIENT_SECRET", "Own-Client-Secret-1")
        .run();
    assert!(
        d.stdout.contains("registered"),
        "{}\n{}",
        d.stdout,
        d.stderr
    );
    // A prompt's try count is its own: the wrong login captcha makes the
    // captcha's second try, and no later prompt a "try 2".
    let asked = std::fs::read_to_string(dir.path().join("asked.log")).unwrap();
    let tries: Vec<&str> = asked
        .lines()
        .map(|l| l.rsplit(' ').next().unwrap())
        .collect();
    assert_eq!(tries[..2], ["1", "2"], "{asked}");
    assert!(tries[2..].iter().all(|t| *t == "1"), "{asked}");
    assert!(
        tries.len() >= 4,
        "the login and API OTPs were asked: {asked}"
    );
}

/// A direct-route run needing the login captcha, in a pseudo-terminal
/// (`script`; `stty` first, then einvreg with `env` set), whose stdin stays
/// open and silent until the prompt times out: its exit code and output.
fn run_in_a_terminal(dir: &Path, stty: &str, env: (&str, &str)) -> (Option<i32>, String) {
    let cmd = format!(
        "{stty}{} run production-api-user --portal replica --prompt-timeout 2s --var gstin=29AAFCC9980MZZT --var portal_username=gstzendemo --var through=direct --var client_id=OWN-CLIENT-ID-1 --var api_username=zentty",
        bin().display()
    );
    let mut child = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(dir)
        .env("EINVREG_PORTAL_PASSWORD", "Zen@Login2024x")
        .env("EINVREG_CLIENT_SECRET", "Own-Client-Secret-1")
        .env(env.0, env.1)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("`script` (util-linux) runs einvreg in a pseudo-terminal");
    let _keep_stdin_open = child.stdin.take();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut text).unwrap();
    (child.wait().unwrap().code(), text)
}

/// `run` in a pseudo-terminal on route `through` (its extra `vars`), with
/// no Client Secret anywhere, typing `typed` and then keeping stdin open
/// and silent until a prompt times out: its exit code and output.
fn run_with_no_client_secret(
    dir: &Path,
    through: &str,
    vars: &str,
    typed: &str,
) -> (Option<i32>, String) {
    let cmd = format!(
        "{} run production-api-user --portal replica --prompt-timeout 2s --var gstin=27AAPFU0939F1ZV --var portal_username=udaytrd01 --var through={through} {vars} --var api_username=udaysecret",
        bin().display()
    );
    let mut child = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(dir)
        .env("EINVREG_PORTAL_PASSWORD", "Uday@Login2024")
        .env_remove("EINVREG_CLIENT_SECRET")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("`script` (util-linux) runs einvreg in a pseudo-terminal");
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, typed.as_bytes()).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut text).unwrap();
    (child.wait().unwrap().code(), text)
}

/// Only the secrets a route needs are asked for: through a GSP, no Client
/// Secret (the run goes on to the login captcha); directly, it is asked.
#[test]
fn a_gsp_run_asks_for_no_client_secret_and_a_direct_run_does() {
    let dir = tempfile::tempdir().unwrap();
    let gsp = "--var \"provider=Tera Software Limited\"";
    let (code, text) = run_with_no_client_secret(dir.path(), "gsp", gsp, "");
    assert_eq!(code, Some(4), "{text}");
    assert!(text.contains("── captcha needed ──"), "{text}");
    assert!(!text.contains("(client_secret)"), "{text}");
    let direct = "--var client_id=OWN-CLIENT-ID-1";
    let (code, text) = run_with_no_client_secret(dir.path(), "direct", direct, "\n");
    assert!(text.contains("(client_secret): "), "{text}");
    assert_eq!(code, Some(2), "{text}");
    assert!(!text.contains("── captcha needed ──"), "{text}");
}

/// The terminal operator in a real pseudo-terminal: names the GSTIN, portal
/// and screen, saves the captcha and shows it inline, and times out cleanly.
#[test]
fn terminal_prompt_shows_captcha_and_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let (code, text) = run_in_a_terminal(dir.path(), "", ("TERM", "xterm-kitty"));
    assert_eq!(code, Some(4), "{text}");
    assert!(text.contains("── captcha needed ── GSTIN 29AAFCC9980MZZT · production portal · E-INVOICE SYSTEM LOGIN › Login captcha"), "{text}");
    assert!(
        text.contains("image: einvreg-runs/") && text.contains("captcha-1.png"),
        "{text}"
    );
    assert!(
        text.contains("\x1b_Gf=100,a=T"),
        "kitty inline image expected"
    );
    assert!(
        text.contains("no answer to the captcha prompt within 2s"),
        "{text}"
    );
}

/// At 80 columns in a pseudo-terminal, the captcha drawn in half-blocks
/// fits (no line wraps) and is the saved picture, scaled: each cell's
/// colour is the saved PNG's pixel at that place.
#[test]
fn the_captcha_fits_an_80_column_terminal_and_is_the_same_picture() {
    let dir = tempfile::tempdir().unwrap();
    let stty = "stty cols 80 rows 24; ";
    let (code, text) = run_in_a_terminal(dir.path(), stty, ("EINVREG_IMAGES", "blocks"));
    assert_eq!(code, Some(4), "{text}");
    let cell =
        regex::Regex::new(r"\x1b\[38;2;(\d+);(\d+);(\d+)m\x1b\[48;2;\d+;\d+;\d+m\u{2580}").unwrap();
    let rows: Vec<Vec<[u8; 3]>> = text
        .lines()
        .map(|l| {
            cell.captures_iter(l)
                .map(|c| [1, 2, 3].map(|i| c[i].parse().unwrap()))
                .collect::<Vec<_>>()
        })
        .filter(|r| !r.is_empty())
        .collect();
    assert!(!rows.is_empty(), "no half-block captcha: {text}");
    assert!(
        rows.iter().all(|r| r.len() < 80),
        "a line wider than the terminal"
    );
    // The saved captcha, and the scale the drawing used.
    let png_path = std::fs::read_dir(dir.path().join("einvreg-runs"))
        .unwrap()
        .map(|e| e.unwrap().path().join("captcha-1.png"))
        .find(|p| p.exists())
        .expect("the captcha was saved");
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let (w, channels) = (info.width as usize, info.color_type.samples());
    let step = w.div_ceil(rows[0].len());
    for (y, row) in rows.iter().enumerate() {
        for (x, fg) in row.iter().enumerate() {
            let at = ((y * step * 2) * w + x * step) * channels;
            let px = [buf[at], buf[at + 1], buf[at + 2]];
            assert_eq!(*fg, px, "cell {x},{y} is not the picture's pixel");
        }
    }
}
