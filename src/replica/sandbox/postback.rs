//! The registration form's postbacks: Validate, Send OTP, resend, Submit,
//! the route choice and Create.

use super::*;

pub(super) fn err(e: impl Into<String>) -> Msg {
    Msg {
        ok: String::new(),
        err: e.into(),
    }
}
pub(super) fn ok(m: impl Into<String>) -> Msg {
    Msg {
        ok: m.into(),
        err: String::new(),
    }
}

/// Validate: the form's values against the GST records, and the captcha.
pub(super) fn validate(p: &Portal, s: &SessionRef, field: &dyn Fn(&str) -> Option<String>) -> Msg {
    let mut vals = HashMap::new();
    for k in [
        "rblUserType",
        "txtGSTIN",
        "txtTradeName",
        "txtMobile",
        "txtEmail",
    ] {
        vals.insert(k.to_string(), field(k).unwrap_or_default());
    }
    let gstin = vals["txtGSTIN"].to_uppercase();
    vals.insert("txtGSTIN".into(), gstin.clone());
    p.with(&s.id, |x| x.reg = vals.clone());
    let captcha_ok = p.check_captcha(&s.id, &field("txtCaptcha").unwrap_or_default());
    if vals["rblUserType"] != "TP" {
        err("Please select User Type as Tax Payer for taxpayer registration.")
    } else if validate_gstin(&gstin, GstinStrictness::Sandbox).is_err() {
        err("Invalid GSTIN. Please enter a valid 15 character GSTIN.")
    } else if vals["txtTradeName"].is_empty()
        || vals["txtMobile"].is_empty()
        || vals["txtEmail"].is_empty()
    {
        err("Please enter all the mandatory fields.")
    } else if !captcha_ok {
        err("Invalid Captcha")
    } else if p
        .shared
        .inner
        .lock()
        .unwrap()
        .users
        .sandbox_users
        .iter()
        .any(|u| u.gstin == gstin)
    {
        err("This GSTIN is already registered. Please use Forgot Credentials.")
    } else {
        match p.shared.taxpayer(&gstin) {
            Some(t)
                if t.mobile == vals["txtMobile"]
                    && t.email.eq_ignore_ascii_case(&vals["txtEmail"]) =>
            {
                p.with(&s.id, |x| x.stage = RegStage::Validated);
                ok("Successfully Validated...! Click Send OTP for Create Account.")
            }
            _ => err("GSTIN, Mobile No. and e-Mail Id do not match with the GST records."),
        }
    }
}

/// Submit: the mobile OTP.
pub(super) fn submit_otp(
    p: &Portal,
    s: &SessionRef,
    field: &dyn Fn(&str) -> Option<String>,
) -> Msg {
    let check = p.shared.inner.lock().unwrap().check_otp(
        &p.shared,
        &s.id,
        &field("txtOTP").unwrap_or_default(),
    );
    match check {
        OtpCheck::Ok => {
            p.with(&s.id, |x| x.stage = RegStage::Verified);
            ok("OTP verified. Create your account.")
        }
        OtpCheck::Wrong { left } => err(format!("Invalid OTP. You have {left} attempt(s) left.")),
        OtpCheck::Expired => err("OTP has expired. Click Here To Resend OTP."),
        OtpCheck::Locked => err("Maximum OTP attempts exceeded. Please try again after some time."),
        OtpCheck::Missing => err("OTP has expired. Click Here To Resend OTP."),
    }
}

pub(super) async fn reg_post(State(p): State<Portal>, h: HeaderMap, Form(f): Form<F>) -> Response {
    if let Some(r) = p.fault("registration_postback").await {
        return r;
    }
    let s = p.session(&h);
    // WebForms: a postback carries the view state it was rendered with.
    let expected = p.with(&s.id, |x| x.viewstate.clone());
    if s.expired || expected.is_empty() || f.get("__VIEWSTATE") != Some(&expected) {
        let body = "<h1>Server Error in '/einvapiclient' Application.</h1><h2><i>Validation of viewstate MAC failed. Your session has expired; please start the registration again.</i></h2>";
        return s.respond((
            StatusCode::INTERNAL_SERVER_ERROR,
            page("Error", "Error", body, ""),
        ));
    }
    let field = |k: &str| -> Option<String> {
        f.get(&format!("{N}{k}"))
            .or_else(|| {
                if k == "txtCaptcha" {
                    f.get(&format!("{N}pnlVerify$txtCaptchaCode"))
                } else {
                    None
                }
            })
            .map(|x| x.trim().to_string())
    };
    let button = |k: &str| f.contains_key(&format!("{N}{k}"));
    let target = f.get("__EVENTTARGET").cloned().unwrap_or_default();
    let stage = p.with(&s.id, |x| x.stage);

    if button("btnExit") || button("btnExit2") {
        return s.respond(redirect("/"));
    }
    let msg = if button("btnValidate") && stage == RegStage::Form {
        validate(&p, &s, &field)
    } else if button("btnSendOTP") && stage == RegStage::Validated {
        let mobile = p.with(&s.id, |x| {
            x.reg.get("txtMobile").cloned().unwrap_or_default()
        });
        let r = p.shared.inner.lock().unwrap().send_otp(
            &p.shared,
            "sandbox",
            "sms",
            &s.id,
            &mobile,
            |c| format!("{c} is your OTP for registration on e-Invoice API Sandbox. -NIC"),
            false,
        );
        match r {
            Ok(()) => {
                p.with(&s.id, |x| x.stage = RegStage::OtpSent);
                ok("OTP has been sent to your registered mobile number.")
            }
            Err(e) => err(e),
        }
    } else if target == format!("{N}lnkResendOTP") && stage == RegStage::OtpSent {
        let mobile = p.with(&s.id, |x| {
            x.reg.get("txtMobile").cloned().unwrap_or_default()
        });
        match p.shared.inner.lock().unwrap().send_otp(
            &p.shared,
            "sandbox",
            "sms",
            &s.id,
            &mobile,
            |c| format!("{c} is your OTP for registration on e-Invoice API Sandbox. -NIC"),
            true,
        ) {
            Ok(()) => ok("OTP has been re-sent to your registered mobile number."),
            Err(e) => err(e),
        }
    } else if button("btnSubmit") && stage == RegStage::OtpSent {
        submit_otp(&p, &s, &field)
    } else if target.starts_with(&format!("{N}rblRegThrough")) && stage == RegStage::Verified {
        let through = field("rblRegThrough").unwrap_or_default();
        p.with(&s.id, |x| x.reg.insert("rblRegThrough".into(), through));
        Msg {
            ok: String::new(),
            err: String::new(),
        }
    } else if button("btnCreate") && stage == RegStage::Verified {
        return create(&p, &s, &field);
    } else {
        err("Please follow the steps in order.")
    };
    reg_page(&p, &s, msg)
}

pub(super) fn create(
    p: &Portal,
    s: &SessionRef,
    field: &dyn Fn(&str) -> Option<String>,
) -> Response {
    let (gstin, through) = p.with(&s.id, |x| {
        (
            x.reg.get("txtGSTIN").cloned().unwrap_or_default(),
            x.reg.get("rblRegThrough").cloned().unwrap_or_default(),
        )
    });
    let list = match through.as_str() {
        "GSP" => p.shared.gsp_list(),
        "ERP" => p.shared.erp_list(),
        _ => return reg_page(p, s, err("Please select Registration through.")),
    };
    let company = field("ddlCompany")
        .and_then(|i| i.parse::<usize>().ok())
        .and_then(|i| list.get(i.checked_sub(1)?).map(|x| x.to_string()));
    let Some(company) = company else {
        return reg_page(p, s, err("Please select Company Name."));
    };
    let client_id = field("txtClientID").unwrap_or_default();
    if client_id != p.shared.providers.client_id(&company) {
        return reg_page(
            p,
            s,
            err("Invalid Client ID for the selected Company Name."),
        );
    }
    let username = field("txtUserName").unwrap_or_default();
    if let Err(e) = validate_api_username(&username) {
        return reg_page(p, s, err(format!("Invalid User Name: it {e}.")));
    }
    let pass = field("txtPassword").unwrap_or_default();
    if let Err(e) = validate_password(&pass) {
        return reg_page(p, s, err(format!("Password {e}.")));
    }
    if field("txtConfirmPassword").unwrap_or_default() != pass {
        return reg_page(p, s, err("Password and Confirm Password do not match."));
    }
    let spurious = {
        let mut inner = p.shared.inner.lock().unwrap();
        if inner.users.sandbox_users.iter().any(|u| u.gstin == gstin) {
            drop(inner);
            return reg_page(
                p,
                s,
                err("The credentials are already created for this GSTIN."),
            );
        }
        if inner
            .users
            .sandbox_users
            .iter()
            .any(|u| u.username.eq_ignore_ascii_case(&username))
        {
            drop(inner);
            return reg_page(
                p,
                s,
                err("User Name already exists. Please choose another User Name."),
            );
        }
        inner.users.sandbox_users.push(SandboxUser {
            gstin: gstin.clone(),
            username: username.clone(),
            password_hash: hash_password(&pass),
            through: through.clone(),
            company: company.clone(),
            client_id,
        });
        p.shared.persist(&inner);
        inner.bump("sandbox_users_created");
        let key = format!("sandbox|{gstin}");
        let sp = p.shared.faults.spurious_already_created && !inner.spurious_done.contains(&key);
        if sp {
            inner.spurious_done.push(key);
        }
        sp
    };
    if spurious {
        return reg_page(
            p,
            s,
            err("The credentials are already created for this GSTIN."),
        );
    }
    p.with(&s.id, |x| {
        x.ack = Some((gstin, username, format!("{through} - {company}")));
        x.stage = RegStage::Form;
        x.viewstate.clear();
    });
    s.respond(redirect("/einvapiclient/EncDesc/Acknowledgement.aspx"))
}
