//! The sandbox portal (einv-apisandbox.nic.in): home, login, and the
//! ASP.NET WebForms `Registration.aspx` with full postbacks, `__VIEWSTATE`,
//! `__EVENTVALIDATION` and `ctl00_ContentPlaceHolder1_...` ids.

use super::config::Drift;
use super::html::{esc, fill, options, SANDBOX_SHELL};
use super::state::{hash_password, OtpCheck, RegStage, SandboxUser};
use super::{redirect, Portal, SessionRef};
use crate::rules::{validate_api_username, validate_gstin, validate_password, GstinStrictness};
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, Response};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;

mod postback;
use postback::reg_post;

pub(super) type F = HashMap<String, String>;

pub(super) const P: &str = "ctl00_ContentPlaceHolder1_";
pub(super) const N: &str = "ctl00$ContentPlaceHolder1$";
pub(super) const REG: &str = "/einvapiclient/EncDesc/Registration.aspx";
pub(super) const LOGIN: &str = "/einvapiclient/EncDesc/Login.aspx";

pub fn router() -> Router<Portal> {
    Router::new()
        .route("/", get(home))
        .route(LOGIN, get(login_get).post(login_post))
        .route(REG, get(reg_get).post(reg_post))
        .route("/einvapiclient/EncDesc/Captcha.aspx", get(captcha))
        .route("/einvapiclient/EncDesc/Acknowledgement.aspx", get(ack))
        .route("/einvapiclient/EncDesc/Home.aspx", get(welcome))
}

pub(super) fn page(heading: &str, title: &str, body: &str, script: &str) -> Html<String> {
    Html(fill(
        SANDBOX_SHELL,
        &[
            ("title", title),
            ("heading", heading),
            ("body", body),
            ("script", script),
        ],
    ))
}

pub(super) const DO_POSTBACK: &str = r##"<script>
function __doPostBack(t,a){var f=document.forms['aspnetForm'];f.__EVENTTARGET.value=t;f.__EVENTARGUMENT.value=a;f.submit();}
</script>"##;

async fn home(State(p): State<Portal>, h: HeaderMap) -> Response {
    if let Some(r) = p.fault("sandbox_home").await {
        return r;
    }
    let s = p.session(&h);
    let body = r##"<h1>e - Invoice API Developer's Portal</h1>
<p class="msg-ok">1st Dec. 2020 ** e-Invoice Trial portal is enabled for taxpayers with PAN based turnover more than Rs 100 Cr. in a financial year</p>
<table class="form" border="1"><tr><th>Authentication</th><th>Generate IRN</th><th>Cancel IRN</th></tr>
<tr><td>Current Version (v1.03)</td><td>Current Version (v1.03)</td><td>Current Version (v1.03)</td></tr>
<tr><td>Downloads &middot; Sample JSONs &middot; JSON Schema</td><td>Validations &middot; FAQs</td><td>Get IRN Details &middot; Get GSTIN Details</td></tr></table>"##;
    s.respond(page(
        "e - Invoice API Developer's Portal",
        "e-Invoice API Developer's Portal",
        body,
        "",
    ))
}

fn login_page(p: &Portal, sid: &str, msg: &str) -> Html<String> {
    let serial = p.new_captcha(sid);
    let err = if msg.is_empty() {
        String::new()
    } else {
        format!(
            "<span id=\"{P}lblMsg\" class=\"msg-err\">{}</span>",
            esc(msg)
        )
    };
    let body = format!(
        r##"<h2>e - Invoice API Testing System</h2>
<div style="display:flex;gap:40px"><div style="flex:1"><h3>E-Invoice API Access Mechanisms</h3>
<p>Direct Access to API to integrate the ERP system of the Company &mdash; Through GSPs &mdash; Through ERP's &mdash; Through 'Companies having direct Access to API'.</p></div>
<div><form method="post" action="{LOGIN}" id="aspnetForm" name="aspnetForm">
<fieldset><legend>Login</legend>{err}
<table class="form">
<tr><td>GSTIN</td><td><input name="{N}txtGSTIN" id="{P}txtGSTIN" maxlength="15"></td></tr>
<tr><td>Client ID</td><td><input name="{N}txtClientId" id="{P}txtClientId"></td></tr>
<tr><td>User Name</td><td><input name="{N}txtUserName" id="{P}txtUserName"></td></tr>
<tr><td>Password</td><td><input type="password" name="{N}txtPassword" id="{P}txtPassword"></td></tr>
<tr><td><img id="{P}imgCaptcha" src="/einvapiclient/EncDesc/Captcha.aspx?v={serial}" width="180" height="60" alt="captcha"></td><td><input name="{N}txtCaptcha" id="{P}txtCaptcha" maxlength="6"></td></tr>
<tr><td></td><td><input type="submit" class="btn btn-blue" name="{N}btnLogin" id="{P}btnLogin" value="Login"></td></tr>
</table>
<a id="{P}lnkRegister" href="{REG}">Register here</a> &nbsp; <a id="{P}lnkForgot" href="#">Forgot Credentials?</a>
</fieldset></form></div></div>"##
    );
    page("e - Invoice API Testing System", "Login", &body, "")
}

async fn login_get(State(p): State<Portal>, h: HeaderMap) -> Response {
    if let Some(r) = p.fault("sandbox_login").await {
        return r;
    }
    let s = p.session(&h);
    let pg = login_page(&p, &s.id, "");
    s.respond(pg)
}

async fn login_post(State(p): State<Portal>, h: HeaderMap, Form(f): Form<F>) -> Response {
    if let Some(r) = p.fault("sandbox_login").await {
        return r;
    }
    let s = p.session(&h);
    let v = |k: &str| {
        f.get(&format!("{N}{k}"))
            .map(|x| x.trim().to_string())
            .unwrap_or_default()
    };
    if !p.check_captcha(&s.id, &v("txtCaptcha")) {
        let pg = login_page(&p, &s.id, "Invalid Captcha");
        return s.respond(pg);
    }
    let pass = f
        .get(&format!("{N}txtPassword"))
        .cloned()
        .unwrap_or_default();
    let ok = {
        let inner = p.shared.inner.lock().unwrap();
        inner.users.sandbox_users.iter().any(|u| {
            u.gstin == v("txtGSTIN").to_uppercase()
                && u.username == v("txtUserName")
                && u.password_hash == hash_password(&pass)
                && u.client_id == v("txtClientId")
        })
    };
    if !ok {
        let pg = login_page(
            &p,
            &s.id,
            "Invalid Credentials. Please check GSTIN, Client ID, User Name and Password.",
        );
        return s.respond(pg);
    }
    p.with(&s.id, |x| x.sandbox_login = Some(v("txtUserName")));
    s.respond(redirect("/einvapiclient/EncDesc/Home.aspx"))
}

async fn welcome(State(p): State<Portal>, h: HeaderMap) -> Response {
    let s = p.session(&h);
    match p.with(&s.id, |x| x.sandbox_login.clone()) {
        Some(u) => s.respond(page("e - Invoice API Testing System", "Welcome", &format!("<h2 id=\"lblWelcome\">Welcome, {}</h2><p>You are logged in to the e-Invoice API Testing System.</p>", esc(&u)), "")),
        None => s.respond(redirect(LOGIN)),
    }
}

async fn captcha(
    State(p): State<Portal>,
    h: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<F>,
) -> Response {
    let s = p.session(&h);
    if q.contains_key("new") {
        p.new_captcha(&s.id);
    }
    match p.captcha_png(&s.id) {
        Some(png) => s.respond(([(header::CONTENT_TYPE, "image/png")], png)),
        None => s.respond((StatusCode::NOT_FOUND, "no captcha")),
    }
}

pub(super) struct Msg {
    pub(super) ok: String,
    pub(super) err: String,
}

pub(super) fn reg_page(p: &Portal, s: &SessionRef, msg: Msg) -> Response {
    let (stage, vals, serial, viewstate) = {
        let mut inner = p.shared.inner.lock().unwrap();
        let vs = format!("/wEPDwUK{}", inner.new_id(40));
        let sess = inner.sessions.get_mut(&s.id).unwrap();
        sess.viewstate = vs.clone();
        (sess.stage, sess.reg.clone(), sess.captcha_serial, vs)
    };
    // A fresh captcha whenever the form is (re)shown before validation.
    let serial = if stage == RegStage::Form {
        p.new_captcha(&s.id)
    } else {
        serial
    };
    let v = |k: &str| esc(vals.get(k).map(String::as_str).unwrap_or(""));
    let ro = if stage == RegStage::Form {
        ""
    } else {
        " readonly"
    };
    let utype = vals.get("rblUserType").map(String::as_str).unwrap_or("TP");
    let radio = |name: &str, i: usize, val: &str, label: &str, checked: bool, extra: &str| {
        format!(
            r##"<input type="radio" id="{P}{name}_{i}" name="{N}{name}" value="{val}"{}{extra}><label for="{P}{name}_{i}">{label}</label> "##,
            if checked { " checked" } else { "" }
        )
    };
    let types = [
        ("TP", "Tax Payer"),
        ("GSP", "GSP"),
        ("ECO", "e-Com Op."),
        ("ERP", "ERP"),
    ];
    let user_types: String = types
        .iter()
        .enumerate()
        .map(|(i, (val, label))| {
            radio(
                "rblUserType",
                i,
                val,
                label,
                *val == utype,
                if stage == RegStage::Form {
                    ""
                } else {
                    " disabled"
                },
            )
        })
        .collect();
    let gstin_input = format!(
        r##"<input name="{N}txtGSTIN" id="{P}txtGSTIN" maxlength="15" value="{}"{ro}>"##,
        v("txtGSTIN")
    );
    // Drift `moved-element`: the captcha box moves into a verification panel
    // on a row of its own and is renamed, so WebForms generates a new id
    // and name for it and no label names it any more.
    let moved = p.shared.drift == Some(Drift::MovedElement);
    let captcha_input = match moved {
        true => String::new(),
        false => format!(
            r##"<input name="{N}txtCaptcha" id="{P}txtCaptcha" maxlength="6" autocomplete="off"{ro}>"##
        ),
    };
    let moved_row = match moved {
        true => format!(
            r##"<tr><td></td><td><div id="{P}pnlVerify"><input name="{N}pnlVerify$txtCaptchaCode" id="{P}pnlVerify_txtCaptchaCode" maxlength="6" autocomplete="off"{ro}></div></td></tr>"##
        ),
        false => String::new(),
    };
    let validate_disabled = if stage == RegStage::Form {
        ""
    } else {
        " disabled=\"disabled\""
    };
    let send_disabled = if stage == RegStage::Validated {
        ""
    } else {
        " disabled=\"disabled\""
    };
    let mut body = format!(
        r##"<h2>Registration Form</h2>
<form method="post" action="{REG}" id="aspnetForm" name="aspnetForm">
<input type="hidden" name="__EVENTTARGET" id="__EVENTTARGET" value="">
<input type="hidden" name="__EVENTARGUMENT" id="__EVENTARGUMENT" value="">
<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="{viewstate}">
<input type="hidden" name="__VIEWSTATEGENERATOR" id="__VIEWSTATEGENERATOR" value="C2EE9ABB">
<input type="hidden" name="__EVENTVALIDATION" id="__EVENTVALIDATION" value="/wEdAA{serial}">
<table class="form">
<tr><td>User Type :</td><td><span id="{P}rblUserType">{user_types}</span></td></tr>
<tr><td>GSTIN :<span class="req">*</span></td><td>{gstin_input}</td></tr>
<tr><td>Trade Name :<span class="req">*</span></td><td><input name="{N}txtTradeName" id="{P}txtTradeName" value="{tn}"{ro}></td></tr>
<tr><td>GST Registered Mobile No. :<span class="req">*</span></td><td><input name="{N}txtMobile" id="{P}txtMobile" maxlength="10" value="{mob}"{ro}></td></tr>
<tr><td>GST Registered e-Mail Id :<span class="req">*</span></td><td><input name="{N}txtEmail" id="{P}txtEmail" value="{em}"{ro}></td></tr>
<tr><td>Captcha :<span class="req">*</span></td><td><img id="{P}imgCaptcha" src="/einvapiclient/EncDesc/Captcha.aspx?v={serial}" width="180" height="60" alt="captcha"> {refresh}{captcha_input}</td></tr>{moved_row}
<tr><td></td><td><input type="submit" class="btn btn-blue" name="{N}btnValidate" id="{P}btnValidate" value="Validate"{validate_disabled}>
<input type="submit" class="btn btn-green" name="{N}btnSendOTP" id="{P}btnSendOTP" value="Send OTP"{send_disabled}>
<input type="submit" class="btn btn-red" name="{N}btnExit" id="{P}btnExit" value="Exit"></td></tr>
</table>
<span id="{P}lblMsg" class="msg-ok">{ok}</span><span id="{P}lblError" class="msg-err">{err}</span>"##,
        refresh = match stage {
            // A new image without a postback (the seeds show a refresh icon).
            RegStage::Form => format!(
                r##"<a href="javascript:void(0)" id="{P}lnkRefreshCaptcha" title="Refresh Captcha" onclick="document.getElementById('{P}imgCaptcha').src='/einvapiclient/EncDesc/Captcha.aspx?new=1&amp;t='+Date.now();">&#x21bb;</a> "##
            ),
            _ => String::new(),
        },
        tn = v("txtTradeName"),
        mob = v("txtMobile"),
        em = v("txtEmail"),
        ok = esc(&msg.ok),
        err = esc(&msg.err),
    );
    if stage == RegStage::OtpSent {
        body.push_str(&otp_section());
    }
    if stage == RegStage::Verified {
        body.push_str(&create_account_section(p, &vals));
    }
    body.push_str("</form>");
    s.respond(page(
        "e - Invoice API Testing System",
        "Registration",
        &body,
        DO_POSTBACK,
    ))
}

/// After Send OTP: the Mobile OTP box, resend link and Submit.
fn otp_section() -> String {
    format!(
        r##"<fieldset><table class="form">
<tr><td>Mobile OTP :<span class="req">*</span></td><td><input name="{N}txtOTP" id="{P}txtOTP" maxlength="6" autocomplete="off"></td></tr>
<tr><td></td><td><a id="{P}lnkResendOTP" href="javascript:__doPostBack('{N}lnkResendOTP','')">Click Here To Resend OTP</a></td></tr>
<tr><td></td><td><input type="submit" class="btn btn-green" name="{N}btnSubmit" id="{P}btnSubmit" value="Submit">
<input type="submit" class="btn btn-red" name="{N}btnExit2" id="{P}btnExit2" value="Exit"></td></tr></table></fieldset>"##
    )
}

/// After the OTP: Create Account, with the company list of the chosen route.
fn create_account_section(p: &Portal, vals: &HashMap<String, String>) -> String {
    let v = |k: &str| esc(vals.get(k).map(String::as_str).unwrap_or(""));
    let through = vals.get("rblRegThrough").cloned().unwrap_or_default();
    let companies = match through.as_str() {
        "GSP" => options(&p.shared.gsp_list(), None, "--Select Company--"),
        "ERP" => options(&p.shared.erp_list(), None, "--Select Company--"),
        _ => "<option value=\"\">--Select Registration through first--</option>".to_string(),
    };
    let autopost = |i: usize, val: &str| {
        format!(
            r##"<input type="radio" id="{P}rblRegThrough_{i}" name="{N}rblRegThrough" value="{val}"{} onclick="setTimeout(function(){{__doPostBack('{N}rblRegThrough${i}','')}},0)"><label for="{P}rblRegThrough_{i}">{val}</label> "##,
            if through == val { " checked" } else { "" }
        )
    };
    format!(
        r##"<fieldset><legend>Create Account</legend><table class="form">
<tr><td>Your GSTIN :<span class="req">*</span></td><td><input name="{N}txtYourGSTIN" id="{P}txtYourGSTIN" value="{g}" readonly></td></tr>
<tr><td>Registration through</td><td><span id="{P}rblRegThrough">{r0}{r1}</span></td></tr>
<tr><td>Company Name</td><td><select name="{N}ddlCompany" id="{P}ddlCompany">{companies}</select></td></tr>
<tr><td>Client ID</td><td><input name="{N}txtClientID" id="{P}txtClientID"></td></tr>
<tr><td>Enter Username :<span class="req">*</span></td><td><input name="{N}txtUserName" id="{P}txtUserName" maxlength="15" autocomplete="off"></td></tr>
<tr><td>Enter Password :<span class="req">*</span></td><td><input type="password" name="{N}txtPassword" id="{P}txtPassword" maxlength="15" autocomplete="new-password"></td></tr>
<tr><td>Confirm Password :<span class="req">*</span></td><td><input type="password" name="{N}txtConfirmPassword" id="{P}txtConfirmPassword" maxlength="15" autocomplete="new-password"></td></tr>
<tr><td></td><td><input type="submit" class="btn btn-blue" name="{N}btnCreate" id="{P}btnCreate" value="Create"></td></tr>
</table></fieldset>"##,
        g = v("txtGSTIN"),
        r0 = autopost(0, "GSP"),
        r1 = autopost(1, "ERP"),
    )
}

async fn reg_get(State(p): State<Portal>, h: HeaderMap) -> Response {
    if let Some(r) = p.fault("registration").await {
        return r;
    }
    let s = p.session(&h);
    p.with(&s.id, |x| {
        x.stage = RegStage::Form;
        x.reg.clear();
        x.otp = None;
    });
    reg_page(
        &p,
        &s,
        Msg {
            ok: String::new(),
            err: String::new(),
        },
    )
}

async fn ack(State(p): State<Portal>, h: HeaderMap) -> Response {
    if let Some(r) = p.fault("acknowledgement").await {
        return r;
    }
    let s = p.session(&h);
    let Some((g, u, via)) = p.with(&s.id, |x| x.ack.clone()) else {
        return s.respond(redirect(REG));
    };
    // The account exists; its acknowledgement is what `hold_create` delays.
    p.hold_create().await;
    // The real wording is not known (evidence 9): two, by layout.
    let said = match p.shared.layout.ack_account_created {
        true => "Your account has been created successfully.",
        false => "Registration Successful",
    };
    let body = format!(
        r##"<h2>Acknowledgement</h2><div id="{P}pnlAck"><p class="msg-ok">{said}</p>
<table class="form"><tr><td>GSTIN :</td><td>{}</td></tr><tr><td>User Name :</td><td id="{P}lblUserName">{}</td></tr><tr><td>Registered through :</td><td>{}</td></tr></table>
<p>Use these credentials with the Client ID and Client Secret of your GSP/ERP to access the sandbox APIs.</p></div>"##,
        esc(&g),
        esc(&u),
        esc(&via)
    );
    s.respond(page(
        "e - Invoice API Testing System",
        "Acknowledgement",
        &body,
        "",
    ))
}
