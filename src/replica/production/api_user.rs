//! Create API User: the OTP page (with its resend link), the OTP check,
//! the legacy route page, and creating the user.

use super::api_form::*;
use super::*;
use crate::replica::state::{hash_password, ApiUser, OtpCheck};
use crate::rules::{validate_api_username, validate_gstin, validate_password, GstinStrictness};
use axum::extract::Form;

pub(super) fn api_otp_page(p: &Portal, g: &str, alert: bool, error: &str) -> Html<String> {
    let (err, err_script) = error_parts(p, error);
    let body = format!(
        r##"<h2>API Registration</h2>{err}
<form method="post" action="/APIUserAccount/VerifyRegOTP">
<div class="row"><label for="txtOTP">Enter the OTP Sent to Your Mobile Number:</label><input id="txtOTP" name="OTP" maxlength="6" autocomplete="one-time-code"></div>
<div class="row"><a id="lnkResendOTP" href="/APIUserAccount/CreateAPIUser?resend=1">Resend OTP</a></div>
<div class="row"><button type="submit" id="btnVerifyOTP" class="btn">Verify OTP</button></div>
</form>"##
    );
    let delay = p
        .shared
        .faults
        .slow_alert
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let sent = match alert {
        true => alert_script(
            "OTP has been sent to your Register mobile no., Please check and enter",
            delay,
        ),
        false => String::new(),
    };
    render(
        p,
        Page {
            title: "API Registration",
            body,
            script: format!("{sent}{err_script}"),
            gstin: Some(g.to_string()),
        },
    )
}

/// Sends the API registration OTP (`resend`: a new one, within the limit).
fn send_api_otp(p: &Portal, sid: &str, g: &str, resend: bool) -> Result<(), &'static str> {
    let mut inner = p.shared.inner.lock().unwrap();
    if let Some(x) = inner.sessions.get_mut(sid) {
        x.api_otp_verified = false;
        if !resend {
            x.otp = None;
        }
    }
    let text = |c: &str| {
        format!("{c} is the OTP for API user registration on e-Invoice System. Do not share it with anyone. -NIC")
    };
    sms_otp(p, &mut inner, (sid, g), text, resend)
}

pub(super) async fn create_api_user(
    State(p): State<Portal>,
    h: HeaderMap,
    Query(q): Query<F>,
) -> Response {
    if let Some(r) = p.fault("create_api_user").await {
        return r;
    }
    super::interrupt::slow_create_page(&p).await;
    let s = p.session(&h);
    let g = match require_login(&p, &s) {
        Ok(g) => g,
        Err(r) => return r,
    };
    let page = match send_api_otp(&p, &s.id, &g, q.contains_key("resend")) {
        Ok(()) => api_otp_page(&p, &g, true, ""),
        Err(e) => api_otp_page(&p, &g, false, e),
    };
    s.respond(page)
}

pub(super) async fn verify_reg_otp_get(State(p): State<Portal>, h: HeaderMap) -> Response {
    let s = p.session(&h);
    let g = match require_login(&p, &s) {
        Ok(g) => g,
        Err(r) => return r,
    };
    match p.with(&s.id, |x| x.api_otp_verified) {
        true => {
            let page = route_page(&p, &g, None, String::new());
            s.respond(page)
        }
        false => s.respond(redirect("/APIUserAccount/CreateAPIUser")),
    }
}

pub(super) async fn verify_reg_otp_post(
    State(p): State<Portal>,
    h: HeaderMap,
    Form(f): Form<F>,
) -> Response {
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
            let page = route_page(&p, &g, None, String::new());
            return s.respond(page);
        }
        OtpCheck::Wrong { left } => format!("Invalid OTP. You have {left} attempt(s) left."),
        OtpCheck::Expired | OtpCheck::Missing => {
            "OTP has expired. Please click on Create API User to get a new OTP.".into()
        }
        OtpCheck::Locked => {
            "Maximum OTP attempts exceeded. Please try again after some time.".into()
        }
    };
    let page = api_otp_page(&p, &g, false, &msg);
    s.respond(page)
}

pub(super) async fn check_reg_get(State(p): State<Portal>, h: HeaderMap) -> Response {
    let s = p.session(&h);
    match require_login(&p, &s) {
        Ok(_) => s.respond(redirect("/APIUserAccount/VerifyRegOTP")),
        Err(r) => r,
    }
}

/// Legacy: a route was chosen; its form on a page of its own.
pub(super) async fn check_reg_post(
    State(p): State<Portal>,
    h: HeaderMap,
    Form(f): Form<F>,
) -> Response {
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
    let page = reg_form(&p, &g, &t, String::new());
    s.respond(page)
}

pub(super) fn pick(list: &[&str], idx: Option<&String>) -> Option<String> {
    let i: usize = idx?.parse().ok()?;
    list.get(i.checked_sub(1)?).map(|s| s.to_string())
}

/// The portal's refusal of a form, in the words its page shows.
struct Refusal(String);

impl From<&str> for Refusal {
    fn from(s: &str) -> Refusal {
        Refusal(s.to_string())
    }
}

impl From<String> for Refusal {
    fn from(s: String) -> Refusal {
        Refusal(s)
    }
}

/// The provider a submitted form names, or the refusal to show.
fn provider_of(p: &Portal, g: &str, t: &str, f: &F) -> Result<String, Refusal> {
    let field = |k: &str| f.get(k).map(|x| x.trim().to_string()).unwrap_or_default();
    match t {
        "G" => pick(&p.shared.gsp_list(), f.get("GspId")).ok_or("Please select GSP".into()),
        "E" => pick(&p.shared.erp_list(), f.get("ErpId")).ok_or("Please select ERP".into()),
        "C" => {
            let other = field("OtherGstin").to_uppercase();
            if validate_gstin(&other, GstinStrictness::Strict).is_err()
                || p.shared.taxpayer(&other).is_none()
            {
                return Err("Invalid GSTIN. Please enter a valid GSTIN having Client-Id.".into());
            }
            if other[2..12] != g[2..12] {
                return Err("Invalid GSTIN. The GSTIN should belong to the same PAN.".into());
            }
            if other == g {
                return Err("Invalid GSTIN. Enter a GSTIN other than your own.".into());
            }
            Ok(format!("Client-Id of {other}"))
        }
        "D" if !offers_direct(p, g) => Err("Please select the type of registration".into()),
        "D" if p.shared.layout.route_forms
            && (field("ClientId").is_empty() || field("ClientSecret").is_empty()) =>
        {
            Err("Please enter Client ID and Client Secret".into())
        }
        "D" => Ok("Direct".to_string()),
        _ => Err("Please select the type of registration".into()),
    }
}

/// The username a submitted form asks for (with `API_`), or the refusal.
fn username_of(p: &Portal, f: &F) -> Result<String, Refusal> {
    let posted = f
        .get("UserName")
        .map(|x| x.trim().to_string())
        .unwrap_or_default();
    let name = match p.shared.layout.prefix_in_box {
        // The box holds the prefix; what follows it is the name.
        true => match posted.strip_prefix("API_") {
            Some(n) => n.to_string(),
            None => return Err("Username should start with API_".into()),
        },
        false => posted,
    };
    validate_api_username(&name).map_err(|e| Refusal(format!("Invalid Username: username {e}")))?;
    Ok(format!("API_{name}"))
}

pub(super) async fn create_user(
    State(p): State<Portal>,
    h: HeaderMap,
    Form(f): Form<F>,
) -> Response {
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
    let fail = |msg: &str| -> Response { s.respond(form_again(&p, &g, &t, msg)) };
    let provider = match provider_of(&p, &g, &t, &f) {
        Ok(x) => x,
        Err(Refusal(m)) => return fail(&m),
    };
    let username = match username_of(&p, &f) {
        Ok(u) => u,
        Err(Refusal(m)) => return fail(&m),
    };
    let pass = f.get("Password").cloned().unwrap_or_default();
    if let Err(e) = validate_password(&pass) {
        return fail(&format!("Password {e}"));
    }
    if f.get("RePassword") != Some(&pass) {
        return fail("Password and Re-enter Password do not match");
    }
    match record_user(&p, &g, &provider, &username, &pass) {
        Err(m) => fail(m),
        Ok(()) => {
            p.hold_create().await;
            match p.shared.faults.echo_form {
                Some(how) => super::echo::page(&p, &s, &g, &f, how),
                None => created_page(&p, &s, &g, &username),
            }
        }
    }
}

/// Records the user; the refusal's text when it cannot be (or, with the
/// `spurious_already_created` fault, when it was but the portal says not).
fn record_user(
    p: &Portal,
    g: &str,
    provider: &str,
    username: &str,
    pass: &str,
) -> Result<(), &'static str> {
    const ALREADY: &str =
        "Credentials are already created for this GSTIN with the selected GSP/ERP.";
    let mut inner = p.shared.inner.lock().unwrap();
    let users = &inner.users.api_users;
    if users.iter().any(|u| u.gstin == g && u.provider == provider) {
        return Err(ALREADY);
    }
    if users
        .iter()
        .any(|u| u.username.eq_ignore_ascii_case(username))
    {
        return Err("User Name already exists. Please choose another Username.");
    }
    inner.users.api_users.push(ApiUser {
        gstin: g.to_string(),
        provider: provider.to_string(),
        username: username.to_string(),
        password_hash: hash_password(pass),
    });
    p.shared.persist(&inner);
    inner.bump("api_users_created");
    let key = format!("{g}|{provider}");
    if p.shared.faults.spurious_already_created && !inner.spurious_done.contains(&key) {
        // Seed 002: the user is created, yet the portal says it already was.
        inner.spurious_done.push(key);
        return Err(ALREADY);
    }
    Ok(())
}

fn created_page(p: &Portal, s: &crate::replica::SessionRef, g: &str, username: &str) -> Response {
    let body = format!(
        r##"<h2>API Registration</h2><p class="info" id="lblResult">API user registration completed.</p>{}"##,
        registered_table(p, g)
    );
    let said = format!("Api user {username} has been created successfully");
    let script = match p.shared.faults.confirm_after_create {
        // A question no flow knows, then the success alert [guess].
        true => format!(
            "<script>window.addEventListener('load',function(){{confirm({});alert({});}});</script>",
            js("Would you like to register this GSTIN for the e-Way Bill API as well?"),
            js(&said)
        ),
        // The alert, then at once the dashboard, as some portals go on.
        false if p.shared.faults.success_moves_on => format!(
            "<script>window.addEventListener('load',function(){{alert({});location.href='/Home/MainMenu';}});</script>",
            js(&said)
        ),
        false => alert_script(&said, 0),
    };
    s.respond(render(
        p,
        Page {
            title: "API Registration",
            body,
            script,
            gstin: Some(g.to_string()),
        },
    ))
}
