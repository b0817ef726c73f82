//! The production portal (einvoice1.gst.gov.in): login with captcha, the 2FA
//! OTP, the technical-person popup, the dashboard and Create API User.
//! Paths, ids and texts follow portal-facts.md; see fixtures/README.md.

use super::config::Drift;
use super::html::{esc, fill, js, options, PRODUCTION_SHELL};
use super::state::{hash_password, mask_mobile, ApiUser, OtpCheck};
use super::{redirect, Portal};
use crate::rules::{validate_api_username, validate_gstin, validate_password, GstinStrictness};
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, Response};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;

type F = HashMap<String, String>;

pub fn router() -> Router<Portal> {
    Router::new()
        .route("/", get(home))
        .route("/Home/Notice", get(notice))
        .route("/Others/GSPList", get(gsp_list))
        .route("/Home/Login", get(login_get).post(login_post))
        .route("/Home/Captcha", get(captcha))
        .route(
            "/Home/VerifyLoginOTP",
            get(login_otp_get).post(login_otp_post),
        )
        .route("/UserAccount/TechPersonContacts", get(tech_popup))
        .route("/Home/MainMenu", get(dashboard))
        .route("/Home/Logout", get(logout))
        .route("/APIUserAccount/CreateAPIUser", get(create_api_user))
        .route(
            "/APIUserAccount/VerifyRegOTP",
            get(verify_reg_otp_get).post(verify_reg_otp_post),
        )
        .route(
            "/APIUserAccount/CheckApiUserReg",
            get(check_reg_get).post(check_reg_post),
        )
        .route(
            "/APIUserAccount/CreateUserdata",
            axum::routing::post(create_user),
        )
}

struct Page<'a> {
    title: &'a str,
    body: String,
    script: String,
    gstin: Option<String>,
}

fn render(p: &Portal, page: Page) -> Html<String> {
    let (userbar, menu) = match &page.gstin {
        Some(g) => {
            let name = p
                .shared
                .taxpayer(g)
                .map(|t| t.legal_name.clone())
                .unwrap_or_default();
            (
                format!("<div class=\"userbar\">GSTIN: {} - Name: {} &nbsp;|&nbsp; Account: Main User &nbsp;|&nbsp; <a href=\"/Home/Logout\">Logout</a></div>", esc(g), esc(&name)),
                MENU.to_string(),
            )
        }
        None => (String::new(), String::new()),
    };
    Html(fill(
        PRODUCTION_SHELL,
        &[
            ("title", page.title),
            ("userbar", &userbar),
            ("menu", &menu),
            ("body", &page.body),
            ("script", &page.script),
        ],
    ))
}

const MENU: &str = r##"<ul class="menu" id="leftMenu">
<li><a href="#">e-Invoice</a></li>
<li><a href="#">MIS Reports</a></li>
<li><a href="#">User Management</a></li>
<li><a href="#" id="menuApiRegistration" onclick="toggleMenu('subApiRegistration');return false;">API Registration</a>
  <ul id="subApiRegistration" style="display:none">
    <li><a href="#">IP Whitelisting</a></li>
    <li><a href="#" id="menuUserCredentials" onclick="toggleMenu('subUserCredentials');return false;">User Credentials</a>
      <ul id="subUserCredentials" style="display:none">
        <li><a href="/APIUserAccount/CreateAPIUser">Create API User</a></li>
        <li><a href="#">Change API Password</a></li>
      </ul></li>
  </ul></li>
<li><a href="#">Change Password</a></li>
<li><a href="#">Feedback on GePP</a></li>
<li><a href="#">Update Contact Details</a></li>
<li><a href="#">e-Way Bill</a></li>
</ul>
<script>function toggleMenu(id){var e=document.getElementById(id);e.style.display=e.style.display==='none'?'block':'none';}</script>"##;

fn alert_script(text: &str, delay_ms: u128) -> String {
    if delay_ms == 0 {
        format!(
            "<script>window.addEventListener('load',function(){{alert({});}});</script>",
            js(text)
        )
    } else {
        format!("<script>window.addEventListener('load',function(){{setTimeout(function(){{alert({});}},{delay_ms});}});</script>", js(text))
    }
}

/// The logged-in GSTIN, or a redirect to the login page saying the session expired.
fn require_login(p: &Portal, s: &super::SessionRef) -> Result<String, Response> {
    let g = p.with(&s.id, |x| {
        if x.authenticated {
            x.gstin.clone()
        } else {
            None
        }
    });
    g.ok_or_else(|| {
        s.respond(redirect(if s.expired {
            "/Home/Login?expired=1"
        } else {
            "/Home/Login"
        }))
    })
}

async fn home(State(p): State<Portal>, h: HeaderMap) -> Response {
    if let Some(r) = p.fault("home").await {
        return r;
    }
    let s = p.session(&h);
    let login = if p.shared.drift == Some(Drift::RelabelledButton) {
        r##"<button id="btnSignIn" class="btn" onclick="location.href='/Home/Login'">Sign In</button>"##
    } else if p.shared.drift == Some(Drift::Interstitial) {
        r##"<button id="btnLogin" class="btn" onclick="location.href='/Home/Notice'">Login</button>"##
    } else {
        r##"<button id="btnLogin" class="btn" onclick="location.href='/Home/Login'">Login</button>"##
    };
    let body = format!(
        r##"<nav class="top" style="background:#1b3f73;padding:6px"><a href="/">Home</a><a href="#">Laws</a><a href="#">Help</a><a href="#">Search</a><a href="#">Contact Us</a><a href="#">Registration</a><a href="#">Statistics</a></nav>
<h2>e-Invoice System</h2>
<p><b>Dear Taxpayers,</b> We are happy to announce that second portal of e-Invoice System (https://einvoice2.gst.gov.in) will be operational from 1st April 2023.</p>
<h3>LATEST UPDATES</h3><ul>
<li>04 DEC 2023 &bull; At least 6 digit HSN will be mandatory in e-Invoices, for taxpayers whose AATO is 5Cr and above, from 15th of December 2023.</li>
<li>11 SEP 2023 &bull; 2-Factor Authentication for all taxpayers with AATO above Rs 20 Cr is mandatory from 20th November 2023.</li></ul>
<p><a id="lnkGspList" href="/Others/GSPList">List of GSPs</a> integrated with the e-Invoice System</p>
<p>Enter your username and password after clicking on the login button</p>
{login}"##
    );
    s.respond(render(
        &p,
        Page {
            title: "Home",
            body,
            script: String::new(),
            gstin: None,
        },
    ))
}

/// The public list of GSPs [guess: a public page listing the GSPs the portal offers].
async fn gsp_list(State(p): State<Portal>, h: HeaderMap) -> Response {
    let s = p.session(&h);
    let rows: String = p
        .shared
        .gsp_list()
        .iter()
        .enumerate()
        .map(|(i, g)| format!("<tr><td>{}</td><td>{}</td></tr>", i + 1, esc(g)))
        .collect();
    let body = format!(
        r##"<h2>List of GSPs</h2><p>GSPs integrated with the e-Invoice System for API access.</p>
<table class="grid" id="tblGspList"><tr><th>Sl. No.</th><th>GSP Name</th></tr>{rows}</table>"##
    );
    s.respond(render(
        &p,
        Page {
            title: "List of GSPs",
            body,
            script: String::new(),
            gstin: None,
        },
    ))
}

/// Drift `interstitial`: a notice page between home and login.
async fn notice(State(p): State<Portal>, h: HeaderMap) -> Response {
    let s = p.session(&h);
    let body = r##"<h2>Important Notice</h2><p>Taxpayers are advised to keep their registered mobile number updated for OTP based login.</p>
<a class="btn" id="btnContinue" href="/Home/Login">Continue</a>"##
        .to_string();
    s.respond(render(
        &p,
        Page {
            title: "Notice",
            body,
            script: String::new(),
            gstin: None,
        },
    ))
}

fn login_page(p: &Portal, sid: &str, error: &str) -> Html<String> {
    let serial = p.new_captcha(sid);
    let user_box = match p.shared.drift {
        Some(Drift::RenamedId) => {
            r##"<input id="txtLoginId" name="UserName" maxlength="15" autocomplete="off">"##
        }
        Some(Drift::RenamedField) => {
            r##"<input id="txtLoginId" name="LoginId" maxlength="15" autocomplete="off">"##
        }
        _ => r##"<input id="txtUserName" name="UserName" maxlength="15" autocomplete="off">"##,
    };
    let csrf = p.with(sid, |s| s.csrf.clone());
    let err = if error.is_empty() {
        String::new()
    } else {
        format!("<div class=\"error\" id=\"lblError\">{}</div>", esc(error))
    };
    let body = format!(
        r##"<h2>E-INVOICE SYSTEM LOGIN</h2>{err}
<form method="post" action="/Home/Login" id="frmLogin">
<input type="hidden" name="__RequestVerificationToken" value="{csrf}">
<div class="row"><label for="txtUserName">User name</label>{user_box}</div>
<div class="row"><label for="txt_password">Password</label><input type="password" id="txt_password" name="Password" maxlength="15" autocomplete="off"></div>
<div class="row"><img id="captcha_image" src="/Home/Captcha?v={serial}" alt="captcha" width="180" height="60">
 <a href="/Home/Login" title="Refresh captcha">&#x21bb;</a></div>
<div class="row"><label for="CaptchaCode">ENTER ABOVE CAPTCHA</label><input id="CaptchaCode" name="CaptchaCode" maxlength="6" autocomplete="off"></div>
<div class="row"><button type="submit" class="btn btnlogin">Login</button></div>
<div class="row"><a href="#">Forgot Password?</a> &nbsp; <a href="#">Forgot Username?</a></div>
</form>"##
    );
    render(
        p,
        Page {
            title: "Login",
            body,
            script: String::new(),
            gstin: None,
        },
    )
}

async fn login_get(State(p): State<Portal>, h: HeaderMap, Query(q): Query<F>) -> Response {
    if let Some(r) = p.fault("login").await {
        return r;
    }
    let s = p.session(&h);
    let msg = if q.contains_key("expired") || s.expired {
        "Your session has expired. Please login again."
    } else {
        ""
    };
    let page = login_page(&p, &s.id, msg);
    s.respond(page)
}

async fn captcha(State(p): State<Portal>, h: HeaderMap) -> Response {
    let s = p.session(&h);
    match p.captcha_png(&s.id) {
        Some(png) => s.respond(([(header::CONTENT_TYPE, "image/png")], png)),
        None => s.respond((axum::http::StatusCode::NOT_FOUND, "no captcha")),
    }
}

async fn login_post(State(p): State<Portal>, h: HeaderMap, Form(f): Form<F>) -> Response {
    if let Some(r) = p.fault("login_submit").await {
        return r;
    }
    let s = p.session(&h);
    if s.expired {
        let page = login_page(&p, &s.id, "Your session has expired. Please login again.");
        return s.respond(page);
    }
    let user = f.get("UserName").cloned().unwrap_or_default();
    let pass = f.get("Password").cloned().unwrap_or_default();
    if !p.check_captcha(
        &s.id,
        f.get("CaptchaCode").map(String::as_str).unwrap_or(""),
    ) {
        let page = login_page(
            &p,
            &s.id,
            "Invalid Captcha. Please enter the characters shown in the image.",
        );
        return s.respond(page);
    }
    let Some(tp) = p
        .shared
        .taxpayer_by_login(&user)
        .filter(|t| t.password == pass)
        .cloned()
    else {
        let page = login_page(&p, &s.id, "Invalid Username or Password");
        return s.respond(page);
    };
    let mut inner = p.shared.inner.lock().unwrap();
    if let Some(x) = inner.sessions.get_mut(&s.id) {
        x.pending_login = Some(tp.gstin.clone());
        x.authenticated = false;
        x.otp = None;
    }
    let _ = inner.send_otp(&p.shared, "production", &s.id, &tp.mobile, |c| format!("{c} is the OTP for login to e-Invoice System. Valid for 10 minutes. Do not share it with anyone. -NIC"), false);
    drop(inner);
    s.respond(redirect("/Home/VerifyLoginOTP"))
}

fn login_otp_page(p: &Portal, mobile: &str, error: &str) -> Html<String> {
    let err = if error.is_empty() {
        String::new()
    } else {
        format!("<div class=\"error\" id=\"lblError\">{}</div>", esc(error))
    };
    let body = format!(
        r##"<h2>Two Factor Authentication</h2>
<p class="info">OTP has been sent to your registered mobile number {}</p>{err}
<form method="post" action="/Home/VerifyLoginOTP">
<div class="row">Receive OTP via: <label style="min-width:0"><input type="radio" name="OtpMode" value="SMS" checked> SMS</label>
 <label style="min-width:0"><input type="radio" name="OtpMode" value="SANDES"> Sandes App</label>
 <label style="min-width:0"><input type="radio" name="OtpMode" value="SHIELD"> NIC-GST-Shield</label></div>
<div class="row"><label for="txtLoginOTP">Enter OTP</label><input id="txtLoginOTP" name="LoginOTP" maxlength="6" autocomplete="one-time-code"></div>
<div class="row"><button type="submit" id="btnVerifyLoginOTP" class="btn">Verify OTP</button></div>
</form>"##,
        esc(&mask_mobile(mobile))
    );
    render(
        p,
        Page {
            title: "Verify OTP",
            body,
            script: String::new(),
            gstin: None,
        },
    )
}

async fn login_otp_get(State(p): State<Portal>, h: HeaderMap) -> Response {
    if let Some(r) = p.fault("login_otp").await {
        return r;
    }
    let s = p.session(&h);
    let Some(g) = p.with(&s.id, |x| x.pending_login.clone()) else {
        return s.respond(redirect(if s.expired {
            "/Home/Login?expired=1"
        } else {
            "/Home/Login"
        }));
    };
    let mobile = p
        .shared
        .taxpayer(&g)
        .map(|t| t.mobile.clone())
        .unwrap_or_default();
    let page = login_otp_page(&p, &mobile, "");
    s.respond(page)
}

async fn login_otp_post(State(p): State<Portal>, h: HeaderMap, Form(f): Form<F>) -> Response {
    if let Some(r) = p.fault("login_otp").await {
        return r;
    }
    let s = p.session(&h);
    let Some(g) = p.with(&s.id, |x| x.pending_login.clone()) else {
        return s.respond(redirect("/Home/Login?expired=1"));
    };
    let mobile = p
        .shared
        .taxpayer(&g)
        .map(|t| t.mobile.clone())
        .unwrap_or_default();
    let check = p.shared.inner.lock().unwrap().check_otp(
        &p.shared,
        &s.id,
        f.get("LoginOTP").map(String::as_str).unwrap_or(""),
    );
    let msg = match check {
        OtpCheck::Ok => {
            let popup = {
                let mut inner = p.shared.inner.lock().unwrap();
                let tp = p.shared.taxpayer(&g).map(|t| t.tech_popup).unwrap_or(false);
                let show = tp && !inner.tech_popup_seen.contains(&g);
                if let Some(x) = inner.sessions.get_mut(&s.id) {
                    x.authenticated = true;
                    x.gstin = Some(g.clone());
                    x.pending_login = None;
                }
                show
            };
            return s.respond(redirect(if popup {
                "/UserAccount/TechPersonContacts"
            } else {
                "/Home/MainMenu"
            }));
        }
        OtpCheck::Wrong { left } => format!("Invalid OTP. You have {left} attempt(s) left."),
        OtpCheck::Expired => "OTP has expired. Please login again to get a new OTP.".to_string(),
        OtpCheck::Locked => {
            "Maximum OTP attempts exceeded. Please login again after some time.".to_string()
        }
        OtpCheck::Missing => return s.respond(redirect("/Home/Login")),
    };
    let page = login_otp_page(&p, &mobile, &msg);
    s.respond(page)
}

async fn tech_popup(State(p): State<Portal>, h: HeaderMap) -> Response {
    if let Some(r) = p.fault("tech_popup").await {
        return r;
    }
    let s = p.session(&h);
    let g = match require_login(&p, &s) {
        Ok(g) => g,
        Err(r) => return r,
    };
    p.shared
        .inner
        .lock()
        .unwrap()
        .tech_popup_seen
        .push(g.clone());
    let body = r##"<h2>Dash Board</h2>
<div class="modal" id="techPersonModal"><div class="box">
<h3>Contacts of Technical Person</h3>
<p>Please provide the contact details of the technical person handling e-Invoice integration.</p>
<table class="grid"><tr><th>Name</th><th>Mobile</th><th>e-Mail</th></tr>
<tr><td><input name="TechName"></td><td><input name="TechMobile"></td><td><input name="TechEmail"></td></tr></table>
<button class="btn" type="button" id="btnUpdateTech">Update</button>
<button class="btn btn-exit" type="button" id="btnExit" onclick="location.href='/Home/MainMenu'">Exit</button>
</div></div>"##
        .to_string();
    s.respond(render(
        &p,
        Page {
            title: "Contacts of Technical Person",
            body,
            script: String::new(),
            gstin: Some(g),
        },
    ))
}

async fn dashboard(State(p): State<Portal>, h: HeaderMap) -> Response {
    if let Some(r) = p.fault("dashboard").await {
        return r;
    }
    let s = p.session(&h);
    let g = match require_login(&p, &s) {
        Ok(g) => g,
        Err(r) => return r,
    };
    let body = r##"<h2>Dash Board</h2>
<div style="display:flex;gap:30px">
<table class="grid" id="tblGenerations"><tr><th colspan="2">Generations</th></tr><tr><td>Yesterday</td><td>0</td></tr><tr><td>During This month</td><td>0</td></tr></table>
<table class="grid" id="tblCancelled"><tr><th colspan="2">Cancelled</th></tr><tr><td>Yesterday</td><td>0</td></tr><tr><td>During This month</td><td>0</td></tr></table>
</div>
<p><b>Notes:</b></p><ul>
<li>The Bulk IRN generation facility has been enabled. You may download the tools from the portal under Help --&gt; Tools.</li>
<li>The e-Waybills generated in this portal will be reflected in the e-waybill system. To Update Part-B details, cancel or extend, you may login to e-waybill system with same credentials.</li></ul>"##
        .to_string();
    s.respond(render(
        &p,
        Page {
            title: "Dash Board",
            body,
            script: String::new(),
            gstin: Some(g),
        },
    ))
}

async fn logout(State(p): State<Portal>, h: HeaderMap) -> Response {
    let s = p.session(&h);
    p.shared.inner.lock().unwrap().sessions.remove(&s.id);
    redirect("/")
}

fn api_otp_page(p: &Portal, g: &str, alert: bool, error: &str) -> Html<String> {
    let err = if error.is_empty() {
        String::new()
    } else {
        format!("<div class=\"error\" id=\"lblError\">{}</div>", esc(error))
    };
    let body = format!(
        r##"<h2>API Registration</h2>{err}
<form method="post" action="/APIUserAccount/VerifyRegOTP">
<div class="row"><label for="txtOTP">Enter the OTP Sent to Your Mobile Number:</label><input id="txtOTP" name="OTP" maxlength="6" autocomplete="one-time-code"></div>
<div class="row"><button type="submit" id="btnVerifyOTP" class="btn">Verify OTP</button></div>
</form>"##
    );
    let delay = p
        .shared
        .faults
        .slow_alert
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let script = if alert {
        alert_script(
            "OTP has been sent to your Register mobile no., Please check and enter",
            delay,
        )
    } else {
        String::new()
    };
    render(
        p,
        Page {
            title: "API Registration",
            body,
            script,
            gstin: Some(g.to_string()),
        },
    )
}

async fn create_api_user(State(p): State<Portal>, h: HeaderMap) -> Response {
    if let Some(r) = p.fault("create_api_user").await {
        return r;
    }
    let s = p.session(&h);
    let g = match require_login(&p, &s) {
        Ok(g) => g,
        Err(r) => return r,
    };
    let mobile = p
        .shared
        .taxpayer(&g)
        .map(|t| t.mobile.clone())
        .unwrap_or_default();
    {
        let mut inner = p.shared.inner.lock().unwrap();
        if let Some(x) = inner.sessions.get_mut(&s.id) {
            x.api_otp_verified = false;
            x.otp = None;
        }
        let _ = inner.send_otp(&p.shared, "production", &s.id, &mobile, |c| format!("{c} is the OTP for API user registration on e-Invoice System. Do not share it with anyone. -NIC"), false);
    }
    let page = api_otp_page(&p, &g, true, "");
    s.respond(page)
}

fn registered_table(p: &Portal, g: &str) -> String {
    let inner = p.shared.inner.lock().unwrap();
    let rows: Vec<String> = inner
        .users
        .api_users
        .iter()
        .filter(|u| u.gstin == g)
        .map(|u| {
            format!(
                "<tr><td>{}</td><td>{}</td></tr>",
                esc(&u.provider),
                esc(&u.username)
            )
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    format!("<h4>GSPs / ERPs registered for this GSTIN</h4><table class=\"grid\" id=\"tblRegisteredGsp\"><tr><th>GSP / ERP</th><th>API User</th></tr>{}</table>", rows.concat())
}

const ROUTES: &[(&str, &str, &str)] = &[
    ("D", "rbDirect", "Directly"),
    ("G", "rbGSP", "Through GSP"),
    ("E", "rbERP", "Through ERP"),
    ("C", "rbOtherGstin", "Through Client-Id of other GSTIN"),
];

fn route_radios(selected: Option<&str>) -> String {
    let mut s =
        String::from("<div class=\"row\">DO you wish to Register your GSTIN for API Interface: ");
    for (v, id, label) in ROUTES {
        let chk = if Some(*v) == selected { " checked" } else { "" };
        s.push_str(&format!(r##"<label style="min-width:0"><input type="radio" id="{id}" name="RegType" value="{v}"{chk} onchange="document.getElementById('frmRoute').submit()"> {label}</label> "##));
    }
    s + "</div>"
}

fn route_page(p: &Portal, g: &str) -> Html<String> {
    let body = format!(
        r##"<h2>API Registration</h2>
<form method="post" action="/APIUserAccount/CheckApiUserReg" id="frmRoute">{}</form>
{}"##,
        route_radios(None),
        registered_table(p, g)
    );
    render(
        p,
        Page {
            title: "API Registration",
            body,
            script: String::new(),
            gstin: Some(g.to_string()),
        },
    )
}

async fn verify_reg_otp_get(State(p): State<Portal>, h: HeaderMap) -> Response {
    let s = p.session(&h);
    let g = match require_login(&p, &s) {
        Ok(g) => g,
        Err(r) => return r,
    };
    if p.with(&s.id, |x| x.api_otp_verified) {
        let page = route_page(&p, &g);
        s.respond(page)
    } else {
        s.respond(redirect("/APIUserAccount/CreateAPIUser"))
    }
}

async fn verify_reg_otp_post(State(p): State<Portal>, h: HeaderMap, Form(f): Form<F>) -> Response {
    if let Some(r) = p.fault("verify_reg_otp").await {
        return r;
    }
    let s = p.session(&h);
    let g = match require_login(&p, &s) {
        Ok(g) => g,
        Err(r) => return r,
    };
    let check = p.shared.inner.lock().unwrap().check_otp(
        &p.shared,
        &s.id,
        f.get("OTP").map(String::as_str).unwrap_or(""),
    );
    let msg = match check {
        OtpCheck::Ok => {
            p.with(&s.id, |x| x.api_otp_verified = true);
            let page = route_page(&p, &g);
            return s.respond(page);
        }
        OtpCheck::Wrong { left } => format!("Invalid OTP. You have {left} attempt(s) left."),
        OtpCheck::Expired => {
            "OTP has expired. Please click on Create API User to get a new OTP.".into()
        }
        OtpCheck::Locked => {
            "Maximum OTP attempts exceeded. Please try again after some time.".into()
        }
        OtpCheck::Missing => {
            "OTP has expired. Please click on Create API User to get a new OTP.".into()
        }
    };
    let page = api_otp_page(&p, &g, false, &msg);
    s.respond(page)
}

fn reg_form(p: &Portal, g: &str, reg_type: &str, f: &F, script: String) -> Html<String> {
    let title = ROUTES
        .iter()
        .find(|r| r.0 == reg_type)
        .map(|r| r.2)
        .unwrap_or("Directly");
    let chooser = match reg_type {
        "G" => format!(r##"<div class="row"><label for="ddlGSP">Select your GSP:</label><select id="ddlGSP" name="GspId">{}</select></div>"##, options(&p.shared.gsp_list(), None, "--Select--")),
        "E" => format!(r##"<div class="row"><label for="ddlERP">Select your ERP:</label><select id="ddlERP" name="ErpId">{}</select></div>"##, options(&p.shared.erp_list(), None, "--Select--")),
        "C" => r##"<div class="row"><label for="txtOtherGstin">GSTIN having Client-Id:</label><input id="txtOtherGstin" name="OtherGstin" maxlength="15"></div>"##.to_string(),
        _ => String::new(),
    };
    let _ = f;
    let body = format!(
        r##"<h2>API Registration {title}</h2>
<form method="post" action="/APIUserAccount/CheckApiUserReg" id="frmRoute">{radios}</form>
<form method="post" action="/APIUserAccount/CreateUserdata" id="frmCreate" onsubmit="return validateForm();">
<input type="hidden" name="RegType" value="{reg_type}">
{chooser}
<div class="row"><label for="txtUserName">Username:</label><span class="prefix">API_</span><input id="txtUserName" name="UserName" maxlength="15" autocomplete="off"></div>
<div class="row"><label for="txtPassword">Password:</label><input type="password" id="txtPassword" name="Password" maxlength="15" autocomplete="new-password" oninput="strength(this.value)"> <span id="pwdStrength" class="pwstrength"></span></div>
<div class="row"><label for="txtRePassword">Re-enter Password:</label><input type="password" id="txtRePassword" name="RePassword" maxlength="15" autocomplete="new-password"></div>
<div class="row"><button type="submit" id="btnSubmit" class="btn">Submit</button> <a class="btn btn-exit" id="btnExitReg" href="/Home/MainMenu">Exit</a></div>
</form>
{table}"##,
        radios = route_radios(Some(reg_type)),
        table = registered_table(p, g)
    );
    let script = format!(
        r##"<script>
function strength(v){{var s=0;if(v.length>=8)s++;if(/[A-Z]/.test(v))s++;if(/[a-z]/.test(v))s++;if(/[0-9]/.test(v))s++;if(/[@#$!%]/.test(v))s++;
var e=document.getElementById('pwdStrength');e.textContent=v.length==0?'':(s>=5?'Strong!':(s>=3?'Medium':'Weak'));e.style.color=s>=5?'green':'#c60';}}
function validateForm(){{if(document.getElementById('txtUserName').value.trim()===''){{alert('Please enter Username');return false;}}
if(document.getElementById('txtPassword').value!==document.getElementById('txtRePassword').value){{alert('Password and Re-enter Password do not match');return false;}}return true;}}
</script>{script}"##
    );
    render(
        p,
        Page {
            title: "API Registration",
            body,
            script,
            gstin: Some(g.to_string()),
        },
    )
}

async fn check_reg_get(State(p): State<Portal>, h: HeaderMap) -> Response {
    let s = p.session(&h);
    match require_login(&p, &s) {
        Ok(_) => s.respond(redirect("/APIUserAccount/VerifyRegOTP")),
        Err(r) => r,
    }
}

async fn check_reg_post(State(p): State<Portal>, h: HeaderMap, Form(f): Form<F>) -> Response {
    if let Some(r) = p.fault("check_api_user_reg").await {
        return r;
    }
    let s = p.session(&h);
    let g = match require_login(&p, &s) {
        Ok(g) => g,
        Err(r) => return r,
    };
    if !p.with(&s.id, |x| x.api_otp_verified) {
        return s.respond(redirect("/APIUserAccount/CreateAPIUser"));
    }
    let t = f.get("RegType").cloned().unwrap_or_else(|| "G".into());
    let page = reg_form(&p, &g, &t, &f, String::new());
    s.respond(page)
}

fn pick(list: &[&str], idx: Option<&String>) -> Option<String> {
    let i: usize = idx?.parse().ok()?;
    list.get(i.checked_sub(1)?).map(|s| s.to_string())
}

async fn create_user(State(p): State<Portal>, h: HeaderMap, Form(f): Form<F>) -> Response {
    if let Some(r) = p.fault("create_user").await {
        return r;
    }
    let s = p.session(&h);
    let g = match require_login(&p, &s) {
        Ok(g) => g,
        Err(r) => return r,
    };
    if !p.with(&s.id, |x| x.api_otp_verified) {
        return s.respond(redirect("/APIUserAccount/CreateAPIUser"));
    }
    let t = f.get("RegType").cloned().unwrap_or_default();
    let fail =
        |msg: &str| -> Response { s.respond(reg_form(&p, &g, &t, &f, alert_script(msg, 0))) };
    let provider = match t.as_str() {
        "G" => match pick(&p.shared.gsp_list(), f.get("GspId")) {
            Some(x) => x,
            None => return fail("Please select GSP"),
        },
        "E" => match pick(&p.shared.erp_list(), f.get("ErpId")) {
            Some(x) => x,
            None => return fail("Please select ERP"),
        },
        "C" => {
            let other = f
                .get("OtherGstin")
                .map(|x| x.trim().to_uppercase())
                .unwrap_or_default();
            if validate_gstin(&other, GstinStrictness::Strict).is_err()
                || p.shared.taxpayer(&other).is_none()
            {
                return fail("Invalid GSTIN. Please enter a valid GSTIN having Client-Id.");
            }
            if other[2..12] != g[2..12] {
                return fail("Invalid GSTIN. The GSTIN should belong to the same PAN.");
            }
            if other == g {
                return fail("Invalid GSTIN. Enter a GSTIN other than your own.");
            }
            format!("Client-Id of {other}")
        }
        "D" => "Direct".to_string(),
        _ => return fail("Please select the type of registration"),
    };
    let name = f
        .get("UserName")
        .map(|x| x.trim().to_string())
        .unwrap_or_default();
    if let Err(e) = validate_api_username(&name) {
        return fail(&format!("Invalid Username: username {e}"));
    }
    let pass = f.get("Password").cloned().unwrap_or_default();
    if let Err(e) = validate_password(&pass) {
        return fail(&format!("Password {e}"));
    }
    if f.get("RePassword") != Some(&pass) {
        return fail("Password and Re-enter Password do not match");
    }
    let username = format!("API_{name}");
    let mut inner = p.shared.inner.lock().unwrap();
    if inner
        .users
        .api_users
        .iter()
        .any(|u| u.gstin == g && u.provider == provider)
    {
        drop(inner);
        return fail("Credentials are already created for this GSTIN with the selected GSP/ERP.");
    }
    if inner
        .users
        .api_users
        .iter()
        .any(|u| u.username.eq_ignore_ascii_case(&username))
    {
        drop(inner);
        return fail("User Name already exists. Please choose another Username.");
    }
    inner.users.api_users.push(ApiUser {
        gstin: g.clone(),
        provider: provider.clone(),
        username: username.clone(),
        password_hash: hash_password(&pass),
    });
    p.shared.persist(&inner);
    let key = format!("{g}|{provider}");
    let spurious = p.shared.faults.spurious_already_created && !inner.spurious_done.contains(&key);
    if spurious {
        inner.spurious_done.push(key);
    }
    inner.bump("api_users_created");
    drop(inner);
    if spurious {
        // Seed 002: the user is created, yet the portal says it already was.
        return fail("Credentials are already created for this GSTIN with the selected GSP/ERP.");
    }
    let body = format!(
        r##"<h2>API Registration</h2><p class="info" id="lblResult">API user registration completed.</p>{}"##,
        registered_table(&p, &g)
    );
    let script = alert_script(
        &format!("Api user {username} has been created successfully"),
        0,
    );
    s.respond(render(
        &p,
        Page {
            title: "API Registration",
            body,
            script,
            gstin: Some(g),
        },
    ))
}
