//! The evidence-based layout: login on the home page, alerts and options in
//! place, the NIC-GST-Shield codes, renamed ids.

use super::*;

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
pub(super) async fn evidence_login(r: &Replica, user: &str, pass: &str) -> (Agent, String) {
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
