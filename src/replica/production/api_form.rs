//! The Create API User option forms: "DO you wish to Register your GSTIN
//! for API Interface:" with its routes, each route's fields, and the
//! username and password boxes. With `options-in-place` (evidence 4) the
//! routes and form are one page that shows the chosen route's fields
//! without a page load; otherwise choosing a route posts to
//! `/APIUserAccount/CheckApiUserReg`, a page of its own.

use super::*;
use crate::replica::html::options;

/// (value, radio id, label, fields' block id) of each route.
pub(super) const ROUTES: &[(&str, &str, &str, &str)] = &[
    ("D", "rbDirect", "Directly", "divDirect"),
    ("G", "rbGSP", "Through GSP", "divGsp"),
    ("E", "rbERP", "Through ERP", "divErp"),
    (
        "C",
        "rbOtherGstin",
        "Through Client-Id of other GSTIN",
        "divOtherGstin",
    ),
];

/// The route's label ("Through GSP"), for headings.
pub(super) fn route_label(reg_type: &str) -> &'static str {
    ROUTES
        .iter()
        .find(|r| r.0 == reg_type)
        .map(|r| r.2)
        .unwrap_or("Directly")
}

/// Whether the GSTIN is offered "Directly": with `route-forms` only an
/// eligible taxpayer is (seed 001 shows three options).
pub(super) fn offers_direct(p: &Portal, g: &str) -> bool {
    !p.shared.layout.route_forms || p.shared.taxpayer(g).is_some_and(|t| t.direct_eligible)
}

/// The route radios; `action` is what choosing one does.
fn radios(p: &Portal, g: &str, selected: Option<&str>, action: &str) -> String {
    let mut s =
        String::from("<div class=\"row\">DO you wish to Register your GSTIN for API Interface: ");
    for (v, id, label, _) in ROUTES {
        if *v == "D" && !offers_direct(p, g) {
            continue;
        }
        let chk = if Some(*v) == selected { " checked" } else { "" };
        let act = action.replace("{v}", v);
        s.push_str(&format!(r##"<label style="min-width:0"><input type="radio" id="{id}" name="RegType" value="{v}"{chk} {act}> {label}</label> "##));
    }
    s + "</div>"
}

/// The fields a route asks for before the username.
fn route_fields(p: &Portal, g: &str, reg_type: &str) -> String {
    let evidence = p.shared.layout.route_forms;
    match reg_type {
        "G" => format!(r##"<div class="row"><label for="ddlGSP">Select your GSP:</label><select id="ddlGSP" name="GspId">{}</select></div>"##, options(&p.shared.gsp_list(), None, "--Select--")),
        "E" => format!(r##"<div class="row"><label for="ddlERP">Select your ERP:</label><select id="ddlERP" name="ErpId">{}</select></div>"##, options(&p.shared.erp_list(), None, "--Select--")),
        "C" if evidence => {
            let opts: String = p.shared.same_pan(g).iter().map(|x| format!("<option value=\"{x}\">{x}</option>")).collect();
            format!(r##"<div class="row"><label for="ddlOtherGstin">Select GSTIN:</label><select id="ddlOtherGstin" name="OtherGstin"><option value="">--Select--</option>{opts}</select></div>"##)
        }
        "C" => r##"<div class="row"><label for="txtOtherGstin">GSTIN having Client-Id:</label><input id="txtOtherGstin" name="OtherGstin" maxlength="15"></div>"##.to_string(),
        "D" if evidence => r##"<div class="row"><label for="txtClientId">Client ID:</label><input id="txtClientId" name="ClientId" maxlength="40" autocomplete="off"></div>
<div class="row"><label for="txtClientSecret">Client Secret:</label><input type="password" id="txtClientSecret" name="ClientSecret" maxlength="40" autocomplete="off"></div>"##.to_string(),
        _ => String::new(),
    }
}

/// Username (the `API_` prefix in the box, or before it), passwords,
/// Submit and Exit.
fn credential_fields(p: &Portal) -> String {
    let user = match p.shared.layout.prefix_in_box {
        true => {
            r##"<input id="txtUserName" name="UserName" maxlength="19" autocomplete="off" value="API_" oninput="keepPrefix(this)" onchange="keepPrefix(this)">"##
        }
        false => {
            r##"<span class="prefix">API_</span><input id="txtUserName" name="UserName" maxlength="15" autocomplete="off">"##
        }
    };
    format!(
        r##"<div class="row"><label for="txtUserName">Username:</label>{user}</div>
<div class="row"><label for="txtPassword">Password:</label><input type="password" id="txtPassword" name="Password" maxlength="15" autocomplete="new-password" oninput="strength(this.value)"> <span id="pwdStrength" class="pwstrength"></span></div>
<div class="row"><label for="txtRePassword">Re-enter Password:</label><input type="password" id="txtRePassword" name="RePassword" maxlength="15" autocomplete="new-password"></div>
<div class="row"><button type="submit" id="btnSubmit" class="btn">Submit</button> <a class="btn btn-exit" id="btnExitReg" href="/Home/MainMenu">Exit</a></div>{retype}"##,
        retype = super::interrupt::on_password_boxes(p)
    )
}

const FORM_SCRIPT: &str = r##"<script>
function strength(v){var s=0;if(v.length>=8)s++;if(/[A-Z]/.test(v))s++;if(/[a-z]/.test(v))s++;if(/[0-9]/.test(v))s++;if(/[@#$!%]/.test(v))s++;
var e=document.getElementById('pwdStrength');e.textContent=v.length==0?'':(s>=5?'Strong!':(s>=3?'Medium':'Weak'));e.style.color=s>=5?'green':'#c60';}
function keepPrefix(e){var p='API_',v=e.value;if(v.slice(0,4)===p)return;var k=0;while(k<4&&v.charAt(k)===p.charAt(k))k++;e.value=p+v.slice(k);}
function validateForm(){var u=document.getElementById('txtUserName').value.trim();if(u===''||u==='API_'){alert('Please enter Username');return false;}
if(document.getElementById('txtPassword').value!==document.getElementById('txtRePassword').value){alert('Password and Re-enter Password do not match');return false;}return true;}
function showRoute(r){document.getElementById('divRouteForm').style.display='block';
document.querySelectorAll('[data-route]').forEach(function(d){d.style.display=d.getAttribute('data-route')===r?'block':'none';});}
</script>"##;

/// The page a verified OTP leads to. In place: routes and every route's
/// fields in one form (`selected` shown after a refused submit). Legacy:
/// the routes alone, each posting to CheckApiUserReg.
pub(super) fn route_page(
    p: &Portal,
    g: &str,
    selected: Option<&str>,
    script: String,
) -> Html<String> {
    let body = match p.shared.layout.options_in_place {
        true => in_place_form(p, g, selected),
        false => format!(
            r##"<h2>API Registration</h2>
<form method="post" action="/APIUserAccount/CheckApiUserReg" id="frmRoute">{}</form>"##,
            radios(
                p,
                g,
                None,
                r##"onchange="document.getElementById('frmRoute').submit()""##
            )
        ),
    };
    let body = format!("{body}\n{}", registered_table(p, g));
    form_page(p, g, body, &script)
}

/// The `confirm_create` fault: the form asks before it posts [guess];
/// `late_confirm`: it asks a moment after the click, and posts a moment
/// after the yes.
fn confirm_create(p: &Portal) -> &'static str {
    let f = &p.shared.faults;
    match (f.confirm_create, f.late_confirm) {
        (_, true) => {
            r##"<script>(function(){var v=validateForm;validateForm=function(){if(!v())return false;var f=document.getElementById('frmCreate');setTimeout(function(){if(confirm("Are you sure you want to create the API user?"))setTimeout(function(){f.submit();},150);},300);return false;};})();</script>"##
        }
        (true, false) => {
            r##"<script>(function(){var v=validateForm;validateForm=function(){if(!v())return false;return confirm("Are you sure you want to create the API user?");};})();</script>"##
        }
        (false, false) => "",
    }
}

/// An API Registration page with the form's script.
fn form_page(p: &Portal, g: &str, body: String, script: &str) -> Html<String> {
    render(
        p,
        Page {
            title: "API Registration",
            body,
            script: format!("{FORM_SCRIPT}{}{script}", confirm_create(p)),
            gstin: Some(g.to_string()),
        },
    )
}

fn in_place_form(p: &Portal, g: &str, selected: Option<&str>) -> String {
    let blocks: String = ROUTES
        .iter()
        .filter(|r| r.0 != "D" || offers_direct(p, g))
        .map(|(v, _, _, id)| {
            let shown = if Some(*v) == selected {
                "block"
            } else {
                "none"
            };
            format!(
                r##"<div id="{id}" data-route="{v}" style="display:{shown}">{}</div>"##,
                route_fields(p, g, v)
            )
        })
        .collect();
    let shown = if selected.is_some() { "block" } else { "none" };
    format!(
        r##"<h2>API Registration</h2>
<form method="post" action="/APIUserAccount/CreateUserdata" id="frmCreate" onsubmit="return validateForm();">
{radios}
<div id="divRouteForm" style="display:{shown}">{blocks}
{fields}</div>
</form>"##,
        radios = radios(p, g, selected, r##"onclick="showRoute('{v}')""##),
        fields = credential_fields(p)
    )
}

/// Legacy: the form of one route on a page of its own.
pub(super) fn reg_form(p: &Portal, g: &str, reg_type: &str, script: String) -> Html<String> {
    let body = format!(
        r##"<h2>API Registration {title}</h2>
<form method="post" action="/APIUserAccount/CheckApiUserReg" id="frmRoute">{radios}</form>
<form method="post" action="/APIUserAccount/CreateUserdata" id="frmCreate" onsubmit="return validateForm();">
<input type="hidden" name="RegType" value="{reg_type}">
{chooser}
{fields}
</form>
{table}"##,
        title = route_label(reg_type),
        radios = radios(
            p,
            g,
            Some(reg_type),
            r##"onchange="document.getElementById('frmRoute').submit()""##
        ),
        chooser = route_fields(p, g, reg_type),
        fields = credential_fields(p),
        table = registered_table(p, g)
    );
    form_page(p, g, body, &script)
}

/// The form again after a refused submit, with the refusal as an alert.
pub(super) fn form_again(p: &Portal, g: &str, reg_type: &str, msg: &str) -> Html<String> {
    let script = alert_script(msg, 0);
    match p.shared.layout.options_in_place {
        true => route_page(p, g, Some(reg_type), script),
        false => reg_form(p, g, reg_type, script),
    }
}

/// "GSPs / ERPs registered for this GSTIN" (pub: the page lists them).
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
