//! The login page with its captcha, and the login OTP (second factor).

use super::*;

pub(super) fn login_page(p: &Portal, sid: &str, error: &str) -> Html<String> {
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

pub(super) async fn login_get(
    State(p): State<Portal>,
    h: HeaderMap,
    Query(q): Query<F>,
) -> Response {
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

pub(super) async fn captcha(State(p): State<Portal>, h: HeaderMap) -> Response {
    let s = p.session(&h);
    match p.captcha_png(&s.id) {
        Some(png) => s.respond(([(header::CONTENT_TYPE, "image/png")], png)),
        None => s.respond((axum::http::StatusCode::NOT_FOUND, "no captcha")),
    }
}

pub(super) async fn login_post(
    State(p): State<Portal>,
    h: HeaderMap,
    Form(f): Form<F>,
) -> Response {
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
    if let Err(e) = inner.send_otp(&p.shared, "production", &s.id, &tp.mobile, |c| format!("{c} is the OTP for login to e-Invoice System. Valid for 10 minutes. Do not share it with anyone. -NIC"), false) {
            tracing::warn!("replica: no OTP sent: {e}");
        }
    drop(inner);
    s.respond(redirect("/Home/VerifyLoginOTP"))
}

pub(super) fn login_otp_page(p: &Portal, mobile: &str, error: &str) -> Html<String> {
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

pub(super) async fn login_otp_get(State(p): State<Portal>, h: HeaderMap) -> Response {
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

pub(super) async fn login_otp_post(
    State(p): State<Portal>,
    h: HeaderMap,
    Form(f): Form<F>,
) -> Response {
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
