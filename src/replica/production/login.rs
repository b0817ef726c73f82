//! The login form and its captcha. With `login-on-home` (evidence 1) the
//! form is part of the home page, fields `UserLogin.UserName` /
//! `UserLogin.Password` / `UserLogin.Salt`, the captcha from
//! `/get-captcha-image`, the password hashed in the browser, and errors
//! as alerts; otherwise a login page of its own at `/Home/Login`.

use super::*;
use crate::replica::hash;
use axum::extract::Form;
use axum::http::header;

const LOGIN_HASH_JS: &str = include_str!("../../../fixtures/pages/login-hash.js");
const EXPIRED: &str = "Your session has expired. Please login again.";
const BAD_CAPTCHA: &str = "Invalid Captcha. Please enter the characters shown in the image.";

/// The username row (label and box) as the drift in force has it; `name`
/// is the field's usual name. `renamed-id` changes the id (the name
/// stays); `renamed-field` changes id, name and label alike.
fn user_row(p: &Portal, name: &str) -> String {
    let renamed_name = match name.split_once('.') {
        Some((form, _)) => format!("{form}.LoginId"),
        None => "LoginId".to_string(),
    };
    let (id, name, label) = match p.shared.drift {
        Some(Drift::RenamedId) => ("txtLoginId", name.to_string(), "User name"),
        Some(Drift::RenamedField) => ("txtLoginId", renamed_name, "Login ID"),
        _ => ("txtUserName", name.to_string(), "User name"),
    };
    format!(
        r##"<div class="row"><label for="{id}">{label}</label><input id="{id}" name="{name}" maxlength="15" autocomplete="off"></div>"##
    )
}

/// The evidence layout's form, inside the home page (hidden until the
/// Login button is clicked, unless `shown`).
pub(super) fn login_form(p: &Portal, sid: &str, shown: bool) -> String {
    let salt = p.shared.inner.lock().unwrap().new_id(16);
    let csrf = p.with(sid, |s| {
        s.salt = salt.clone();
        s.csrf.clone()
    });
    let display = if shown { "block" } else { "none" };
    format!(
        r##"<div id="divLogin" style="display:{display}"><h2>E-INVOICE SYSTEM LOGIN</h2>
<form method="post" action="/Home/Login" id="frmLogin" onsubmit="return __hashLogin(this);">
<input type="hidden" name="__RequestVerificationToken" value="{csrf}">
<input type="hidden" id="UserLogin_Salt" name="UserLogin.Salt" value="{salt}">
{user}
<div class="row"><label for="txt_password">Password</label><input type="password" id="txt_password" name="UserLogin.Password" maxlength="64" autocomplete="off"></div>
<div class="row"><img id="captcha_image" src="/get-captcha-image" alt="captcha" width="180" height="60">
 <a href="javascript:void(0)" id="lnkRefreshCaptcha" title="Refresh Captcha" onclick="document.getElementById('captcha_image').src='/get-captcha-image?'+Date.now();">&#x21bb;</a></div>
<div class="row"><label for="CaptchaCode">ENTER ABOVE CAPTCHA</label><input id="CaptchaCode" name="CaptchaCode" maxlength="6" autocomplete="off"></div>
<div class="row"><button type="submit" class="btn btnlogin">Login</button></div>
<div class="row"><a href="/Home/ForgotUserPwd" id="lnkForgotPassword">Forgot Password?</a> &nbsp; <a href="/Home/ForgotUserName" id="lnkForgotUsername">Forgot Username ?</a></div>
</form></div>
<script>{LOGIN_HASH_JS}</script>"##,
        user = user_row(p, "UserLogin.UserName")
    )
}

/// The legacy layout's login page, with its error as page text.
pub(super) fn login_page(p: &Portal, sid: &str, error: &str) -> Html<String> {
    let serial = p.new_captcha(sid);
    let csrf = p.with(sid, |s| s.csrf.clone());
    let (err, script) = error_parts(p, error);
    let body = format!(
        r##"<h2>E-INVOICE SYSTEM LOGIN</h2>{err}
<form method="post" action="/Home/Login" id="frmLogin">
<input type="hidden" name="__RequestVerificationToken" value="{csrf}">
{user}
<div class="row"><label for="txt_password">Password</label><input type="password" id="txt_password" name="Password" maxlength="15" autocomplete="off"></div>
<div class="row"><img id="captcha_image" src="/Home/Captcha?v={serial}" alt="captcha" width="180" height="60">
 <a href="/Home/Login" title="Refresh captcha">&#x21bb;</a></div>
<div class="row"><label for="CaptchaCode">ENTER ABOVE CAPTCHA</label><input id="CaptchaCode" name="CaptchaCode" maxlength="6" autocomplete="off"></div>
<div class="row"><button type="submit" class="btn btnlogin">Login</button></div>
<div class="row"><a href="/Home/ForgotUserPwd" id="lnkForgotPassword">Forgot Password?</a> &nbsp; <a href="/Home/ForgotUserName" id="lnkForgotUsername">Forgot Username ?</a></div>
</form>"##,
        user = user_row(p, "UserName")
    );
    render(
        p,
        Page {
            title: "Login",
            body,
            script,
            gstin: None,
        },
    )
}

/// The login form again with an error, as the layout shows both.
fn login_again(p: &Portal, sid: &str, error: &str) -> Html<String> {
    match p.shared.layout.login_on_home {
        true => home_page(p, sid, true, error_parts(p, error).1),
        false => login_page(p, sid, error),
    }
}

pub(super) async fn login_get(
    State(p): State<Portal>,
    h: HeaderMap,
    Query(q): Query<F>,
) -> Response {
    if let Some(r) = p.fault("login").await {
        return r;
    }
    let s = p.session(&h);
    let msg = match q.contains_key("expired") || s.expired {
        true => EXPIRED,
        false => "",
    };
    let page = login_again(&p, &s.id, msg);
    s.respond(page)
}

/// The legacy captcha image: the session's current captcha.
pub(super) async fn captcha(State(p): State<Portal>, h: HeaderMap) -> Response {
    let s = p.session(&h);
    captcha_response(&p, &s)
}

/// `/get-captcha-image`: every request draws a new captcha (evidence 1).
pub(super) async fn new_captcha_image(State(p): State<Portal>, h: HeaderMap) -> Response {
    let s = p.session(&h);
    p.new_captcha(&s.id);
    captcha_response(&p, &s)
}

fn captcha_response(p: &Portal, s: &crate::replica::SessionRef) -> Response {
    match p.captcha_png(&s.id) {
        Some(png) => s.respond(([(header::CONTENT_TYPE, "image/png")], png)),
        None => s.respond((axum::http::StatusCode::NOT_FOUND, "no captcha")),
    }
}

/// The login the form posted, if its password is right: plain (legacy)
/// or hashed with the salt this session's form was given (evidence).
fn posted_login(p: &Portal, sid: &str, f: &F) -> Option<crate::replica::Taxpayer> {
    let field = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| f.get(*n))
            .cloned()
            .unwrap_or_default()
    };
    let user = field(&[
        "UserLogin.UserName",
        "UserLogin.LoginId",
        "UserName",
        "LoginId",
    ]);
    let (tp, digest) = p.shared.login(&user)?;
    let ok = match p.shared.layout.login_on_home {
        true => {
            let salt = p.with(sid, |s| s.salt.clone());
            !salt.is_empty()
                && field(&["UserLogin.Salt"]) == salt
                && field(&["UserLogin.Password"]) == hash::salted(&digest, &salt)
        }
        false => hash::login_digest(&field(&["Password"])) == digest,
    };
    ok.then_some(tp)
}

pub(super) async fn login_post(
    State(p): State<Portal>,
    h: HeaderMap,
    Form(f): Form<F>,
) -> Response {
    let resp = login_answer(&p, &h, f).await;
    p.count_login(&h, resp)
}

async fn login_answer(p: &Portal, h: &HeaderMap, f: F) -> Response {
    if let Some(r) = p.fault("login_submit").await {
        return r;
    }
    let s = p.session(h);
    if s.expired {
        let page = login_again(p, &s.id, EXPIRED);
        return s.respond(page);
    }
    let code = f.get("CaptchaCode").map(String::as_str).unwrap_or("");
    if !p.check_captcha(&s.id, code) {
        let page = login_again(p, &s.id, BAD_CAPTCHA);
        return s.respond(page);
    }
    let Some(tp) = posted_login(p, &s.id, &f) else {
        let msg = match p.shared.layout.alert_errors {
            true => "Invalid Login Credentials. Please check your username and password.",
            false => "Invalid Username or Password",
        };
        let page = login_again(p, &s.id, msg);
        return s.respond(page);
    };
    start_second_factor(p, &s.id, &tp);
    s.respond(redirect("/Home/VerifyLoginOTP"))
}
