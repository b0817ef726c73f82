//! Registration → Portal Login: a GSTIN new to the e-Invoice portal gets
//! its login. The ids (`#txtGstin`, `#txtCaptchaCode`, `#btngo`,
//! `#btnSendOPT` (sic), `#txtOtp`, `#btnVerifyOTP`, `#txtUserName`,
//! `#txtForgotPassword` (sic), `#txtConfirmPassword`, `#btnSave`) and the
//! alert after each step are public evidence; the path, the alerts'
//! words and the password rules (the API password's) are guesses.

use super::*;
use crate::replica::hash;
use crate::replica::state::{mask_mobile, OtpCheck, PortalLogin, Signup};
use crate::rules::validate_password;
use axum::extract::Form;

pub(super) const PATH: &str = "/Registration/PortalLogin";
const BAD_CAPTCHA: &str = "Invalid Captcha. Please enter the characters shown in the image.";
const UNKNOWN: &str = "GSTIN is not found in the GST Common Portal. Please check the GSTIN.";
const HAS_LOGIN: &str = "This GSTIN is already registered in the e-Invoice portal. Please login with your username and password.";
const OTP_SENT: &str = "OTP has been sent to your GST registered mobile number.";
const OTP_OK: &str = "OTP verified successfully. Please create your username and password.";
const SAVED: &str = "Your username and password have been created successfully. Please login to the e-Invoice portal.";

/// What a press of one of the page's buttons asks for.
enum Cmd {
    Go,
    SendOtp,
    Verify,
    Save,
}

impl Cmd {
    fn of(f: &F) -> Option<Cmd> {
        match f.get("cmd").map(String::as_str) {
            Some("go") => Some(Cmd::Go),
            Some("sendotp") => Some(Cmd::SendOtp),
            Some("verify") => Some(Cmd::Verify),
            Some("save") => Some(Cmd::Save),
            _ => None,
        }
    }
}

pub(super) async fn get_page(State(p): State<Portal>, h: HeaderMap) -> Response {
    let s = p.session(&h);
    p.with(&s.id, |x| x.signup = Signup::Form);
    let page = page(&p, &s.id, "", "");
    s.respond(page)
}

pub(super) async fn post_page(State(p): State<Portal>, h: HeaderMap, Form(f): Form<F>) -> Response {
    let s = p.session(&h);
    let stage = p.with(&s.id, |x| x.signup.clone());
    let answer = match (Cmd::of(&f), stage) {
        (Some(Cmd::Go), _) => go(&p, &s.id, &f),
        (Some(Cmd::SendOtp), Signup::Found(g) | Signup::OtpSent(g)) => send_otp(&p, &s.id, &g),
        (Some(Cmd::Verify), Signup::OtpSent(g)) => verify(&p, &s.id, &g, &f),
        (Some(Cmd::Save), Signup::Verified(g)) => return save(&p, &s, &g, &f),
        _ => Err("Your session has expired. Please start again.".to_string()),
    };
    let page = match answer {
        Ok(notice) => page(&p, &s.id, notice, ""),
        Err(e) => page(&p, &s.id, "", &e),
    };
    s.respond(page)
}

/// Go: the captcha, then the GSTIN must be known and have no login yet.
fn go(p: &Portal, sid: &str, f: &F) -> Result<&'static str, String> {
    let field = |n: &str| {
        f.get(n)
            .map(|v| v.trim().to_ascii_uppercase())
            .unwrap_or_default()
    };
    if !p.check_captcha(sid, &field("CaptchaCode")) {
        return Err(BAD_CAPTCHA.into());
    }
    let g = field("Gstin");
    if p.shared.taxpayer(&g).is_none() {
        return Err(UNKNOWN.into());
    }
    if p.shared.login_name(&g).is_some() {
        return Err(HAS_LOGIN.into());
    }
    p.with(sid, |x| x.signup = Signup::Found(g));
    Ok("")
}

/// Send OTP: to the mobile the GST records hold for the GSTIN.
fn send_otp(p: &Portal, sid: &str, g: &str) -> Result<&'static str, String> {
    let resend = p.with(sid, |x| matches!(x.signup, Signup::OtpSent(_)));
    let mut inner = p.shared.inner.lock().unwrap();
    let text = |c: &str| {
        format!("{c} is the OTP for portal login registration on e-Invoice System. Do not share it with anyone. -NIC")
    };
    sms_otp(p, &mut inner, (sid, g), text, resend)?;
    if let Some(x) = inner.sessions.get_mut(sid) {
        x.signup = Signup::OtpSent(g.to_string());
    }
    Ok(OTP_SENT)
}

fn verify(p: &Portal, sid: &str, g: &str, f: &F) -> Result<&'static str, String> {
    let given = f.get("Otp").map(String::as_str).unwrap_or("");
    let check = p
        .shared
        .inner
        .lock()
        .unwrap()
        .check_otp(&p.shared, sid, given);
    match check {
        OtpCheck::Ok => {
            p.with(sid, |x| x.signup = Signup::Verified(g.to_string()));
            Ok(OTP_OK)
        }
        OtpCheck::Wrong { left } => Err(format!("Invalid OTP. You have {left} attempt(s) left.")),
        OtpCheck::Expired | OtpCheck::Missing => {
            Err("OTP has expired. Please click on Send OTP to get a new OTP.".into())
        }
        OtpCheck::Locked => {
            Err("Maximum OTP attempts exceeded. Please try again after some time.".into())
        }
    }
}

/// Save: the username (6-15 letters and digits, not taken) and the
/// password (the API password's rules, a guess) make the login; the
/// home page then says so.
fn save(p: &Portal, s: &crate::replica::SessionRef, g: &str, f: &F) -> Response {
    let get = |n: &str| f.get(n).cloned().unwrap_or_default();
    let (user, pass) = (get("UserName").trim().to_string(), get("Password"));
    let refused = match () {
        _ if !(6..=15).contains(&user.len())
            || !user.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            Some("Username should be 6 to 15 characters long, letters and digits only.".to_string())
        }
        _ if p.shared.login(&user).is_some() => {
            Some("Username already exists. Please choose another username.".to_string())
        }
        _ => match validate_password(&pass) {
            Err(e) => Some(format!("Password {e}")),
            Ok(()) if get("ConfirmPassword") != pass => {
                Some("Password and Confirm Password do not match.".to_string())
            }
            Ok(()) => None,
        },
    };
    if let Some(e) = refused {
        let page = page(p, &s.id, "", &e);
        return s.respond(page);
    }
    {
        let mut inner = p.shared.inner.lock().unwrap();
        inner.users.portal_logins.push(PortalLogin {
            gstin: g.to_string(),
            username: user,
            digest: hash::login_digest(&pass),
        });
        p.shared.persist(&inner);
        *inner
            .counters
            .entry("portal_login_created".into())
            .or_default() += 1;
    }
    p.with(&s.id, |x| x.signup = Signup::Form);
    let page = home_page(p, &s.id, false, alert_script(SAVED, 0));
    s.respond(page)
}

/// The page at its session's stage; `notice` is the alert the last step
/// answers with, `error` shown as the layout shows errors.
fn page(p: &Portal, sid: &str, notice: &str, error: &str) -> Html<String> {
    let stage = p.with(sid, |x| x.signup.clone());
    let (err, err_script) = error_parts(p, error);
    let body = match &stage {
        Signup::Form => gstin_part(p, sid),
        Signup::Found(g) => details(p, g) + SEND,
        Signup::OtpSent(g) => details(p, g) + SEND + OTP,
        Signup::Verified(g) => details(p, g) + CREDENTIALS,
    };
    let notice = match notice.is_empty() {
        true => String::new(),
        false => alert_script(notice, 0),
    };
    render(
        p,
        Page {
            title: "Portal Login Registration",
            body: format!(
                r##"<h2>Registration for Portal Login</h2>{err}
<form method="post" action="{PATH}" id="frmPortalLogin">{body}</form>"##
            ),
            script: format!("{notice}{err_script}"),
            gstin: None,
        },
    )
}

fn gstin_part(p: &Portal, sid: &str) -> String {
    let serial = p.new_captcha(sid);
    format!(
        r##"<div class="row"><label for="txtGstin">GSTIN</label><input id="txtGstin" name="Gstin" maxlength="15" autocomplete="off"></div>
<div class="row"><img id="captcha_image" src="/Home/Captcha?v={serial}" alt="captcha" width="180" height="60">
 <a href="{PATH}" title="Refresh captcha">&#x21bb;</a></div>
<div class="row"><label for="txtCaptchaCode">Enter Captcha</label><input id="txtCaptchaCode" name="CaptchaCode" maxlength="6" autocomplete="off"></div>
<div class="row"><button type="submit" id="btngo" name="cmd" value="go" class="btn">Go</button></div>"##
    )
}

/// What the GST Common Portal holds for the GSTIN, filled in by the page.
fn details(p: &Portal, g: &str) -> String {
    let Some(t) = p.shared.taxpayer(g) else {
        return String::new();
    };
    let row = |id: &str, label: &str, v: &str| {
        format!(
            r##"<div class="row"><label for="{id}">{label}</label><input id="{id}" value="{}" readonly></div>"##,
            esc(v)
        )
    };
    [
        row("txtGstinShown", "GSTIN", g),
        row("txtApplicantName", "Applicant Name", &t.legal_name),
        row("txtTradeName", "Trade Name", &t.trade_name),
        row("txtMobile", "Mobile Number", &mask_mobile(&t.mobile)),
        row("txtEmail", "E-mail", &t.email),
    ]
    .concat()
}

const SEND: &str = r##"<div class="row"><button type="submit" id="btnSendOPT" name="cmd" value="sendotp" class="btn">Send OTP</button></div>"##;
const OTP: &str = r##"<div class="row"><label for="txtOtp">Enter OTP</label><input id="txtOtp" name="Otp" maxlength="6" autocomplete="one-time-code"></div>
<div class="row"><button type="submit" id="btnVerifyOTP" name="cmd" value="verify" class="btn">Verify OTP</button></div>"##;
const CREDENTIALS: &str = r##"<div class="row"><label for="txtUserName">Username</label><input id="txtUserName" name="UserName" maxlength="15" autocomplete="off"></div>
<div class="row"><label for="txtForgotPassword">Password</label><input type="password" id="txtForgotPassword" name="Password" maxlength="15" autocomplete="off"></div>
<div class="row"><label for="txtConfirmPassword">Confirm Password</label><input type="password" id="txtConfirmPassword" name="ConfirmPassword" maxlength="15" autocomplete="off"></div>
<div class="row"><button type="submit" id="btnSave" name="cmd" value="save" class="btn">Save</button></div>"##;
