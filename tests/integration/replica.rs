//! HTTP-level tests of the replica: every screen and error path, each fault
//! and each drift, without a browser.

use einvreg::loopback::Agent;
use einvreg::replica::{Drift, Faults, Layout, Options, Replica};
use regex::Regex;
use std::time::{Duration, Instant};

const TP_PASS: &str = "Uday@Login2024";

/// A replica in the legacy layout (the pages these tests were written
/// for); `evidence_layout_*` tests start the default one.
async fn start(f: impl FnOnce(&mut Options)) -> Replica {
    let mut o = Options {
        seed: Some(42),
        layout: Layout::parse("legacy").unwrap(),
        ..Options::default()
    };
    f(&mut o);
    Replica::start(o).await.expect("replica starts")
}

fn hidden(html: &str, name: &str) -> String {
    let re = Regex::new(&format!(
        r#"name="{}"[^>]*value="([^"]*)""#,
        regex::escape(name)
    ))
    .unwrap();
    re.captures(html)
        .unwrap_or_else(|| panic!("no {name} in page"))
        .get(1)
        .unwrap()
        .as_str()
        .to_string()
}

async fn aid(a: &Agent, what: &str, cookie: &str) -> String {
    let sid = a.cookies.get(cookie).expect("session cookie").clone();
    let r = einvreg::loopback::request(
        "GET",
        &format!("{}/__replica/{what}?session={sid}", a.base),
        &[],
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    v.get("answer")
        .or_else(|| v.get("otp"))
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

const PC: &str = "EINV_SessionId";
const SC: &str = "ASP.NET_SessionId";

/// Logs in through captcha and 2FA; returns the agent on the dashboard (or popup).
async fn prod_login(r: &Replica, user: &str, pass: &str) -> (Agent, String) {
    let mut a = Agent::new(&r.production_url);
    a.get("/Home/Login").await.unwrap();
    let cap = aid(&a, "captcha", PC).await;
    let resp = a
        .post_follow(
            "/Home/Login",
            &[
                ("UserName", user),
                ("Password", pass),
                ("CaptchaCode", &cap),
            ],
        )
        .await
        .unwrap();
    assert!(
        resp.text().contains("Two Factor Authentication"),
        "{}",
        resp.text()
    );
    let otp = aid(&a, "otp", PC).await;
    let resp = a
        .post_follow("/Home/VerifyLoginOTP", &[("LoginOTP", &otp)])
        .await
        .unwrap();
    (a, resp.text())
}

#[tokio::test]
async fn binds_loopback_only_and_answers_both_portals() {
    let r = start(|_| {}).await;
    assert!(
        r.sandbox_url.starts_with("http://127.0.0.1:")
            && r.production_url.starts_with("http://127.0.0.1:")
    );
    let home = Agent::new(&r.production_url).get("/").await.unwrap();
    assert!(home.text().contains(r#"id="btnLogin""#));
    let sb = Agent::new(&r.sandbox_url).get("/").await.unwrap();
    assert!(sb.text().contains("e - Invoice API Developer's Portal"));
    // The kernel agrees: the listening sockets are on 127.0.0.1 only.
    for url in [&r.sandbox_url, &r.production_url] {
        let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
        let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap();
        let hex = format!(":{port:04X} ");
        let listen: Vec<&str> = tcp
            .lines()
            .filter(|l| {
                l.split_whitespace()
                    .nth(1)
                    .is_some_and(|a| a.ends_with(hex.trim_end()))
                    && l.split_whitespace().nth(3) == Some("0A")
            })
            .collect();
        assert!(!listen.is_empty(), "no listener for {port}");
        for l in listen {
            assert!(
                l.split_whitespace()
                    .nth(1)
                    .unwrap()
                    .starts_with("0100007F:"),
                "{port} bound beyond loopback: {l}"
            );
        }
    }
}

#[tokio::test]
async fn production_happy_path_then_duplicate_is_refused() {
    let r = start(|_| {}).await;
    let (mut a, page) = prod_login(&r, "udaytrd01", TP_PASS).await;
    assert!(
        page.contains("Contacts of Technical Person") && page.contains(r#"id="btnExit""#),
        "popup expected"
    );
    let dash = a.get("/Home/MainMenu").await.unwrap().text();
    for t in [
        "Dash Board",
        "Generations",
        "Cancelled",
        "API Registration",
        "IP Whitelisting",
        "User Credentials",
        "Create API User",
        "e-Way Bill",
    ] {
        assert!(dash.contains(t), "dashboard lacks {t}");
    }
    let otp_page = a.get("/APIUserAccount/CreateAPIUser").await.unwrap().text();
    assert!(otp_page.contains(
        "alert(\"OTP has been sent to your Register mobile no., Please check and enter\")"
    ));
    assert!(otp_page.contains("Enter the OTP Sent to Your Mobile Number:"));
    let wrong = a
        .post("/APIUserAccount/VerifyRegOTP", &[("OTP", "000000")])
        .await
        .unwrap()
        .text();
    let otp = aid(&a, "otp", PC).await;
    if otp != "000000" {
        assert!(
            wrong.contains("Invalid OTP. You have 4 attempt(s) left."),
            "{wrong}"
        );
    }
    let route = a
        .post("/APIUserAccount/VerifyRegOTP", &[("OTP", &otp)])
        .await
        .unwrap()
        .text();
    assert!(route.contains("DO you wish to Register your GSTIN for API Interface:"));
    for id in ["rbDirect", "rbGSP", "rbERP", "rbOtherGstin"] {
        assert!(route.contains(&format!("id=\"{id}\"")), "{id}");
    }
    let form = a
        .post("/APIUserAccount/CheckApiUserReg", &[("RegType", "G")])
        .await
        .unwrap()
        .text();
    assert!(
        form.contains("Select your GSP:")
            && form.contains("Vay Network Services Private Limited")
            && form.contains(r#"<span class="prefix">API_</span>"#)
    );
    let n_gsp = Regex::new("<option value=\"\\d+\"")
        .unwrap()
        .find_iter(&form)
        .count();
    assert!(n_gsp >= 40, "about 40 GSPs, got {n_gsp}");
    let idx = Regex::new(r#"<option value="(\d+)">Tera Software Limited</option>"#)
        .unwrap()
        .captures(&form)
        .unwrap()[1]
        .to_string();
    let done = a
        .post(
            "/APIUserAccount/CreateUserdata",
            &[
                ("RegType", "G"),
                ("GspId", &idx),
                ("UserName", "udaytera"),
                ("Password", "Tera@2024Ok9"),
                ("RePassword", "Tera@2024Ok9"),
            ],
        )
        .await
        .unwrap()
        .text();
    assert!(
        done.contains("Api user API_udaytera has been created successfully"),
        "{done}"
    );
    assert!(done.contains("tblRegisteredGsp") && done.contains("Tera Software Limited"));
    // Same GSTIN, same GSP again: the list shows it and a submit is refused.
    let again = a
        .post(
            "/APIUserAccount/CreateUserdata",
            &[
                ("RegType", "G"),
                ("GspId", &idx),
                ("UserName", "udaytera2"),
                ("Password", "Tera@2024Ok9"),
                ("RePassword", "Tera@2024Ok9"),
            ],
        )
        .await
        .unwrap()
        .text();
    assert!(again.contains("Credentials are already created"), "{again}");
    // Another GSTIN may not take a username already in use.
    let users = einvreg::loopback::request(
        "GET",
        &format!("{}/__replica/users", r.production_url),
        &[],
        None,
    )
    .await
    .unwrap()
    .text();
    assert_eq!(users.matches("API_udaytera").count(), 1, "{users}");
    assert!(
        !users.contains("Tera@2024Ok9"),
        "the replica keeps no plain passwords"
    );
}

#[tokio::test]
async fn production_login_errors_otp_expiry_and_lockout() {
    let r = start(|o| o.max_wrong_otp = 3).await;
    let mut a = Agent::new(&r.production_url);
    a.get("/Home/Login").await.unwrap();
    let bad = a
        .post(
            "/Home/Login",
            &[
                ("UserName", "udaytrd01"),
                ("Password", TP_PASS),
                ("CaptchaCode", "nope"),
            ],
        )
        .await
        .unwrap()
        .text();
    assert!(
        bad.contains("Invalid Captcha") && bad.contains("captcha_image"),
        "wrong captcha shows the error and a new image"
    );
    let cap = aid(&a, "captcha", PC).await;
    let bad = a
        .post(
            "/Home/Login",
            &[
                ("UserName", "udaytrd01"),
                ("Password", "wrong"),
                ("CaptchaCode", &cap),
            ],
        )
        .await
        .unwrap()
        .text();
    assert!(bad.contains("Invalid Username or Password"));
    // Expired login OTP.
    let cap = aid(&a, "captcha", PC).await;
    a.post_follow(
        "/Home/Login",
        &[
            ("UserName", "udaytrd01"),
            ("Password", TP_PASS),
            ("CaptchaCode", &cap),
        ],
    )
    .await
    .unwrap();
    let otp = aid(&a, "otp", PC).await;
    einvreg::loopback::request(
        "POST",
        &format!("{}/__replica/expire-otps", r.production_url),
        &[],
        None,
    )
    .await
    .unwrap();
    let exp = a
        .post("/Home/VerifyLoginOTP", &[("LoginOTP", &otp)])
        .await
        .unwrap()
        .text();
    assert!(exp.contains("OTP has expired"), "{exp}");
    // Lock-out after max wrong tries.
    a.get("/Home/Login").await.unwrap();
    let cap = aid(&a, "captcha", PC).await;
    a.post_follow(
        "/Home/Login",
        &[
            ("UserName", "udaytrd01"),
            ("Password", TP_PASS),
            ("CaptchaCode", &cap),
        ],
    )
    .await
    .unwrap();
    let otp = aid(&a, "otp", PC).await;
    let wrong = if otp == "111111" { "222222" } else { "111111" };
    a.post("/Home/VerifyLoginOTP", &[("LoginOTP", wrong)])
        .await
        .unwrap();
    a.post("/Home/VerifyLoginOTP", &[("LoginOTP", wrong)])
        .await
        .unwrap();
    let locked = a
        .post("/Home/VerifyLoginOTP", &[("LoginOTP", wrong)])
        .await
        .unwrap()
        .text();
    assert!(locked.contains("Maximum OTP attempts exceeded"), "{locked}");
    let still = a
        .post("/Home/VerifyLoginOTP", &[("LoginOTP", &otp)])
        .await
        .unwrap()
        .text();
    assert!(
        still.contains("Maximum OTP attempts exceeded"),
        "the right OTP after lock-out is refused"
    );
    // Pages behind login send a stranger to the login page.
    let mut b = Agent::new(&r.production_url);
    let resp = b.get("/Home/MainMenu").await.unwrap();
    assert_eq!(resp.header("location"), Some("/Home/Login"));
}

#[tokio::test]
async fn production_routes_direct_erp_and_other_gstin() {
    let r = start(|_| {}).await;
    let (mut a, _) = prod_login(&r, "jayantka", "Jay@Login2024k").await;
    for (t, extra, user) in [
        ("D", vec![], "jayantdir"),
        ("E", vec![("ErpId", "1")], "jayanterp"),
        ("C", vec![("OtherGstin", "27AAACJ4323N1ZG")], "jayantcid"),
    ] {
        a.get("/APIUserAccount/CreateAPIUser").await.unwrap();
        let otp = aid(&a, "otp", PC).await;
        a.post("/APIUserAccount/VerifyRegOTP", &[("OTP", &otp)])
            .await
            .unwrap();
        let form = a
            .post("/APIUserAccount/CheckApiUserReg", &[("RegType", t)])
            .await
            .unwrap()
            .text();
        if t == "E" {
            assert!(
                form.contains("Select your ERP:")
                    && form.contains("CLOUDZEN SOFTWARE LABS PRIVATE LIMITED(GSTZen)")
            );
        }
        let mut fields = vec![
            ("RegType", t),
            ("UserName", user),
            ("Password", "Jay@2024Api7"),
            ("RePassword", "Jay@2024Api7"),
        ];
        fields.extend(extra);
        let done = a
            .post("/APIUserAccount/CreateUserdata", &fields)
            .await
            .unwrap()
            .text();
        assert!(
            done.contains(&format!(
                "Api user API_{user} has been created successfully"
            )),
            "{t}: {done}"
        );
    }
    // Client-Id of a GSTIN with another PAN is refused.
    a.get("/APIUserAccount/CreateAPIUser").await.unwrap();
    let otp = aid(&a, "otp", PC).await;
    a.post("/APIUserAccount/VerifyRegOTP", &[("OTP", &otp)])
        .await
        .unwrap();
    let bad = a
        .post(
            "/APIUserAccount/CreateUserdata",
            &[
                ("RegType", "C"),
                ("OtherGstin", "27AAPFU0939F1ZV"),
                ("UserName", "jayantx"),
                ("Password", "Jay@2024Api7"),
                ("RePassword", "Jay@2024Api7"),
            ],
        )
        .await
        .unwrap()
        .text();
    assert!(bad.contains("same PAN"));
}

#[tokio::test]
async fn faults_http500_latency_spurious_slow_alert_idle_expiry() {
    let r = start(|o| o.faults = Faults::parse("http500=login@1").unwrap()).await;
    let resp = Agent::new(&r.production_url)
        .get("/Home/Login")
        .await
        .unwrap();
    assert_eq!(resp.status, 500);
    assert!(resp.text().contains("Server Error in '/' Application."));

    let r = start(|o| o.faults = Faults::parse("latency=150ms").unwrap()).await;
    let t = Instant::now();
    let resp = Agent::new(&r.production_url).get("/").await.unwrap();
    assert_eq!(resp.status, 200);
    assert!(
        t.elapsed() >= Duration::from_millis(150),
        "latency fault not applied"
    );

    let r =
        start(|o| o.faults = Faults::parse("spurious_already_created;slow_alert=1500ms").unwrap())
            .await;
    let (mut a, _) = prod_login(&r, "gstzendemo", "Zen@Login2024x").await;
    let otp_page = a.get("/APIUserAccount/CreateAPIUser").await.unwrap().text();
    assert!(
        otp_page.contains("setTimeout(function(){alert(") && otp_page.contains(",1500)"),
        "slow alert"
    );
    let otp = aid(&a, "otp", PC).await;
    a.post("/APIUserAccount/VerifyRegOTP", &[("OTP", &otp)])
        .await
        .unwrap();
    let done = a
        .post(
            "/APIUserAccount/CreateUserdata",
            &[
                ("RegType", "G"),
                ("GspId", "1"),
                ("UserName", "zenspur"),
                ("Password", "Zen@2024Api7"),
                ("RePassword", "Zen@2024Api7"),
            ],
        )
        .await
        .unwrap()
        .text();
    assert!(
        done.contains("Credentials are already created"),
        "spurious error shown"
    );
    let users = einvreg::loopback::request(
        "GET",
        &format!("{}/__replica/users", r.production_url),
        &[],
        None,
    )
    .await
    .unwrap()
    .text();
    assert!(
        users.contains("API_zenspur"),
        "yet the user was created: {users}"
    );

    let r = start(|o| o.faults = Faults::parse("idle_expiry=20ms").unwrap()).await;
    let (mut a, _) = prod_login(&r, "gstzendemo", "Zen@Login2024x").await;
    // Idle past the limit (a precondition, not a timing assertion).
    tokio::time::sleep(Duration::from_millis(60)).await;
    let resp = a.get_follow("/Home/MainMenu").await.unwrap().text();
    assert!(
        resp.contains("Your session has expired. Please login again."),
        "{resp}"
    );
}

#[tokio::test]
async fn every_drift_changes_the_markup_it_names() {
    let page = |d: Drift, portal: &'static str, path: &'static str| async move {
        let r = start(|o| o.drift = Some(d)).await;
        let base = if portal == "sandbox" {
            r.sandbox_url.clone()
        } else {
            r.production_url.clone()
        };
        Agent::new(&base).get(path).await.unwrap().text()
    };
    let plain = start(|_| {}).await;
    let list = Agent::new(&plain.production_url)
        .get("/Others/GSPList")
        .await
        .unwrap()
        .text();
    assert!(list.contains("Vay Network Services Private Limited") && list.contains("tblGspList"));
    let p = page(Drift::MissingGsp, "production", "/Others/GSPList").await;
    assert!(
        !p.contains("Vay Network Services") && p.contains("Tera Software Limited"),
        "missing-gsp also leaves the public list"
    );
    let login = Agent::new(&plain.production_url)
        .get("/Home/Login")
        .await
        .unwrap()
        .text();
    assert!(login.contains(r#"id="txtUserName" name="UserName""#));
    let p = page(Drift::RenamedId, "production", "/Home/Login").await;
    assert!(p.contains(r#"id="txtLoginId" name="UserName""#) && !p.contains(r#"id="txtUserName""#));
    let p = page(Drift::RenamedField, "production", "/Home/Login").await;
    assert!(p.contains(r#"id="txtLoginId" name="LoginId""#) && !p.contains("name=\"UserName\""));
    let p = page(Drift::RelabelledButton, "production", "/").await;
    assert!(p.contains("Sign In") && !p.contains("btnLogin"));
    let p = page(Drift::Interstitial, "production", "/").await;
    assert!(p.contains("/Home/Notice"));
    let p = page(Drift::Interstitial, "production", "/Home/Notice").await;
    assert!(p.contains("Important Notice"));
    let p = page(
        Drift::MovedElement,
        "sandbox",
        "/einvapiclient/EncDesc/Registration.aspx",
    )
    .await;
    assert!(
        p.contains("ctl00_ContentPlaceHolder1_pnlVerify_txtCaptchaCode")
            && !p.contains("id=\"ctl00_ContentPlaceHolder1_txtCaptcha\"")
    );
    let r = start(|o| o.drift = Some(Drift::MissingGsp)).await;
    let (mut a, _) = prod_login(&r, "gstzendemo", "Zen@Login2024x").await;
    a.get("/APIUserAccount/CreateAPIUser").await.unwrap();
    let otp = aid(&a, "otp", PC).await;
    a.post("/APIUserAccount/VerifyRegOTP", &[("OTP", &otp)])
        .await
        .unwrap();
    let form = a
        .post("/APIUserAccount/CheckApiUserReg", &[("RegType", "G")])
        .await
        .unwrap()
        .text();
    assert!(!form.contains("Vay Network Services") && form.contains("Tera Software Limited"));
}

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

/// GET a loopback URL and parse its JSON.
async fn json_at(url: &str) -> serde_json::Value {
    let r = einvreg::loopback::request("GET", url, &[], None)
        .await
        .unwrap();
    serde_json::from_str(&r.text()).unwrap_or_else(|e| panic!("{url}: not JSON: {e}"))
}

/// What the evidence layout's login page posts: the password hashed with
/// the form's salt, `sha256(hex(sha256(hex(md5(pw)))) + salt)`.
fn salted(pw: &str, salt: &str) -> String {
    use md5::Digest;
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let m = hex(&md5::Md5::digest(pw.as_bytes()));
    let once = hex(&sha2::Sha256::digest(m.as_bytes()));
    hex(&sha2::Sha256::digest(format!("{once}{salt}").as_bytes()))
}

/// Logs in on the evidence layout's home page; returns the agent on the
/// dashboard and the dashboard's HTML.
async fn evidence_login(r: &Replica, user: &str, pass: &str) -> (Agent, String) {
    let mut a = Agent::new(&r.production_url);
    let home = a.get("/").await.unwrap().text();
    assert!(
        home.contains("id=\"divLogin\" style=\"display:none\""),
        "the form waits for the Login button"
    );
    let salt = hidden(&home, "UserLogin.Salt");
    a.get("/get-captcha-image").await.unwrap();
    let cap = aid(&a, "captcha", PC).await;
    let resp = a
        .post_follow(
            "/Home/Login",
            &[
                ("UserLogin.UserName", user),
                ("UserLogin.Password", &salted(pass, &salt)),
                ("UserLogin.Salt", &salt),
                ("CaptchaCode", &cap),
            ],
        )
        .await
        .unwrap();
    assert!(resp.text().contains("NIC-GST-Shield"), "{}", resp.text());
    let otp = aid(&a, "otp", PC).await;
    let resp = a
        .post_follow(
            "/Home/VerifyLoginOTP",
            &[("OtpMode", "SMS"), ("LoginOTP", &otp)],
        )
        .await
        .unwrap();
    (a, resp.text())
}

/// Logs in, asks for Create API User and verifies its OTP: the agent on
/// the page of routes, and that page.
async fn evidence_options(r: &Replica, user: &str, pass: &str) -> (Agent, String) {
    let (mut a, _) = evidence_login(r, user, pass).await;
    a.get("/APIUserAccount/CreateAPIUser").await.unwrap();
    let otp = aid(&a, "otp", PC).await;
    let page = a
        .post("/APIUserAccount/VerifyRegOTP", &[("OTP", &otp)])
        .await
        .unwrap()
        .text();
    (a, page)
}

#[tokio::test]
async fn evidence_layout_login_on_home_alerts_and_options_in_place() {
    let r = start(|o| o.layout = Layout::default()).await;
    let mut a = Agent::new(&r.production_url);
    // A plain password (not the salted hash) is refused with a JS alert.
    let home = a.get("/").await.unwrap().text();
    let salt = hidden(&home, "UserLogin.Salt");
    a.get("/get-captcha-image").await.unwrap();
    let first = aid(&a, "captcha", PC).await;
    a.get("/get-captcha-image").await.unwrap();
    let cap = aid(&a, "captcha", PC).await;
    assert_ne!(first, cap, "every captcha image request draws a new one");
    let resp = a
        .post(
            "/Home/Login",
            &[
                ("UserLogin.UserName", "udaytrd01"),
                ("UserLogin.Password", TP_PASS),
                ("UserLogin.Salt", &salt),
                ("CaptchaCode", &cap),
            ],
        )
        .await
        .unwrap();
    assert!(
        resp.text().contains("alert(\"Invalid Login Credentials"),
        "{}",
        resp.text()
    );
    assert!(
        !resp.text().contains("class=\"error\""),
        "the error is an alert, not page text"
    );
    let resp = a
        .post(
            "/Home/Login",
            &[
                ("UserLogin.UserName", "udaytrd01"),
                ("CaptchaCode", "WRONG1"),
            ],
        )
        .await
        .unwrap();
    assert!(
        resp.text().contains("alert(\"Invalid Captcha"),
        "{}",
        resp.text()
    );

    // The GSTIN with the notice gets it as a modal over the dashboard.
    let (mut a, dash) = evidence_login(&r, "udaytrd01", TP_PASS).await;
    assert!(
        dash.contains("Dash Board") && dash.contains("id=\"techPersonModal\""),
        "{dash}"
    );
    a.post("/UserAccount/CloseTechPerson", &[]).await.unwrap();
    let dash = a.get("/Home/MainMenu").await.unwrap().text();
    assert!(
        !dash.contains("techPersonModal"),
        "Exit closes it for the session"
    );
    a.get("/APIUserAccount/CreateAPIUser").await.unwrap();
    let otp = aid(&a, "otp", PC).await;
    let page = a
        .post("/APIUserAccount/VerifyRegOTP", &[("OTP", &otp)])
        .await
        .unwrap()
        .text();
    // Routes and every route's fields on one page; no Directly for this GSTIN.
    for want in [
        "id=\"rbGSP\"",
        "id=\"divRouteForm\" style=\"display:none\"",
        "Select your GSP:",
        "Select your ERP:",
        "value=\"API_\"",
    ] {
        assert!(page.contains(want), "{want} missing: {page}");
    }
    assert!(
        !page.contains("id=\"rbDirect\""),
        "Directly is for eligible taxpayers only"
    );
    let tera = Regex::new(r#"<option value="(\d+)">Tera Software Limited</option>"#)
        .unwrap()
        .captures(&page)
        .unwrap()[1]
        .to_string();
    let form = |user: &'static str| {
        vec![
            ("RegType", "G"),
            ("GspId", tera.as_str()),
            ("UserName", user),
            ("Password", "Api@Pass1234"),
            ("RePassword", "Api@Pass1234"),
        ]
    };
    let resp = a
        .post("/APIUserAccount/CreateUserdata", &form("udayev"))
        .await
        .unwrap();
    assert!(
        resp.text().contains("Username should start with API_"),
        "the box keeps the prefix"
    );
    let resp = a
        .post("/APIUserAccount/CreateUserdata", &form("API_udayev"))
        .await
        .unwrap();
    assert!(
        resp.text()
            .contains("Api user API_udayev has been created successfully"),
        "{}",
        resp.text()
    );

    // Directly asks for the taxpayer's own Client ID and Secret.
    let (mut a, page) = evidence_options(&r, "himagro05", "Him@Login2024a").await;
    assert!(
        page.contains("id=\"rbDirect\"") && page.contains("Client Secret:"),
        "{page}"
    );
    let direct = |secret: &'static str| {
        vec![
            ("RegType", "D"),
            ("ClientId", "HIM-OWN-1"),
            ("ClientSecret", secret),
            ("UserName", "API_himev"),
            ("Password", "Api@Pass1234"),
            ("RePassword", "Api@Pass1234"),
        ]
    };
    let resp = a
        .post("/APIUserAccount/CreateUserdata", &direct(""))
        .await
        .unwrap();
    assert!(resp
        .text()
        .contains("Please enter Client ID and Client Secret"));
    let resp = a
        .post("/APIUserAccount/CreateUserdata", &direct("Own-Secret"))
        .await
        .unwrap();
    assert!(
        resp.text().contains("Api user API_himev has been created"),
        "{}",
        resp.text()
    );

    // Another GSTIN's Client-Id: a dropdown of the same-PAN GSTINs.
    let (_, page) = evidence_options(&r, "jayantka", "Jay@Login2024k").await;
    assert!(
        page.contains("<option value=\"27AAACJ4323N1ZG\">27AAACJ4323N1ZG</option>"),
        "{page}"
    );

    // A GSTIN not enabled for e-invoicing has no API Registration menu.
    let (_, dash) = evidence_login(&r, "jyoticer24", "Jyo@Login2024c").await;
    assert!(dash.contains("not enabled for e-Invoicing") && dash.contains("e-Invoice Enablement"));
    assert!(!dash.contains("API Registration"), "{dash}");
    // No public List of GSPs in this layout.
    let r2 = einvreg::loopback::request(
        "GET",
        &format!("{}/Others/GSPList", r.production_url),
        &[],
        None,
    )
    .await
    .unwrap();
    assert_eq!(r2.status, 404);
}

#[tokio::test]
async fn shield_codes_change_every_30s_and_the_second_factor_modes_switch_in_place() {
    let r = start(|o| o.layout = Layout::default()).await;
    let mut a = Agent::new(&r.production_url);
    let home = a.get("/").await.unwrap().text();
    let salt = hidden(&home, "UserLogin.Salt");
    a.get("/get-captcha-image").await.unwrap();
    let cap = aid(&a, "captcha", PC).await;
    a.post_follow(
        "/Home/Login",
        &[
            ("UserLogin.UserName", "gstzendemo"),
            ("UserLogin.Password", &salted("Zen@Login2024x", &salt)),
            ("UserLogin.Salt", &salt),
            ("CaptchaCode", &cap),
        ],
    )
    .await
    .unwrap();
    // Sandes: the page asks in place; the OTP goes out through the app.
    let said = a
        .post("/Home/SendLoginOTP", &[("OtpMode", "SANDES")])
        .await
        .unwrap()
        .text();
    assert!(said.contains("Sandes app"), "{said}");
    let sms: serde_json::Value = json_at(&format!(
        "{}/__replica/sms?mobile=9845012345",
        r.production_url
    ))
    .await;
    assert_eq!(sms.as_array().unwrap().last().unwrap()["channel"], "sandes");
    // Shield: the code of the app, not an SMS; a wrong one is an alert.
    let sid = a.cookies.get(PC).unwrap().clone();
    let v: serde_json::Value = json_at(&format!(
        "{}/__replica/shield?session={sid}",
        r.production_url
    ))
    .await;
    let left = v["seconds_left"].as_u64().unwrap();
    assert!((1..=30).contains(&left), "{v}");
    let resp = a
        .post(
            "/Home/VerifyLoginOTP",
            &[("OtpMode", "SHIELD"), ("LoginOTP", "000000")],
        )
        .await
        .unwrap();
    assert!(
        resp.text().contains("alert(\"Invalid OTP"),
        "{}",
        resp.text()
    );
    let resp = a
        .post_follow(
            "/Home/VerifyLoginOTP",
            &[
                ("OtpMode", "SHIELD"),
                ("LoginOTP", v["code"].as_str().unwrap()),
            ],
        )
        .await
        .unwrap();
    assert!(resp.text().contains("Dash Board"), "{}", resp.text());
}

#[tokio::test]
async fn renamed_layout_renames_ids_but_keeps_labels_and_public_names() {
    let r = start(|o| o.layout = Layout::parse("renamed").unwrap()).await;
    let mut a = Agent::new(&r.sandbox_url);
    let page = a
        .get("/einvapiclient/EncDesc/Registration.aspx")
        .await
        .unwrap()
        .text();
    assert!(
        !page.contains("txtGSTIN") && !page.contains("rblUserType"),
        "{page}"
    );
    assert!(
        page.contains("GSTIN :")
            && page.contains("Tax Payer")
            && page.contains("ctl00_ContentPlaceHolder1_")
    );
    // The production login keeps its public names.
    let mut p = Agent::new(&r.production_url);
    let home = p.get("/").await.unwrap().text();
    for public in [
        "id=\"btnLogin\"",
        "id=\"txtUserName\"",
        "name=\"UserLogin.Password\"",
        "id=\"captcha_image\"",
        "id=\"CaptchaCode\"",
    ] {
        assert!(home.contains(public), "{public} renamed: {home}");
    }
    // Posted forms are mapped back: the browser tests register through it.
}
