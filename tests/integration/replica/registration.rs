//! The Registration menu. Portal Login: a GSTIN with no login gets one
//! (the captcha, the OTP to its GST-registered mobile, a username and
//! password), which then logs in; a GSTIN that has one is told so.
//! e-Invoice Enablement: a GSTIN not enabled is enabled.

use super::*;

const PATH: &str = "/Registration/PortalLogin";
const NO_LOGIN: &str = "27AADCN5521K1ZD";
const NO_LOGIN_MOBILE: &str = "9820098765";
const NEW_PASS: &str = "Navkar@Pass24";

async fn json_at(url: &str) -> serde_json::Value {
    let r = einvreg::loopback::request("GET", url, &[], None)
        .await
        .unwrap();
    serde_json::from_str(&r.text()).unwrap_or_else(|e| panic!("{url}: not JSON: {e}"))
}

/// Portal Login's page, then Go with `gstin` and the captcha shown: the answer page.
async fn go(a: &mut Agent, gstin: &str) -> String {
    go_on(a, PATH, gstin).await
}

/// The Registration form at `path`, then Go with `gstin` and the captcha shown.
async fn go_on(a: &mut Agent, path: &str, gstin: &str) -> String {
    let page = a.get(path).await.unwrap().text();
    assert!(page.contains(r#"id="btngo""#), "{page}");
    let cap = aid(a, "captcha", PC).await;
    let fields = [
        ("Gstin", gstin),
        ("CaptchaCode", cap.as_str()),
        ("cmd", "go"),
    ];
    a.post(path, &fields).await.unwrap().text()
}

/// Go, Send OTP and Verify OTP for `gstin`: the page asking for the username.
async fn verified(a: &mut Agent, gstin: &str) -> String {
    let found = go(a, gstin).await;
    assert!(found.contains(r#"id="btnSendOPT""#), "{found}");
    a.post(PATH, &[("cmd", "sendotp")]).await.unwrap();
    let otp = aid(a, "otp", PC).await;
    let fields = [("Otp", otp.as_str()), ("cmd", "verify")];
    a.post(PATH, &fields).await.unwrap().text()
}

async fn save(a: &mut Agent, user: &str, pass: &str, confirm: &str) -> String {
    let fields = [
        ("UserName", user),
        ("Password", pass),
        ("ConfirmPassword", confirm),
        ("cmd", "save"),
    ];
    a.post(PATH, &fields).await.unwrap().text()
}

#[tokio::test]
async fn a_gstin_without_a_login_registers_one_that_then_logs_in() {
    let r = start(|_| {}).await;
    let list = json_at(&format!("{}/__replica/taxpayers", r.production_url)).await;
    let without: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["username"].is_null())
        .map(|t| t["gstin"].as_str().unwrap())
        .collect();
    assert!(without.len() >= 3 && without.contains(&NO_LOGIN), "{list}");

    let mut a = Agent::new(&r.production_url);
    let found = go(&mut a, NO_LOGIN).await;
    for shown in [
        "Navkar Packaging Private Limited",
        "NAVKAR PACKAGING",
        "98xxxxxx65",
    ] {
        assert!(found.contains(shown), "the details lack {shown}: {found}");
    }
    let sent = a.post(PATH, &[("cmd", "sendotp")]).await.unwrap().text();
    assert!(sent.contains("OTP has been sent to your GST registered mobile number."));
    assert!(sent.contains(r#"id="txtOtp""#) && sent.contains(r#"id="btnVerifyOTP""#));
    let sms = json_at(&format!(
        "{}/__replica/sms?mobile={NO_LOGIN_MOBILE}",
        r.production_url
    ))
    .await;
    let otp = aid(&a, "otp", PC).await;
    assert_eq!(sms.as_array().unwrap().last().unwrap()["otp"], otp.as_str());
    let wrong = a
        .post(PATH, &[("Otp", "x"), ("cmd", "verify")])
        .await
        .unwrap()
        .text();
    assert!(
        wrong.contains("Invalid OTP. You have 4 attempt(s) left."),
        "{wrong}"
    );
    let form = a
        .post(PATH, &[("Otp", &otp), ("cmd", "verify")])
        .await
        .unwrap()
        .text();
    assert!(form.contains("OTP verified successfully"), "{form}");
    for id in [
        "txtUserName",
        "txtForgotPassword",
        "txtConfirmPassword",
        "btnSave",
    ] {
        assert!(form.contains(&format!("id=\"{id}\"")), "no #{id}: {form}");
    }

    // The username's and the password's rules, each refused on the same page.
    let short = save(&mut a, "nav", NEW_PASS, NEW_PASS).await;
    assert!(
        short.contains("Username should be 6 to 15 characters"),
        "{short}"
    );
    let taken = save(&mut a, "UDAYTRD01", NEW_PASS, NEW_PASS).await;
    assert!(taken.contains("Username already exists"), "{taken}");
    let weak = save(&mut a, "navkar27", "navkar", "navkar").await;
    assert!(weak.contains("Password "), "{weak}");
    let apart = save(&mut a, "navkar27", NEW_PASS, "Navkar@Pass25").await;
    assert!(apart.contains("do not match"), "{apart}");
    let done = save(&mut a, "navkar27", NEW_PASS, NEW_PASS).await;
    assert!(done.contains("have been created successfully"), "{done}");

    let list = json_at(&format!("{}/__replica/taxpayers", r.production_url)).await;
    let me = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["gstin"] == NO_LOGIN);
    assert_eq!(me.unwrap()["username"], "navkar27");
    // The new login logs in (its second factor next); the GSTIN now has one.
    let (_, page) = prod_login(&r, "navkar27", NEW_PASS).await;
    assert!(
        page.contains("NAVKAR") || page.contains("Dash Board"),
        "{page}"
    );
    let again = go(&mut Agent::new(&r.production_url), NO_LOGIN).await;
    assert!(again.contains("already registered"), "{again}");
}

#[tokio::test]
async fn a_gstin_with_a_login_an_unknown_one_and_a_wrong_captcha_are_refused() {
    let r = start(|_| {}).await;
    let mut a = Agent::new(&r.production_url);
    let has = go(&mut a, "27AAPFU0939F1ZV").await;
    assert!(
        has.contains("already registered") && !has.contains("btnSendOPT"),
        "{has}"
    );
    let unknown = go(&mut a, "29AAGFK8812R1ZZ").await;
    assert!(unknown.contains("not found"), "{unknown}");
    a.get(PATH).await.unwrap();
    let fields = [
        ("Gstin", NO_LOGIN),
        ("CaptchaCode", "000000"),
        ("cmd", "go"),
    ];
    let bad = a.post(PATH, &fields).await.unwrap().text();
    assert!(bad.contains("Invalid Captcha"), "{bad}");
    // A step out of turn (Save before any OTP) is refused.
    let early = save(&mut a, "navkar27", NEW_PASS, NEW_PASS).await;
    assert!(early.contains("start again"), "{early}");
}

/// A login made before a restart with `--state` is still there, kept
/// without its password, and logs in through the evidence layout's
/// salted form.
#[tokio::test]
async fn a_registered_login_survives_a_restart_with_state() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let opts = |o: &mut Options| {
        o.state_file = Some(state.clone());
        o.layout = Layout::default();
    };
    let r = start(opts).await;
    let mut a = Agent::new(&r.production_url);
    let form = verified(&mut a, NO_LOGIN).await;
    assert!(form.contains("txtForgotPassword"), "{form}");
    save(&mut a, "navkar27", NEW_PASS, NEW_PASS).await;
    let kept = std::fs::read_to_string(&state).unwrap();
    assert!(
        kept.contains("navkar27") && !kept.contains(NEW_PASS),
        "{kept}"
    );
    drop(r);
    let r = start(opts).await;
    super::evidence::evidence_login(&r, "navkar27", NEW_PASS).await;
}

const NOT_ENABLED: &str = "24AAACJ3770E2ZV";
const ENABLEMENT: &str = "/Registration/EInvoiceEnablement";

/// Registration → e-Invoice Enablement: the declaration, the OTP to the
/// GST-registered mobile, Save; the dashboard then offers API
/// Registration, and a second enablement is refused.
#[tokio::test]
async fn a_gstin_not_enabled_is_enabled_and_then_offered_api_registration() {
    let r = start(|_| {}).await;
    let (mut user, dash) = prod_login(&r, "jyoticer24", "Jyo@Login2024c").await;
    assert!(dash.contains("not enabled for e-Invoicing"), "{dash}");

    let mut a = Agent::new(&r.production_url);
    let found = go_on(&mut a, ENABLEMENT, NOT_ENABLED).await;
    assert!(
        found.contains(r#"id="chkDeclaration""#) && found.contains("btnSendOPT"),
        "{found}"
    );
    let undeclared = a
        .post(ENABLEMENT, &[("cmd", "sendotp")])
        .await
        .unwrap()
        .text();
    assert!(
        undeclared.contains("Please select the declaration"),
        "{undeclared}"
    );
    let send = [("Declaration", "Y"), ("cmd", "sendotp")];
    let sent = a.post(ENABLEMENT, &send).await.unwrap().text();
    assert!(sent.contains("OTP has been sent"), "{sent}");
    let otp = aid(&a, "otp", PC).await;
    let verified = a
        .post(ENABLEMENT, &[("Otp", &otp), ("cmd", "verify")])
        .await
        .unwrap()
        .text();
    assert!(verified.contains(r#"id="btnSave""#), "{verified}");
    let saved = a.post(ENABLEMENT, &[("cmd", "save")]).await.unwrap().text();
    assert!(
        saved.contains("enabled for e-Invoicing successfully"),
        "{saved}"
    );

    let dash = user.get("/Home/MainMenu").await.unwrap().text();
    assert!(
        dash.contains("menuApiRegistration") && !dash.contains("not enabled"),
        "{dash}"
    );
    let again = go_on(&mut a, ENABLEMENT, NOT_ENABLED).await;
    assert!(again.contains("already enabled"), "{again}");
}

const FORGOT: &str = "/Home/ForgotUserPwd";

/// Forgot Password: the username, GSTIN and registered mobile must be one
/// login's; after the OTP the new password logs in and the old one no
/// longer does.
#[tokio::test]
async fn a_forgotten_password_is_reset_and_the_new_one_logs_in() {
    let r = start(|_| {}).await;
    let mut a = Agent::new(&r.production_url);
    let login = a.get("/Home/Login").await.unwrap().text();
    assert!(login.contains(r#"href="/Home/ForgotUserPwd""#), "{login}");
    let send = |cap: String, mobile: &'static str| {
        vec![
            ("UserName", "udaytrd01".to_string()),
            ("Gstin", "27AAPFU0939F1ZV".to_string()),
            ("RegMobile", mobile.to_string()),
            ("CaptchaCode", cap),
            ("cmd", "sendotp".to_string()),
        ]
    };
    a.get(FORGOT).await.unwrap();
    let cap = aid(&a, "captcha", PC).await;
    let wrong: Vec<(&str, String)> = send(cap, "9000000000");
    let fields: Vec<(&str, &str)> = wrong.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = a.post(FORGOT, &fields).await.unwrap().text();
    assert!(refused.contains("do not match our records"), "{refused}");
    let cap = aid(&a, "captcha", PC).await;
    let right = send(cap, "9876543210");
    let fields: Vec<(&str, &str)> = right.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let sent = a.post(FORGOT, &fields).await.unwrap().text();
    assert!(
        sent.contains("OTP has been sent") && sent.contains("txtOtp"),
        "{sent}"
    );
    let otp = aid(&a, "otp", PC).await;
    let verified = a
        .post(FORGOT, &[("Otp", &otp), ("cmd", "verify")])
        .await
        .unwrap()
        .text();
    assert!(verified.contains("txtForgotPassword"), "{verified}");
    let new = "Uday@Reset2026";
    let save = [("Password", new), ("ConfirmPassword", new), ("cmd", "save")];
    let done = a.post(FORGOT, &save).await.unwrap().text();
    assert!(
        done.contains("password has been changed successfully"),
        "{done}"
    );
    prod_login(&r, "udaytrd01", new).await;
    let mut old = Agent::new(&r.production_url);
    old.get("/Home/Login").await.unwrap();
    let cap = aid(&old, "captcha", PC).await;
    let fields = [
        ("UserName", "udaytrd01"),
        ("Password", TP_PASS),
        ("CaptchaCode", &cap),
    ];
    let page = old
        .post_follow("/Home/Login", &fields)
        .await
        .unwrap()
        .text();
    assert!(
        !page.contains("Two Factor Authentication"),
        "the old password still logs in"
    );
}

/// Forgot Username: the GSTIN and registered mobile must be a taxpayer's
/// with a login, whose username then goes by SMS to that mobile; a GSTIN
/// with no login is told to register one.
#[tokio::test]
async fn a_forgotten_username_is_sent_to_the_registered_mobile() {
    const PATH: &str = "/Home/ForgotUserName";
    let r = start(|_| {}).await;
    let mut a = Agent::new(&r.production_url);
    let login = a.get("/Home/Login").await.unwrap().text();
    assert!(login.contains(&format!(r#"href="{PATH}""#)), "{login}");
    let mut remind = async |gstin: &str, mobile: &str| {
        a.get(PATH).await.unwrap();
        let cap = aid(&a, "captcha", PC).await;
        let fields = [
            ("Gstin", gstin),
            ("RegMobile", mobile),
            ("CaptchaCode", cap.as_str()),
            ("cmd", "go"),
        ];
        a.post(PATH, &fields).await.unwrap().text()
    };
    let refused = remind("27AAPFU0939F1ZV", "9000000000").await;
    assert!(refused.contains("do not match our records"), "{refused}");
    let none = remind(NO_LOGIN, NO_LOGIN_MOBILE).await;
    assert!(none.contains("No username is registered"), "{none}");
    let sent = remind("27AAPFU0939F1ZV", "9876543210").await;
    assert!(sent.contains("username has been sent"), "{sent}");
    let outbox = json_at(&format!("{}/__replica/sms", r.production_url)).await;
    let texts: Vec<&str> = outbox
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["mobile"] == "9876543210")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        ["Your username for the e-Invoice System is udaytrd01. -NIC"]
    );
}
