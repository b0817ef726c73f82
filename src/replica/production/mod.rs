//! The production portal (einvoice1.gst.gov.in): login with captcha, the 2FA
//! OTP, the technical-person popup, the dashboard and Create API User.
//! Paths, ids and texts follow portal-facts.md; see fixtures/README.md.
//! `login` holds the login and its second factor, `api_user` the Create
//! API User pages; this file the shell, menus and dashboard.

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

pub(super) type F = HashMap<String, String>;
mod api_user;
mod login;

use api_user::*;
use login::*;

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

pub(super) struct Page<'a> {
    title: &'a str,
    body: String,
    script: String,
    gstin: Option<String>,
}

pub(super) fn render(p: &Portal, page: Page) -> Html<String> {
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

pub(super) const MENU: &str = r##"<ul class="menu" id="leftMenu">
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

pub(super) async fn home(State(p): State<Portal>, h: HeaderMap) -> Response {
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
pub(super) async fn gsp_list(State(p): State<Portal>, h: HeaderMap) -> Response {
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

pub(super) async fn tech_popup(State(p): State<Portal>, h: HeaderMap) -> Response {
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

pub(super) async fn dashboard(State(p): State<Portal>, h: HeaderMap) -> Response {
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

pub(super) async fn logout(State(p): State<Portal>, h: HeaderMap) -> Response {
    let s = p.session(&h);
    p.shared.inner.lock().unwrap().sessions.remove(&s.id);
    redirect("/")
}
