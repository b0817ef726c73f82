//! The home page's Registration menu: Portal Login (a GSTIN new to the
//! e-Invoice portal gets its login) and e-Invoice Enablement (a GSTIN not
//! yet enabled is enabled). Both go GSTIN and captcha, Go, the details
//! the GST records hold, Send OTP, Verify OTP, Save, each answered with an
//! alert. Forgot Password (under the login form) goes the same way from
//! a first form of username, GSTIN, registered mobile and captcha; Forgot
//! Username is that first form alone (GSTIN, registered mobile, captcha,
//! Go), and the username goes by SMS to the registered mobile. The ids (`#txtGstin`, `#txtCaptchaCode`, `#btngo`, `#btnSendOPT`
//! (sic), `#txtOtp`, `#btnVerifyOTP`, `#txtUserName`, `#txtForgotPassword`
//! (sic), `#txtConfirmPassword`, `#btnSave`) and the alerts are public
//! evidence; the paths, the alerts' words, the declaration's id and the
//! password rules (the API password's) are guesses.

use super::*;
use crate::replica::hash;
use crate::replica::state::{mask_mobile, OtpCheck, PortalLogin, RegForm, Signup};
use crate::rules::validate_password;
use axum::extract::Form;

pub(super) const PORTAL_LOGIN: &str = "/Registration/PortalLogin";
pub(super) const ENABLEMENT: &str = "/Registration/EInvoiceEnablement";
pub(super) const FORGOT_PASSWORD: &str = "/Home/ForgotUserPwd";
pub(super) const FORGOT_USERNAME: &str = "/Home/ForgotUserName";
const USERNAME_SENT: &str = "Your username has been sent to your registered mobile number.";
const NO_MATCH_USERNAME: &str = "The details entered do not match our records. Please check the GSTIN and registered mobile number, or update your details from the GST Common Portal.";
const NO_USERNAME: &str = "No username is registered for this GSTIN. Please register through Registration -> Portal Login.";
const EXPIRED: &str = "Your session has expired. Please start again.";
const NO_MATCH: &str = "The details entered do not match our records. Please check the username, GSTIN and registered mobile number.";
const OTP_OK_RESET: &str = "OTP verified successfully. Please enter your new password.";
const SAVED_RESET: &str =
    "Your password has been changed successfully. Please login with your new password.";
const BAD_CAPTCHA: &str = "Invalid Captcha. Please enter the characters shown in the image.";
const UNKNOWN: &str = "GSTIN is not found in the GST Common Portal. Please check the GSTIN.";
const HAS_LOGIN: &str = "This GSTIN is already registered in the e-Invoice portal. Please login with your username and password.";
const ENABLED: &str = "This GSTIN is already enabled for e-Invoicing.";
const NO_DECLARATION: &str = "Please select the declaration.";
const OTP_SENT: &str = "OTP has been sent to your GST registered mobile number.";
const OTP_OK: &str = "OTP verified successfully. Please create your username and password.";
const OTP_OK_ENABLE: &str = "OTP verified successfully.";
const SAVED: &str = "Your username and password have been created successfully. Please login to the e-Invoice portal.";
const SAVED_ENABLE: &str = "Your GSTIN has been enabled for e-Invoicing successfully.";

impl RegForm {
    fn path(self) -> &'static str {
        match self {
            RegForm::PortalLogin => PORTAL_LOGIN,
            RegForm::Enablement => ENABLEMENT,
            RegForm::ForgotPassword => FORGOT_PASSWORD,
            RegForm::ForgotUsername => FORGOT_USERNAME,
        }
    }

    fn title(self) -> &'static str {
        match self {
            RegForm::PortalLogin => "Registration for Portal Login",
            RegForm::Enablement => "e-Invoice Enablement",
            RegForm::ForgotPassword => "Forgot Password",
            RegForm::ForgotUsername => "Forgot Username",
        }
    }

    /// Why Go refuses a known GSTIN: it has what this form makes.
    fn refusal(self, p: &Portal, g: &str) -> Option<&'static str> {
        match self {
            RegForm::PortalLogin => p.shared.login_name(g).map(|_| HAS_LOGIN),
            RegForm::Enablement => p.shared.enabled(g).then_some(ENABLED),
            RegForm::ForgotPassword | RegForm::ForgotUsername => None,
        }
    }
}

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

pub(super) async fn portal_login_get(State(p): State<Portal>, h: HeaderMap) -> Response {
    get_page(&p, &h, RegForm::PortalLogin)
}

pub(super) async fn portal_login_post(
    State(p): State<Portal>,
    h: HeaderMap,
    Form(f): Form<F>,
) -> Response {
    post_page(&p, &h, RegForm::PortalLogin, &f).await
}

pub(super) async fn enablement_get(State(p): State<Portal>, h: HeaderMap) -> Response {
    get_page(&p, &h, RegForm::Enablement)
}

pub(super) async fn enablement_post(
    State(p): State<Portal>,
    h: HeaderMap,
    Form(f): Form<F>,
) -> Response {
    post_page(&p, &h, RegForm::Enablement, &f).await
}

pub(super) async fn forgot_username_get(State(p): State<Portal>, h: HeaderMap) -> Response {
    get_page(&p, &h, RegForm::ForgotUsername)
}

pub(super) async fn forgot_username_post(
    State(p): State<Portal>,
    h: HeaderMap,
    Form(f): Form<F>,
) -> Response {
    post_page(&p, &h, RegForm::ForgotUsername, &f).await
}

pub(super) async fn forgot_password_get(State(p): State<Portal>, h: HeaderMap) -> Response {
    get_page(&p, &h, RegForm::ForgotPassword)
}

pub(super) async fn forgot_password_post(
    State(p): State<Portal>,
    h: HeaderMap,
    Form(f): Form<F>,
) -> Response {
    post_page(&p, &h, RegForm::ForgotPassword, &f).await
}

fn get_page(p: &Portal, h: &HeaderMap, form: RegForm) -> Response {
    let s = p.session(h);
    p.with(&s.id, |x| x.signup = (form, Signup::Form));
    let page = page(p, &s.id, "", "");
    s.respond(page)
}

async fn post_page(p: &Portal, h: &HeaderMap, form: RegForm, f: &F) -> Response {
    let s = p.session(h);
    let (at, stage) = p.with(&s.id, |x| x.signup.clone());
    // A step posted to another form's page than the one it began on.
    let stage = if at == form { stage } else { Signup::Form };
    let answer = match (Cmd::of(f), stage) {
        (Some(Cmd::Go), _) if form == RegForm::ForgotUsername => remind(p, &s.id, f),
        (Some(Cmd::Go), _) => go(p, &s.id, form, f),
        (Some(Cmd::SendOtp), Signup::Form) if form == RegForm::ForgotPassword => {
            forgot(p, &s.id, f)
        }
        (Some(Cmd::SendOtp), Signup::Found(g) | Signup::OtpSent(g)) => {
            send_otp(p, &s.id, form, &g, f)
        }
        (Some(Cmd::Verify), Signup::OtpSent(g)) => verify(p, &s.id, form, &g, f),
        (Some(Cmd::Save), Signup::Verified(g)) => return save(p, &s, form, &g, f).await,
        _ => Err(EXPIRED.to_string()),
    };
    let page = match answer {
        Ok(notice) => page(p, &s.id, notice, ""),
        Err(e) => page(p, &s.id, "", &e),
    };
    s.respond(page)
}

/// Go: the captcha, then the GSTIN must be known and not have what the
/// form makes.
fn go(p: &Portal, sid: &str, form: RegForm, f: &F) -> Result<&'static str, String> {
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
    if let Some(why) = form.refusal(p, &g) {
        return Err(why.into());
    }
    p.with(sid, |x| x.signup = (form, Signup::Found(g)));
    Ok("")
}

/// Forgot Password's Send OTP: the captcha, then the username, GSTIN and
/// registered mobile must be one login's.
fn forgot(p: &Portal, sid: &str, f: &F) -> Result<&'static str, String> {
    let field = |n: &str| f.get(n).map(|v| v.trim().to_string()).unwrap_or_default();
    if !p.check_captcha(sid, &field("CaptchaCode").to_ascii_uppercase()) {
        return Err(BAD_CAPTCHA.into());
    }
    let (g, user) = (field("Gstin").to_ascii_uppercase(), field("UserName"));
    let known = p.shared.login(&user).map(|(t, _)| t);
    let matches = known.filter(|t| t.gstin == g && t.mobile == field("RegMobile"));
    let Some(t) = matches else {
        return Err(NO_MATCH.into());
    };
    p.with(sid, |x| {
        x.signup = (RegForm::ForgotPassword, Signup::Found(t.gstin.clone()));
        x.resetting = Some(user);
    });
    send_otp(p, sid, RegForm::ForgotPassword, &t.gstin, f)
}

/// Forgot Username's Go: the captcha, then the GSTIN and registered
/// mobile must be a taxpayer's with a login; its username goes by SMS.
fn remind(p: &Portal, sid: &str, f: &F) -> Result<&'static str, String> {
    let field = |n: &str| f.get(n).map(|v| v.trim().to_string()).unwrap_or_default();
    if !p.check_captcha(sid, &field("CaptchaCode").to_ascii_uppercase()) {
        return Err(BAD_CAPTCHA.into());
    }
    let g = field("Gstin").to_ascii_uppercase();
    let known = p.shared.taxpayer(&g);
    let Some(t) = known.filter(|t| t.mobile == field("RegMobile")) else {
        return Err(NO_MATCH_USERNAME.into());
    };
    let Some(user) = p.shared.login_name(&g) else {
        return Err(NO_USERNAME.into());
    };
    let mut inner = p.shared.inner.lock().unwrap();
    let sms = crate::replica::state::Sms {
        portal: "production",
        channel: "sms",
        mobile: t.mobile.clone(),
        text: format!("Your username for the e-Invoice System is {user}. -NIC"),
        session: sid.to_string(),
        ..Default::default()
    };
    inner.send(&p.shared, sms);
    inner.bump("username_sent");
    Ok(USERNAME_SENT)
}

/// Send OTP: to the mobile the GST records hold for the GSTIN (for
/// enablement, once the declaration is ticked).
fn send_otp(p: &Portal, sid: &str, form: RegForm, g: &str, f: &F) -> Result<&'static str, String> {
    if form == RegForm::Enablement && f.get("Declaration").is_none() {
        return Err(NO_DECLARATION.into());
    }
    let resend = p.with(sid, |x| matches!(x.signup.1, Signup::OtpSent(_)));
    let mut inner = p.shared.inner.lock().unwrap();
    let what = match form {
        RegForm::PortalLogin => "portal login registration",
        RegForm::Enablement => "e-Invoice enablement",
        RegForm::ForgotPassword => "resetting your password",
        RegForm::ForgotUsername => "recovering your username",
    };
    let text = |c: &str| {
        format!("{c} is the OTP for {what} on e-Invoice System. Do not share it with anyone. -NIC")
    };
    sms_otp(p, &mut inner, (sid, g), text, resend)?;
    if let Some(x) = inner.sessions.get_mut(sid) {
        x.signup = (form, Signup::OtpSent(g.to_string()));
    }
    Ok(OTP_SENT)
}

fn verify(p: &Portal, sid: &str, form: RegForm, g: &str, f: &F) -> Result<&'static str, String> {
    let given = f.get("Otp").map(String::as_str).unwrap_or("");
    let check = p
        .shared
        .inner
        .lock()
        .unwrap()
        .check_otp(&p.shared, sid, given);
    match check {
        OtpCheck::Ok => {
            p.with(sid, |x| x.signup = (form, Signup::Verified(g.to_string())));
            Ok(match form {
                RegForm::PortalLogin => OTP_OK,
                RegForm::Enablement | RegForm::ForgotUsername => OTP_OK_ENABLE,
                RegForm::ForgotPassword => OTP_OK_RESET,
            })
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

/// Save: makes what the form is for; the home page then says so.
async fn save(
    p: &Portal,
    s: &crate::replica::SessionRef,
    form: RegForm,
    g: &str,
    f: &F,
) -> Response {
    let saved = match form {
        RegForm::PortalLogin => save_login(p, g, f).map(|()| SAVED),
        RegForm::Enablement => {
            p.shared.enable(g);
            Ok(SAVED_ENABLE)
        }
        RegForm::ForgotPassword => save_reset(p, &s.id, g, f).map(|()| SAVED_RESET),
        RegForm::ForgotUsername => Err(EXPIRED.into()),
    };
    match saved {
        Ok(said) => {
            // A new login is a create: `hold_create` delays its answer too.
            if form == RegForm::PortalLogin {
                p.hold_create().await;
            }
            p.with(&s.id, |x| x.signup = (form, Signup::Form));
            let page = home_page(p, &s.id, false, alert_script(said, 0));
            s.respond(page)
        }
        Err(e) => {
            let page = page(p, &s.id, "", &e);
            s.respond(page)
        }
    }
}

/// The new password, to the API password's rules (a guess).
fn save_reset(p: &Portal, sid: &str, g: &str, f: &F) -> Result<(), String> {
    let get = |n: &str| f.get(n).cloned().unwrap_or_default();
    let pass = get("Password");
    validate_password(&pass).map_err(|e| format!("Password {e}"))?;
    if get("ConfirmPassword") != pass {
        return Err("Password and Confirm Password do not match.".into());
    }
    let user = p.with(sid, |x| x.resetting.take()).unwrap_or_default();
    p.shared.reset_password(g, &user, &pass);
    Ok(())
}

/// The username (6-15 letters and digits, not taken) and the password
/// (the API password's rules, a guess) make the login.
fn save_login(p: &Portal, g: &str, f: &F) -> Result<(), String> {
    let get = |n: &str| f.get(n).cloned().unwrap_or_default();
    let (user, pass) = (get("UserName").trim().to_string(), get("Password"));
    if !(6..=15).contains(&user.len()) || !user.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err("Username should be 6 to 15 characters long, letters and digits only.".into());
    }
    if p.shared.login(&user).is_some() {
        return Err("Username already exists. Please choose another username.".into());
    }
    validate_password(&pass).map_err(|e| format!("Password {e}"))?;
    if get("ConfirmPassword") != pass {
        return Err("Password and Confirm Password do not match.".into());
    }
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
    Ok(())
}

/// The page at its session's stage; `notice` is the alert the last step
/// answers with, `error` shown as the layout shows errors.
fn page(p: &Portal, sid: &str, notice: &str, error: &str) -> Html<String> {
    let (form, stage) = p.with(sid, |x| x.signup.clone());
    let (err, err_script) = error_parts(p, error);
    let last = match form {
        RegForm::PortalLogin => CREDENTIALS,
        RegForm::Enablement | RegForm::ForgotUsername => SAVE,
        RegForm::ForgotPassword => NEW_PASSWORD,
    };
    let send = match form {
        RegForm::PortalLogin | RegForm::ForgotPassword | RegForm::ForgotUsername => {
            SEND.to_string()
        }
        RegForm::Enablement => format!("{DECLARATION}{SEND}"),
    };
    let body = match &stage {
        Signup::Form if form == RegForm::ForgotPassword => forgot_part(p, sid),
        Signup::Form if form == RegForm::ForgotUsername => remind_part(p, sid),
        Signup::Form => gstin_part(p, sid, form),
        Signup::Found(g) => details(p, g) + &send,
        Signup::OtpSent(g) => details(p, g) + &send + OTP,
        Signup::Verified(g) => details(p, g) + last,
    };
    let notice = match notice.is_empty() {
        true => String::new(),
        false => alert_script(notice, 0),
    };
    let (title, path) = (form.title(), form.path());
    render(
        p,
        Page {
            title,
            body: format!(
                r##"<h2>{title}</h2>{err}
<form method="post" action="{path}" id="frmRegistration">{body}</form>"##
            ),
            script: format!("{notice}{err_script}"),
            gstin: None,
        },
    )
}

fn gstin_part(p: &Portal, sid: &str, form: RegForm) -> String {
    let serial = p.new_captcha(sid);
    let path = form.path();
    format!(
        r##"<div class="row"><label for="txtGstin">GSTIN</label><input id="txtGstin" name="Gstin" maxlength="15" autocomplete="off"></div>
<div class="row"><img id="captcha_image" src="/Home/Captcha?v={serial}" alt="captcha" width="180" height="60">
 <a href="{path}" title="Refresh captcha">&#x21bb;</a></div>
<div class="row"><label for="txtCaptchaCode">Enter Captcha</label><input id="txtCaptchaCode" name="CaptchaCode" maxlength="6" autocomplete="off"></div>
<div class="row"><button type="submit" id="btngo" name="cmd" value="go" class="btn">Go</button></div>"##
    )
}

/// Forgot Password's first form: whose login, the captcha, and Send OTP
/// (`#btnSendOTP`, spelt right here).
fn forgot_part(p: &Portal, sid: &str) -> String {
    let serial = p.new_captcha(sid);
    format!(
        r##"<div class="row"><label for="txtUserName">Username</label><input id="txtUserName" name="UserName" maxlength="15" autocomplete="off"></div>
<div class="row"><label for="txtGstin">GSTIN</label><input id="txtGstin" name="Gstin" maxlength="15" autocomplete="off"></div>
<div class="row"><label for="txtRegMobile">Registered Mobile Number</label><input id="txtRegMobile" name="RegMobile" maxlength="10" autocomplete="off"></div>
<div class="row"><img id="captcha_image" src="/Home/Captcha?v={serial}" alt="captcha" width="180" height="60">
 <a href="{FORGOT_PASSWORD}" title="Refresh captcha">&#x21bb;</a></div>
<div class="row"><label for="txtCaptchaCode">Enter Captcha</label><input id="txtCaptchaCode" name="CaptchaCode" maxlength="6" autocomplete="off"></div>
<div class="row"><button type="submit" id="btnSendOTP" name="cmd" value="sendotp" class="btn">Send OTP</button></div>"##
    )
}

/// Forgot Username's form: the GSTIN, the registered mobile, the captcha
/// and Go (the inputs' ids are not public: these are the other forms').
fn remind_part(p: &Portal, sid: &str) -> String {
    let serial = p.new_captcha(sid);
    format!(
        r##"<div class="row"><label for="txtGstin">GSTIN</label><input id="txtGstin" name="Gstin" maxlength="15" autocomplete="off"></div>
<div class="row"><label for="txtRegMobile">Registered Mobile Number</label><input id="txtRegMobile" name="RegMobile" maxlength="10" autocomplete="off"></div>
<div class="row"><img id="captcha_image" src="/Home/Captcha?v={serial}" alt="captcha" width="180" height="60">
 <a href="{FORGOT_USERNAME}" title="Refresh captcha">&#x21bb;</a></div>
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
const DECLARATION: &str = r##"<div class="row"><input type="checkbox" id="chkDeclaration" name="Declaration" value="Y"><label for="chkDeclaration">I hereby declare that the aggregate turnover of the above GSTIN has crossed the limit for e-Invoicing, and I want to enable it.</label></div>"##;
const SAVE: &str = r##"<div class="row"><button type="submit" id="btnSave" name="cmd" value="save" class="btn">Save</button></div>"##;
const NEW_PASSWORD: &str = r##"<div class="row"><label for="txtForgotPassword">New Password</label><input type="password" id="txtForgotPassword" name="Password" maxlength="15" autocomplete="off"></div>
<div class="row"><label for="txtConfirmPassword">Confirm Password</label><input type="password" id="txtConfirmPassword" name="ConfirmPassword" maxlength="15" autocomplete="off"></div>
<div class="row"><button type="submit" id="btnSave" name="cmd" value="save" class="btn">Save</button></div>"##;
