//! HTTP-level tests of the replica: every screen and error path, each fault
//! and each drift, without a browser. Production here; the sandbox and the
//! evidence-based layout in their own files.

mod evidence;
mod registration;
mod sandbox;

use einvreg::loopback::Agent;
use einvreg::replica::{Drift, Faults, Layout, Options, Replica};
use regex::Regex;
use std::time::{Duration, Instant};

pub(super) const TP_PASS: &str = "Uday@Login2024";

/// A replica in the legacy layout (the pages these tests were written
/// for); `evidence_layout_*` tests start the default one.
pub(super) async fn start(f: impl FnOnce(&mut Options)) -> Replica {
    let mut o = Options {
        seed: Some(42),
        layout: Layout::parse("legacy").unwrap(),
        ..Options::default()
    };
    f(&mut o);
    Replica::start(o).await.expect("replica starts")
}

pub(super) fn hidden(html: &str, name: &str) -> String {
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

pub(super) async fn aid(a: &Agent, what: &str, cookie: &str) -> String {
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

pub(super) const PC: &str = "EINV_SessionId";
pub(super) const SC: &str = "ASP.NET_SessionId";

/// Logs in through captcha and 2FA; returns the agent on the dashboard (or popup).
pub(super) async fn prod_login(r: &Replica, user: &str, pass: &str) -> (Agent, String) {
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
