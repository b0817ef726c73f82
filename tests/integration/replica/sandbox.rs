//! The sandbox's WebForms registration, the state file, the CLI.

use super::*;

async fn sandbox_post(a: &mut Agent, html: &str, fields: &[(&str, &str)]) -> String {
    let vs = hidden(html, "__VIEWSTATE");
    let mut f = vec![
        ("__VIEWSTATE", vs.as_str()),
        ("__EVENTTARGET", ""),
        ("__EVENTARGUMENT", ""),
    ];
    let target: Vec<(&str, &str)> = fields
        .iter()
        .filter(|(k, _)| *k == "__EVENTTARGET")
        .cloned()
        .collect();
    if let Some(t) = target.first() {
        f[1].1 = t.1;
    }
    f.extend(fields.iter().filter(|(k, _)| *k != "__EVENTTARGET"));
    a.post_follow("/einvapiclient/EncDesc/Registration.aspx", &f)
        .await
        .unwrap()
        .text()
}

const N: &str = "ctl00$ContentPlaceHolder1$";

#[tokio::test]
async fn sandbox_registration_webforms_end_to_end() {
    let r = start(|_| {}).await;
    let mut a = Agent::new(&r.sandbox_url);
    let login = a
        .get("/einvapiclient/EncDesc/Login.aspx")
        .await
        .unwrap()
        .text();
    for t in [
        "GSTIN",
        "Client ID",
        "User Name",
        "Password",
        "Register here",
        "Forgot Credentials?",
    ] {
        assert!(login.contains(t), "login lacks {t}");
    }
    let mut page = a
        .get("/einvapiclient/EncDesc/Registration.aspx")
        .await
        .unwrap()
        .text();
    for t in [
        "Tax Payer",
        "e-Com Op.",
        "GST Registered Mobile No.",
        "GST Registered e-Mail Id",
        "__EVENTVALIDATION",
        "ctl00_ContentPlaceHolder1_btnValidate",
    ] {
        assert!(page.contains(t), "registration lacks {t}");
    }
    let k = |s: &str| format!("{N}{s}");
    let (g, tn, m, e) = (
        k("txtGSTIN"),
        k("txtTradeName"),
        k("txtMobile"),
        k("txtEmail"),
    );
    let (ut, cap, val) = (k("rblUserType"), k("txtCaptcha"), k("btnValidate"));
    let base = |captcha: String, mobile: &'static str| {
        vec![
            (ut.clone(), "TP".to_string()),
            (g.clone(), "29AAFCC9980MZZT".into()),
            (tn.clone(), "GSTZEN DEMO".into()),
            (m.clone(), mobile.to_string()),
            (e.clone(), "gst@gstzen-demo.example".into()),
            (cap.clone(), captcha),
            (val.clone(), "Validate".into()),
        ]
    };
    let as_refs = |v: &Vec<(String, String)>| {
        v.iter()
            .map(|(a, b)| (a.clone(), b.clone()))
            .collect::<Vec<_>>()
    };
    // Wrong captcha.
    let f = as_refs(&base("000000x".into(), "9845012345"));
    page = sandbox_post(
        &mut a,
        &page,
        &f.iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect::<Vec<_>>(),
    )
    .await;
    assert!(page.contains("Invalid Captcha"));
    // Mobile that does not match the GST records.
    let c = aid(&a, "captcha", SC).await;
    let f = as_refs(&base(c, "9000000000"));
    page = sandbox_post(
        &mut a,
        &page,
        &f.iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect::<Vec<_>>(),
    )
    .await;
    assert!(page.contains("do not match"));
    // Valid.
    let c = aid(&a, "captcha", SC).await;
    let f = as_refs(&base(c, "9845012345"));
    page = sandbox_post(
        &mut a,
        &page,
        &f.iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect::<Vec<_>>(),
    )
    .await;
    assert!(
        page.contains("Successfully Validated...! Click Send OTP for Create Account."),
        "{page}"
    );
    assert!(
        Regex::new(r#"id="ctl00_ContentPlaceHolder1_btnValidate" value="Validate" disabled"#)
            .unwrap()
            .is_match(&page),
        "Validate disabled"
    );
    // A stale view state is refused, as WebForms does.
    let stale = a
        .post(
            "/einvapiclient/EncDesc/Registration.aspx",
            &[
                ("__VIEWSTATE", "/wEPDwUKold"),
                (&k("btnSendOTP"), "Send OTP"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(stale.status, 500);
    assert!(stale.text().contains("Validation of viewstate MAC failed"));
    let mut page = a
        .get("/einvapiclient/EncDesc/Registration.aspx")
        .await
        .unwrap()
        .text();
    let c = aid(&a, "captcha", SC).await;
    let f = as_refs(&base(c, "9845012345"));
    page = sandbox_post(
        &mut a,
        &page,
        &f.iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect::<Vec<_>>(),
    )
    .await;
    page = sandbox_post(&mut a, &page, &[(&k("btnSendOTP"), "Send OTP")]).await;
    assert!(page.contains("Mobile OTP") && page.contains("Click Here To Resend OTP"));
    let sms = einvreg::loopback::request(
        "GET",
        &format!("{}/__replica/sms?mobile=9845012345", r.sandbox_url),
        &[],
        None,
    )
    .await
    .unwrap()
    .text();
    assert!(
        sms.contains("OTP for registration on e-Invoice API Sandbox"),
        "{sms}"
    );
    page = sandbox_post(&mut a, &page, &[("__EVENTTARGET", &k("lnkResendOTP"))]).await;
    assert!(page.contains("re-sent"));
    let otp = aid(&a, "otp", SC).await;
    page = sandbox_post(
        &mut a,
        &page,
        &[
            (
                &k("txtOTP"),
                if otp == "123456" { "654321" } else { "123456" },
            ),
            (&k("btnSubmit"), "Submit"),
        ],
    )
    .await;
    assert!(page.contains("Invalid OTP"));
    page = sandbox_post(
        &mut a,
        &page,
        &[(&k("txtOTP"), &otp), (&k("btnSubmit"), "Submit")],
    )
    .await;
    assert!(
        page.contains("Create Account") && page.contains("ctl00_ContentPlaceHolder1_txtYourGSTIN")
    );
    page = sandbox_post(
        &mut a,
        &page,
        &[
            ("__EVENTTARGET", &format!("{N}rblRegThrough$1")),
            (&k("rblRegThrough"), "ERP"),
        ],
    )
    .await;
    let idx = Regex::new(
        r#"<option value="(\d+)">CLOUDZEN SOFTWARE LABS PRIVATE LIMITED\(GSTZen\)</option>"#,
    )
    .unwrap()
    .captures(&page)
    .expect("GSTZen listed")[1]
        .to_string();
    let create = |cid: &'static str| {
        vec![
            (k("ddlCompany"), idx.clone()),
            (k("txtClientID"), cid.to_string()),
            (k("txtUserName"), "gstzensbx".into()),
            (k("txtPassword"), "Zen@2024Sbx1".into()),
            (k("txtConfirmPassword"), "Zen@2024Sbx1".into()),
            (k("btnCreate"), "Create".into()),
        ]
    };
    let f = create("WRONGID");
    page = sandbox_post(
        &mut a,
        &page,
        &f.iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect::<Vec<_>>(),
    )
    .await;
    assert!(page.contains("Invalid Client ID"));
    let f = create("AAFCC29ERP82ZSO");
    page = sandbox_post(
        &mut a,
        &page,
        &f.iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect::<Vec<_>>(),
    )
    .await;
    assert!(
        page.contains("Registration Successful") && page.contains("gstzensbx"),
        "{page}"
    );
    // The credentials log in; no API_ prefix on the sandbox.
    let mut l = Agent::new(&r.sandbox_url);
    l.get("/einvapiclient/EncDesc/Login.aspx").await.unwrap();
    let c = aid(&l, "captcha", SC).await;
    let w = l
        .post_follow(
            "/einvapiclient/EncDesc/Login.aspx",
            &[
                (&k("txtGSTIN"), "29AAFCC9980MZZT"),
                (&k("txtClientId"), "AAFCC29ERP82ZSO"),
                (&k("txtUserName"), "gstzensbx"),
                (&k("txtPassword"), "Zen@2024Sbx1"),
                (&k("txtCaptcha"), &c),
            ],
        )
        .await
        .unwrap()
        .text();
    assert!(w.contains("Welcome, gstzensbx"), "{w}");
    // A second registration of the same GSTIN is refused at Validate.
    let mut b = Agent::new(&r.sandbox_url);
    let page = b
        .get("/einvapiclient/EncDesc/Registration.aspx")
        .await
        .unwrap()
        .text();
    let c = aid(&b, "captcha", SC).await;
    let f = as_refs(&base(c, "9845012345"));
    let page = sandbox_post(
        &mut b,
        &page,
        &f.iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect::<Vec<_>>(),
    )
    .await;
    assert!(page.contains("GSTIN is already registered"));
}

#[tokio::test]
async fn state_file_keeps_users_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    {
        let r = start(|o| o.state_file = Some(state.clone())).await;
        let (mut a, _) = prod_login(&r, "gstzendemo", "Zen@Login2024x").await;
        a.get("/APIUserAccount/CreateAPIUser").await.unwrap();
        let otp = aid(&a, "otp", PC).await;
        a.post("/APIUserAccount/VerifyRegOTP", &[("OTP", &otp)])
            .await
            .unwrap();
        let done = a
            .post(
                "/APIUserAccount/CreateUserdata",
                &[
                    ("RegType", "D"),
                    ("UserName", "zendirect"),
                    ("Password", "Zen@2024Api7"),
                    ("RePassword", "Zen@2024Api7"),
                ],
            )
            .await
            .unwrap()
            .text();
        assert!(done.contains("created successfully"));
    }
    let r = start(|o| o.state_file = Some(state.clone())).await;
    let users = einvreg::loopback::request(
        "GET",
        &format!("{}/__replica/users", r.production_url),
        &[],
        None,
    )
    .await
    .unwrap()
    .text();
    assert!(users.contains("API_zendirect"));
}

#[test]
fn cli_replica_prints_loopback_urls() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(crate::support::bin())
        .args(["replica", "--port", "0", "--quiet"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let sb = lines.next().unwrap().unwrap();
    let pr = lines.next().unwrap().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(sb.starts_with("sandbox    http://127.0.0.1:"), "{sb}");
    assert!(pr.starts_with("production http://127.0.0.1:"), "{pr}");
    let bad = crate::support::Test::new()
        .args(["replica", "--faults", "latncy=1s"])
        .status(2)
        .run();
    assert!(
        bad.stderr.contains("did you mean `latency`"),
        "{}",
        bad.stderr
    );
}

/// `replica --logins` prints every demo taxpayer from the replica's own
/// data, and starts no server.
#[test]
fn cli_replica_prints_the_demo_logins() {
    let d = crate::support::Test::new()
        .args(["replica", "--logins"])
        .timeout(Duration::from_secs(10))
        .run();
    let rows: Vec<&str> = d.stdout.lines().skip(1).filter(|l| l.len() > 15).collect();
    let fixture =
        std::fs::read_to_string(crate::support::root().join("fixtures/taxpayers.toml")).unwrap();
    let gstins = fixture.matches("[[taxpayer]]").count();
    assert_eq!(
        rows.len() - 1,
        gstins,
        "one line per taxpayer:\n{}",
        d.stdout
    );
    assert!(
        d.stdout.contains("27AAPFU0939F1ZV  udaytrd01   Uday@Login2024  9876543210  technical-person popup after login"),
        "{}",
        d.stdout
    );
    assert!(d.stdout.contains("27AADCN5521K1ZD  -  "), "{}", d.stdout);
    assert!(
        d.stdout.contains("never reuse these passwords"),
        "{}",
        d.stdout
    );
}
