//! Create API User: the OTP page, the route choice, the form and the result.

use super::*;

pub(super) fn api_otp_page(p: &Portal, g: &str, alert: bool, error: &str) -> Html<String> {
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

pub(super) async fn create_api_user(State(p): State<Portal>, h: HeaderMap) -> Response {
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
        if let Err(e) = inner.send_otp(&p.shared, "production", &s.id, &mobile, |c| format!("{c} is the OTP for API user registration on e-Invoice System. Do not share it with anyone. -NIC"), false) {
            tracing::warn!("replica: no OTP sent: {e}");
        }
    }
    let page = api_otp_page(&p, &g, true, "");
    s.respond(page)
}

pub(super) fn registered_table(p: &Portal, g: &str) -> String {
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

pub(super) const ROUTES: &[(&str, &str, &str)] = &[
    ("D", "rbDirect", "Directly"),
    ("G", "rbGSP", "Through GSP"),
    ("E", "rbERP", "Through ERP"),
    ("C", "rbOtherGstin", "Through Client-Id of other GSTIN"),
];

pub(super) fn route_radios(selected: Option<&str>) -> String {
    let mut s =
        String::from("<div class=\"row\">DO you wish to Register your GSTIN for API Interface: ");
    for (v, id, label) in ROUTES {
        let chk = if Some(*v) == selected { " checked" } else { "" };
        s.push_str(&format!(r##"<label style="min-width:0"><input type="radio" id="{id}" name="RegType" value="{v}"{chk} onchange="document.getElementById('frmRoute').submit()"> {label}</label> "##));
    }
    s + "</div>"
}

pub(super) fn route_page(p: &Portal, g: &str) -> Html<String> {
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

pub(super) async fn verify_reg_otp_get(State(p): State<Portal>, h: HeaderMap) -> Response {
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

pub(super) fn reg_form(
    p: &Portal,
    g: &str,
    reg_type: &str,
    _form: &F,
    script: String,
) -> Html<String> {
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

pub(super) async fn check_reg_get(State(p): State<Portal>, h: HeaderMap) -> Response {
    let s = p.session(&h);
    match require_login(&p, &s) {
        Ok(_) => s.respond(redirect("/APIUserAccount/VerifyRegOTP")),
        Err(r) => r,
    }
}

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
    let page = reg_form(&p, &g, &t, &f, String::new());
    s.respond(page)
}

pub(super) fn pick(list: &[&str], idx: Option<&String>) -> Option<String> {
    let i: usize = idx?.parse().ok()?;
    list.get(i.checked_sub(1)?).map(|s| s.to_string())
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
