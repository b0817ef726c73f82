//! The second factor every login needs since April 2025 (evidence 7): an
//! OTP by SMS or the Sandes app, or the code the NIC-GST-Shield app shows
//! (it changes every 30 s). The OTP goes to the logging-in user's mobile.
//! Choosing a mode or asking for a new OTP happens in place (no page load).

use super::*;
use crate::replica::state::{shield_accepts, OtpCheck};
use crate::replica::Taxpayer;
use axum::extract::Form;

fn otp_text(code: &str) -> String {
    format!("{code} is the OTP for login to e-Invoice System. Valid for 10 minutes. Do not share it with anyone. -NIC")
}

/// Sends the login OTP by `mode` ("SMS" or "SANDES"); the text for the page.
fn send(p: &Portal, sid: &str, mobile: &str, mode: &str, resend: bool) -> String {
    let channel = if mode == "SANDES" { "sandes" } else { "sms" };
    let sent = p.shared.inner.lock().unwrap().send_otp(
        &p.shared,
        "production",
        channel,
        sid,
        mobile,
        otp_text,
        resend,
    );
    match (sent, channel) {
        (Err(e), _) => e.to_string(),
        (Ok(()), "sandes") => "OTP has been sent to your Sandes app".to_string(),
        (Ok(()), _) => format!(
            "OTP has been sent to your registered mobile number {}",
            mask_mobile(mobile)
        ),
    }
}

/// A login whose password was right: the SMS OTP goes out at once.
pub(super) fn start_second_factor(p: &Portal, sid: &str, tp: &Taxpayer) {
    p.with(sid, |x| {
        x.pending_login = Some(tp.gstin.clone());
        x.authenticated = false;
        x.otp = None;
        x.otp_mode = "SMS".into();
    });
    send(p, sid, &tp.mobile, "SMS", false);
}

fn pending(p: &Portal, sid: &str) -> Option<(String, String)> {
    let g = p.with(sid, |x| x.pending_login.clone())?;
    let mobile = p.shared.taxpayer(&g)?.mobile.clone();
    Some((g, mobile))
}

pub(super) fn login_otp_page(p: &Portal, mobile: &str, mode: &str, error: &str) -> Html<String> {
    let (err, script) = error_parts(p, error);
    let info = match mode {
        "SHIELD" => "Enter the code shown in the NIC-GST-Shield app".to_string(),
        "SANDES" => "OTP has been sent to your Sandes app".to_string(),
        _ => format!(
            "OTP has been sent to your registered mobile number {}",
            mask_mobile(mobile)
        ),
    };
    let radio = |value: &str, label: &str| {
        let checked = if value == mode { " checked" } else { "" };
        format!(
            r##"<label style="min-width:0"><input type="radio" name="OtpMode" value="{value}"{checked} onclick="otpMode(this.value)"> {label}</label>"##
        )
    };
    let body = format!(
        r##"<h2>Two Factor Authentication</h2>
<p class="info" id="lblOtpInfo">{info}</p>{err}
<form method="post" action="/Home/VerifyLoginOTP" id="frmLoginOtp">
<div class="row">Receive OTP via: {sms} {sandes} {shield}</div>
<div class="row"><label for="txtLoginOTP">Enter OTP</label><input id="txtLoginOTP" name="LoginOTP" maxlength="6" autocomplete="one-time-code"></div>
<div class="row"><a href="javascript:void(0)" id="lnkResendLoginOTP" onclick="resendOtp()">Resend OTP</a></div>
<div class="row"><button type="submit" id="btnVerifyLoginOTP" class="btn">Verify OTP</button></div>
</form>
<script>
function sendOtp(m, again){{var x=new XMLHttpRequest();x.open('POST','/Home/SendLoginOTP');
x.setRequestHeader('Content-Type','application/x-www-form-urlencoded');
x.onload=function(){{document.getElementById('lblOtpInfo').textContent=x.responseText;}};
x.send('OtpMode='+m+(again?'&Resend=1':''));}}
function otpMode(m){{var r=document.getElementById('lnkResendLoginOTP');r.style.display=m==='SHIELD'?'none':'';sendOtp(m,false);}}
function resendOtp(){{sendOtp(document.querySelector('input[name="OtpMode"]:checked').value,true);}}
</script>"##,
        sms = radio("SMS", "SMS"),
        sandes = radio("SANDES", "Sandes App"),
        shield = radio("SHIELD", "NIC-GST-Shield"),
    );
    render(
        p,
        Page {
            title: "Verify OTP",
            body,
            script,
            gstin: None,
        },
    )
}

pub(super) async fn login_otp_get(State(p): State<Portal>, h: HeaderMap) -> Response {
    if let Some(r) = p.fault("login_otp").await {
        return r;
    }
    let s = p.session(&h);
    let Some((_, mobile)) = pending(&p, &s.id) else {
        return s.respond(redirect(if s.expired {
            "/Home/Login?expired=1"
        } else {
            "/Home/Login"
        }));
    };
    let mode = p.with(&s.id, |x| x.otp_mode.clone());
    let page = login_otp_page(&p, &mobile, &mode, "");
    s.respond(page)
}

/// The page's in-place request: switch the mode (sending an OTP for SMS
/// and Sandes) or send a new OTP. Answers the text the page shows.
pub(super) async fn send_login_otp(
    State(p): State<Portal>,
    h: HeaderMap,
    Form(f): Form<F>,
) -> Response {
    let s = p.session(&h);
    let Some((_, mobile)) = pending(&p, &s.id) else {
        return s.respond("Your session has expired. Please login again.");
    };
    let mode = f.get("OtpMode").cloned().unwrap_or_else(|| "SMS".into());
    p.with(&s.id, |x| x.otp_mode = mode.clone());
    if mode == "SHIELD" {
        return s.respond("Enter the code shown in the NIC-GST-Shield app");
    }
    let text = send(&p, &s.id, &mobile, &mode, f.contains_key("Resend"));
    s.respond(text)
}

fn verify(p: &Portal, sid: &str, g: &str, mode: &str, given: &str) -> OtpCheck {
    if mode == "SHIELD" {
        return match shield_accepts(g, given) {
            true => OtpCheck::Ok,
            false => OtpCheck::Wrong { left: 1 },
        };
    }
    p.shared
        .inner
        .lock()
        .unwrap()
        .check_otp(&p.shared, sid, given)
}

pub(super) async fn login_otp_post(
    State(p): State<Portal>,
    h: HeaderMap,
    Form(f): Form<F>,
) -> Response {
    if let Some(r) = p.fault("login_otp").await {
        return r;
    }
    let s = p.session(&h);
    let Some((g, mobile)) = pending(&p, &s.id) else {
        return s.respond(redirect("/Home/Login?expired=1"));
    };
    let mode = f.get("OtpMode").cloned().unwrap_or_else(|| "SMS".into());
    let given = f.get("LoginOTP").map(String::as_str).unwrap_or("");
    let msg = match verify(&p, &s.id, &g, &mode, given) {
        OtpCheck::Ok => {
            p.with(&s.id, |x| {
                x.authenticated = true;
                x.gstin = Some(g.clone());
                x.pending_login = None;
            });
            return s.respond(redirect(after_login(&p, &g)));
        }
        OtpCheck::Wrong { .. } if mode == "SHIELD" => {
            "Invalid OTP. Enter the code the NIC-GST-Shield app shows now.".to_string()
        }
        OtpCheck::Wrong { left } => format!("Invalid OTP. You have {left} attempt(s) left."),
        OtpCheck::Expired => "OTP has expired. Please login again to get a new OTP.".to_string(),
        OtpCheck::Locked => {
            "Maximum OTP attempts exceeded. Please login again after some time.".to_string()
        }
        OtpCheck::Missing => return s.respond(redirect("/Home/Login")),
    };
    let page = login_otp_page(&p, &mobile, &mode, &msg);
    s.respond(page)
}
