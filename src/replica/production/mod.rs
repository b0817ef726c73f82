//! The production portal (einvoice1.gst.gov.in): login with captcha, the
//! second factor, the technical-person notice, the dashboard and Create
//! API User. Paths, ids and texts follow portal-facts.md; the layout
//! (`--layout`) picks between the behaviours public evidence shows and
//! the ones first guessed; fixtures/README.md gives each one's source.
//! `login` holds the login form, `second_factor` the 2FA page, `api_user`
//! the Create API User pages, `api_form` their option forms,
//! `interrupt` the modals and alerts that may show at any time; this file
//! the shell, menus, home and dashboard.

use super::config::Drift;
use super::html::{esc, fill, js, PRODUCTION_SHELL};
use super::state::mask_mobile;
use super::{redirect, Portal};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::collections::HashMap;

pub(super) type F = HashMap<String, String>;
mod api_form;
mod api_user;
mod echo;
pub use echo::tricks_page;
mod interrupt;
mod login;
mod registration;
mod second_factor;

use api_user::*;
use login::*;
use second_factor::*;

pub fn router() -> Router<Portal> {
    Router::new()
        .route("/", get(home))
        .route("/Home/Notice", get(notice))
        .route("/Others/GSPList", get(gsp_list))
        .route("/Home/Login", get(login_get).post(login_post))
        .route("/Home/Captcha", get(captcha))
        .route("/get-captcha-image", get(new_captcha_image))
        .route(
            "/Home/VerifyLoginOTP",
            get(login_otp_get).post(login_otp_post),
        )
        .route("/Home/SendLoginOTP", post(send_login_otp))
        .route("/UserAccount/TechPersonContacts", get(tech_popup))
        .route("/UserAccount/CloseTechPerson", post(close_tech_notice))
        .route("/Home/MainMenu", get(dashboard))
        .route("/Home/AadhaarLink", get(aadhaar_link))
        .route("/Home/KeepSession", get(keep_session))
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
        .route("/APIUserAccount/CreateUserdata", post(create_user))
        .route(
            registration::PORTAL_LOGIN,
            get(registration::portal_login_get).post(registration::portal_login_post),
        )
        .route(
            registration::FORGOT_PASSWORD,
            get(registration::forgot_password_get).post(registration::forgot_password_post),
        )
        .route(
            registration::FORGOT_USERNAME,
            get(registration::forgot_username_get).post(registration::forgot_username_post),
        )
        .route(
            registration::ENABLEMENT,
            get(registration::enablement_get).post(registration::enablement_post),
        )
}

pub(super) struct Page<'a> {
    title: &'a str,
    body: String,
    script: String,
    gstin: Option<String>,
}

/// A page in the portal's shell; pages after login get the user bar and
/// the menu (and, with the `interruptions` fault, maybe an interruption).
pub(super) fn render(p: &Portal, page: Page) -> Html<String> {
    let (userbar, menu, interruption) = match &page.gstin {
        Some(g) => {
            let tp = p.shared.taxpayer(g);
            let name = tp.map(|t| t.legal_name.clone()).unwrap_or_default();
            let enabled = p.shared.enabled(g);
            (
                format!("<div class=\"userbar\">GSTIN: {} - Name: {} &nbsp;|&nbsp; Account: Main User &nbsp;|&nbsp; <a href=\"/Home/Logout\" id=\"lnkLogout\">Logout</a></div>", esc(g), esc(&name)),
                menu(enabled),
                interrupt::maybe(p) + &interrupt::stuck(p) + &interrupt::on_create_link(p),
            )
        }
        None => (String::new(), String::new(), String::new()),
    };
    Html(fill(
        PRODUCTION_SHELL,
        &[
            ("title", page.title),
            ("userbar", &userbar),
            ("menu", &menu),
            ("body", &page.body),
            (
                "script",
                &format!(
                    "{}{interruption}<script>{}</script>",
                    page.script,
                    super::STORAGE_MARK_JS
                ),
            ),
        ],
    ))
}

/// The left menu; a GSTIN not enabled for e-invoicing has no API
/// Registration (it must use Registration → e-Invoice Enablement first).
fn menu(enabled: bool) -> String {
    let api = match enabled {
        true => {
            r##"<li><a href="#" id="menuApiRegistration" onclick="toggleMenu('subApiRegistration');return false;">API Registration</a>
  <ul id="subApiRegistration" style="display:none">
    <li><a href="#">IP Whitelisting</a></li>
    <li><a href="#" id="menuUserCredentials" onclick="toggleMenu('subUserCredentials');return false;">User Credentials</a>
      <ul id="subUserCredentials" style="display:none">
        <li><a href="/APIUserAccount/CreateAPIUser">Create API User</a></li>
        <li><a href="#">Change API Password</a></li>
      </ul></li>
  </ul></li>"##
        }
        false => {
            r##"<li><a href="#">Registration</a><ul><li><a href="/Registration/EInvoiceEnablement" id="lnkEnablement">e-Invoice Enablement</a></li></ul></li>"##
        }
    };
    format!(
        r##"<ul class="menu" id="leftMenu">
<li><a href="#">e-Invoice</a></li>
<li><a href="#">MIS Reports</a></li>
<li><a href="#">User Management</a></li>
{api}
<li><a href="#">Change Password</a></li>
<li><a href="#">Feedback on GePP</a></li>
<li><a href="#">Update Contact Details</a></li>
<li><a href="#">e-Way Bill</a></li>
</ul>
<script>function toggleMenu(id){{var e=document.getElementById(id);e.style.display=e.style.display==='none'?'block':'none';}}</script>"##
    )
}

pub(super) fn alert_script(text: &str, delay_ms: u128) -> String {
    if delay_ms == 0 {
        format!(
            "<script>window.addEventListener('load',function(){{alert({});}});</script>",
            js(text)
        )
    } else {
        format!("<script>window.addEventListener('load',function(){{setTimeout(function(){{alert({});}},{delay_ms});}});</script>", js(text))
    }
}

/// Sends an OTP by SMS to the mobile the GST records hold for `gstin`.
pub(super) fn sms_otp(
    p: &Portal,
    inner: &mut crate::replica::state::Inner,
    (sid, gstin): (&str, &str),
    text_of: impl Fn(&str) -> String,
    resend: bool,
) -> Result<(), &'static str> {
    let mobile = p.shared.taxpayer(gstin).map(|t| t.mobile.clone());
    let mobile = mobile.unwrap_or_default();
    inner.send_otp(
        &p.shared,
        "production",
        "sms",
        sid,
        &mobile,
        text_of,
        resend,
    )
}

/// An error as the layout shows them: a JS alert (evidence 2), or a
/// line of red text. Returns (body part, script part).
pub(super) fn error_parts(p: &Portal, error: &str) -> (String, String) {
    match (error.is_empty(), p.shared.layout.alert_errors) {
        (true, _) => (String::new(), String::new()),
        (false, true) => (String::new(), alert_script(error, 0)),
        (false, false) => (
            format!("<div class=\"error\" id=\"lblError\">{}</div>", esc(error)),
            String::new(),
        ),
    }
}

/// The logged-in GSTIN, or a redirect to the login page saying the session expired.
pub(super) fn require_login(p: &Portal, s: &super::SessionRef) -> Result<String, Response> {
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

/// The home page's Login button, as the drift in force has it.
fn login_button(p: &Portal) -> &'static str {
    let on_home = p.shared.layout.login_on_home;
    match p.shared.drift {
        Some(Drift::RelabelledButton) => {
            r##"<button id="btnSignIn" class="btn" type="button" onclick="location.href='/Home/Login'">Sign In</button>"##
        }
        Some(Drift::Interstitial) => {
            r##"<button id="btnLogin" class="btn" type="button" onclick="location.href='/Home/Notice'">Login</button>"##
        }
        _ if on_home => {
            r##"<button id="btnLogin" class="btn" type="button" onclick="document.getElementById('divLogin').style.display='block'">Login</button>"##
        }
        _ => {
            r##"<button id="btnLogin" class="btn" type="button" onclick="location.href='/Home/Login'">Login</button>"##
        }
    }
}

/// The home page; with `login-on-home` it holds the login form, shown
/// by the Login button (or at once after a failed login: `shown`).
pub(super) fn home_page(p: &Portal, sid: &str, shown: bool, script: String) -> Html<String> {
    let list = match p.shared.layout.gsp_list_page {
        true => {
            r##"<p><a id="lnkGspList" href="/Others/GSPList">List of GSPs</a> integrated with the e-Invoice System</p>"##
        }
        false => "",
    };
    let form = match p.shared.layout.login_on_home {
        true => login_form(p, sid, shown),
        false => String::new(),
    };
    let body = format!(
        r##"<nav class="top" style="background:#1b3f73;padding:6px"><a href="/">Home</a><a href="#">Laws</a><a href="#">Help</a><a href="#">Search</a><a href="#">Contact Us</a><a href="#" id="menuRegistration" onclick="var m=document.getElementById('subRegistration');m.style.display=m.style.display==='none'?'block':'none';return false;">Registration</a><a href="#">Statistics</a></nav>
<ul id="subRegistration" style="display:none"><li><a href="/Registration/PortalLogin" id="lnkPortalLogin">Portal Login</a></li><li><a href="/Registration/EInvoiceEnablement" id="lnkEnablement">e-Invoice Enablement</a></li></ul>
<h2>e-Invoice System</h2>
<p><b>Dear Taxpayers,</b> We are happy to announce that second portal of e-Invoice System (https://einvoice2.gst.gov.in) will be operational from 1st April 2023.</p>
<h3>LATEST UPDATES</h3><ul>
<li>04 DEC 2023 &bull; At least 6 digit HSN will be mandatory in e-Invoices, for taxpayers whose AATO is 5Cr and above, from 15th of December 2023.</li>
<li>11 SEP 2023 &bull; 2-Factor Authentication for all taxpayers with AATO above Rs 20 Cr is mandatory from 20th November 2023.</li></ul>
{list}
<p>Enter your username and password after clicking on the login button</p>
{button}
{form}"##,
        button = login_button(p)
    );
    render(
        p,
        Page {
            title: "Home",
            body,
            script,
            gstin: None,
        },
    )
}

pub(super) async fn home(State(p): State<Portal>, h: HeaderMap, Query(q): Query<F>) -> Response {
    if let Some(r) = p.fault("home").await {
        return r;
    }
    let s = p.session(&h);
    let page = home_page(&p, &s.id, q.contains_key("login"), String::new());
    s.respond(page)
}

/// The public list of GSPs [guess: a public page listing the GSPs the
/// portal offers; no public trace of it, so only `gsp-list-page` has it].
pub(super) async fn gsp_list(State(p): State<Portal>, h: HeaderMap) -> Response {
    if !p.shared.layout.gsp_list_page {
        return (axum::http::StatusCode::NOT_FOUND, "Page not found").into_response();
    }
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
pub(super) async fn notice(State(p): State<Portal>, h: HeaderMap) -> Response {
    let s = p.session(&h);
    let next = match p.shared.layout.login_on_home {
        true => "/?login=1",
        false => "/Home/Login",
    };
    let body = format!(
        r##"<h2>Important Notice</h2><p>Taxpayers are advised to keep their registered mobile number updated for OTP based login.</p>
<a class="btn" id="btnContinue" href="{next}">Continue</a>"##
    );
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

/// The "Contacts of Technical Person" notice; `modal` closes in place,
/// otherwise Exit goes on to the dashboard.
pub(super) fn tech_notice(modal: bool) -> String {
    let exit = match modal {
        true => "document.getElementById('techPersonModal').remove();var x=new XMLHttpRequest();x.open('POST','/UserAccount/CloseTechPerson');x.send();",
        false => "location.href='/Home/MainMenu'",
    };
    format!(
        r##"<div class="modal" id="techPersonModal"><div class="box">
<h3>Contacts of Technical Person</h3>
<p>Please provide the contact details of the technical person handling e-Invoice integration.</p>
<table class="grid"><tr><th>Name</th><th>Mobile</th><th>e-Mail</th></tr>
<tr><td><input name="TechName" aria-label="Name"></td><td><input name="TechMobile" aria-label="Mobile"></td><td><input name="TechEmail" aria-label="e-Mail"></td></tr></table>
<button class="btn" type="button" id="btnUpdateTech">Update</button>
<button class="btn btn-exit" type="button" id="btnExit" onclick="{exit}">Exit</button>
</div></div>"##
    )
}

/// Whether the GSTIN is still to see the technical-person notice (once
/// per GSTIN per replica process); seeing it now counts.
fn first_tech_notice(p: &Portal, g: &str) -> bool {
    let wants = p.shared.taxpayer(g).is_some_and(|t| t.tech_popup);
    let mut inner = p.shared.inner.lock().unwrap();
    if !wants || inner.tech_popup_seen.iter().any(|x| x == g) {
        return false;
    }
    inner.tech_popup_seen.push(g.to_string());
    true
}

/// The modal's Exit: the notice stays away for the rest of the session.
pub(super) async fn close_tech_notice(State(p): State<Portal>, h: HeaderMap) -> Response {
    let s = p.session(&h);
    p.with(&s.id, |x| x.tech_notice_closed = true);
    s.respond("ok")
}

/// Legacy: the notice as a page of its own after login.
pub(super) async fn tech_popup(State(p): State<Portal>, h: HeaderMap) -> Response {
    if let Some(r) = p.fault("tech_popup").await {
        return r;
    }
    let s = p.session(&h);
    let g = match require_login(&p, &s) {
        Ok(g) => g,
        Err(r) => return r,
    };
    first_tech_notice(&p, &g);
    let body = format!("<h2>Dash Board</h2>\n{}", tech_notice(false));
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

/// Where a login goes after its second factor.
pub(super) fn after_login(p: &Portal, g: &str) -> &'static str {
    let legacy_popup = !p.shared.layout.notice_modal
        && p.shared.taxpayer(g).is_some_and(|t| t.tech_popup)
        && !p
            .shared
            .inner
            .lock()
            .unwrap()
            .tech_popup_seen
            .iter()
            .any(|x| x == g);
    match legacy_popup {
        true => "/UserAccount/TechPersonContacts",
        false => "/Home/MainMenu",
    }
}

pub(super) async fn dashboard(State(p): State<Portal>, h: HeaderMap) -> Response {
    if let Some(r) = p.fault("dashboard").await {
        return r;
    }
    let s = p.session(&h);
    let g = match require_login(&p, &s) {
        Ok(g) => g,
        Err(r) => return r,
    };
    let tp = p.shared.taxpayer(&g);
    let enabled = p.shared.enabled(&g);
    let notice = match enabled {
        true => "",
        false => {
            r##"<div class="error" id="lblEnablement">Your GSTIN is not enabled for e-Invoicing. If your aggregate turnover is above Rs.5 Crore but not enabled for e-Invoicing, please enable it through Registration -&gt; e-Invoice Enablement.</div>"##
        }
    };
    // The modal shows on every dashboard until its Exit is pressed.
    let closed = p.with(&s.id, |x| x.tech_notice_closed);
    let wants = tp.is_some_and(|t| t.tech_popup);
    let modal = match p.shared.layout.notice_modal && wants && !closed {
        true => tech_notice(true),
        false => String::new(),
    };
    let body = format!(
        r##"<h2>Dash Board</h2>{notice}
<div style="display:flex;gap:30px">
<table class="grid" id="tblGenerations"><tr><th colspan="2">Generations</th></tr><tr><td>Yesterday</td><td>0</td></tr><tr><td>During This month</td><td>0</td></tr></table>
<table class="grid" id="tblCancelled"><tr><th colspan="2">Cancelled</th></tr><tr><td>Yesterday</td><td>0</td></tr><tr><td>During This month</td><td>0</td></tr></table>
</div>
<p><b>Notes:</b></p><ul>
<li>The Bulk IRN generation facility has been enabled. You may download the tools from the portal under Help --&gt; Tools.</li>
<li>The e-Waybills generated in this portal will be reflected in the e-waybill system. To Update Part-B details, cancel or extend, you may login to e-waybill system with same credentials.</li></ul>
{modal}"##
    );
    s.respond(render(
        &p,
        Page {
            title: "Dash Board",
            body,
            script: format!("{}{}", unknown_confirm(&p), session_confirm(&p)),
            gstin: Some(g),
        },
    ))
}

/// The `unknown_confirm` fault: a confirm no flow knows, asked as the
/// dashboard loads [guess]. OK opens the Aadhaar page; Cancel stays.
fn unknown_confirm(p: &Portal) -> String {
    if !p.shared.faults.unknown_confirm {
        return String::new();
    }
    p.shared.inner.lock().unwrap().bump("unknown_confirm.asked");
    r##"<script>window.addEventListener('load',function(){if(confirm("Link your Aadhaar with this GSTIN now? Click OK to continue."))location.href='/Home/AadhaarLink';});</script>"##.into()
}

/// The `session_confirm` fault: a session-expiry question at a random
/// moment [guess in wording and kind]. OK keeps the session; Cancel logs out.
fn session_confirm(p: &Portal) -> String {
    if !p.shared.faults.session_confirm {
        return String::new();
    }
    let delay = {
        let mut inner = p.shared.inner.lock().unwrap();
        inner.bump("session_confirm.asked");
        rand::Rng::random_range(&mut inner.rng, 0..=1500u64)
    };
    format!(
        r##"<script>window.addEventListener('load',function(){{setTimeout(function(){{if(confirm("Your session will time out in 2 minutes due to inactivity. Do you want to continue the session?"))fetch('/Home/KeepSession');else location.href='/Home/Logout';}},{delay});}});</script>"##
    )
}

/// OK on the `session_confirm` question: counted.
async fn keep_session(State(p): State<Portal>) -> &'static str {
    p.shared.inner.lock().unwrap().bump("session_confirm.kept");
    "ok"
}

/// Where OK on the `unknown_confirm` dialog leads: counted, so tests can
/// tell it was agreed to.
async fn aadhaar_link(State(p): State<Portal>, h: HeaderMap) -> Response {
    p.shared
        .inner
        .lock()
        .unwrap()
        .bump("unknown_confirm.accepted");
    let s = p.session(&h);
    s.respond(render(
        &p,
        Page {
            title: "Aadhaar Authentication",
            body: "<h2>Aadhaar Authentication</h2><p>Link Aadhaar.</p>".into(),
            script: String::new(),
            gstin: None,
        },
    ))
}

pub(super) async fn logout(State(p): State<Portal>, h: HeaderMap) -> Response {
    let s = p.session(&h);
    let mut inner = p.shared.inner.lock().unwrap();
    inner.sessions.remove(&s.id);
    inner.bump("logouts");
    redirect("/")
}
