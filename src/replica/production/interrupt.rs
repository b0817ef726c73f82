//! The `interruptions` fault: what a real session meets at unplanned
//! moments (evidence 8 and our guesses), shown a random time after a page
//! loads. The technical-person notice is the one public; the announcement
//! and the expiry warning are [guess] in kind, wording and markup.

use super::*;
use rand::Rng;

/// Each kind's counter in `/__replica/counters`.
const KINDS: [&str; 3] = [
    "interruptions.tech_person",
    "interruptions.announcement",
    "interruptions.session_warning",
];

/// How late after the load an interruption may show.
const LATEST_MS: u64 = 1500;

/// An announcement modal [guess].
const ANNOUNCEMENT: &str = r##"<div class="modal" id="announcementModal"><div class="box"><h3>Announcement</h3><p>2-Factor Authentication is mandatory for all taxpayers. Keep your registered mobile number updated.</p><button class="btn" type="button" id="btnCloseAnnouncement" onclick="document.getElementById('announcementModal').remove()">Close</button></div></div>"##;

/// The session-expiry warning [guess]: an alert, as results are (portal-facts 10).
const EXPIRY: &str = "Your session is about to expire due to inactivity. Click OK to continue.";

/// With the fault's probability, a script that shows the next kind of
/// interruption at a random moment; otherwise nothing.
pub(super) fn maybe(p: &Portal) -> String {
    let Some(prob) = p.shared.faults.interruptions else {
        return String::new();
    };
    let (kind, delay) = {
        let mut inner = p.shared.inner.lock().unwrap();
        if !inner.rng.random_bool(prob) {
            return String::new();
        }
        // The kinds take turns, so a few pages show each; the moment is random.
        let n = inner.counters.get("interruptions").copied().unwrap_or(0);
        inner.bump("interruptions");
        inner.bump(KINDS[(n % 3) as usize]);
        (n % 3, inner.rng.random_range(0..=LATEST_MS))
    };
    let show = match kind {
        // One notice at a time: the dashboard may show its own already.
        0 => format!(
            "if(!document.getElementById('techPersonModal'))document.body.insertAdjacentHTML('beforeend',{})",
            js(&tech_notice(true))
        ),
        1 => format!(
            "document.body.insertAdjacentHTML('beforeend',{})",
            js(ANNOUNCEMENT)
        ),
        _ => format!("alert({})", js(EXPIRY)),
    };
    format!("<script>window.addEventListener('load',function(){{setTimeout(function(){{{show};}},{delay});}});</script>")
}

/// The `stuck_alert` fault: on the first page after a login, the expiry
/// alert three times in a row (each answer opens the next); once.
pub(super) fn stuck(p: &Portal) -> String {
    if !p.shared.faults.stuck_alert {
        return String::new();
    }
    let mut inner = p.shared.inner.lock().unwrap();
    if inner
        .counters
        .get("stuck_alert.shown")
        .copied()
        .unwrap_or(0)
        > 0
    {
        return String::new();
    }
    inner.bump("stuck_alert.shown");
    format!(
        "<script>window.addEventListener('load',function(){{for(var i=0;i<3;i++)alert({});}});</script>",
        js(EXPIRY)
    )
}

/// The `expiry_after_password` fault: while the password is typed the
/// re-enter box hides; 150 ms after the last key the expiry alert opens;
/// answered, the box shows again. `expiry_mid_retype`: the alert the
/// moment the first key goes into the re-enter box. Each once.
pub(super) fn on_password_boxes(p: &Portal) -> String {
    let f = &p.shared.faults;
    let (name, on_input) = match (f.expiry_after_password, f.expiry_mid_retype) {
        (true, _) => ("expiry_after_password.shown", AFTER_PASSWORD),
        (false, true) => ("expiry_mid_retype.shown", MID_RETYPE),
        (false, false) => return String::new(),
    };
    let mut inner = p.shared.inner.lock().unwrap();
    if inner.counters.get(name).copied().unwrap_or(0) > 0 {
        return String::new();
    }
    inner.bump(name);
    // By type, not id: the renamed layout changes ids.
    let script = on_input.replace("ALERT", &format!("alert({})", js(EXPIRY)));
    format!("<script>(function(){{var timer=null;document.addEventListener('input',function(e){{var b=document.querySelectorAll('input[type=password]');if(b.length<2||timer===false)return;{script}}},true);}})();</script>")
}

/// On input into the password box: hide the re-enter box; alert 150 ms after the last key.
const AFTER_PASSWORD: &str = "if(e.target!==b[0])return;b[1].style.display='none';clearTimeout(timer);timer=setTimeout(function(){timer=false;ALERT;b[1].style.display='';},150);";

/// On the first input into the re-enter box: the alert at once.
const MID_RETYPE: &str = "if(e.target!==b[1])return;timer=false;setTimeout(function(){ALERT;},0);";

/// Counted once the slow Create API User page is asked for.
const WHILE_LOADING: &str = "expiry_while_loading.shown";

/// The `expiry_while_loading` fault, on each page until it has fired: the
/// expiry alert 50 ms after the Create API User link is clicked (by
/// address: the renamed layout changes ids).
pub(super) fn on_create_link(p: &Portal) -> String {
    if !p.shared.faults.expiry_while_loading || fired(p, WHILE_LOADING) {
        return String::new();
    }
    format!("<script>document.addEventListener('click',function(e){{if(e.target.closest&&e.target.closest('a[href$=\"/APIUserAccount/CreateAPIUser\"]'))setTimeout(function(){{alert({});}},50);}},true);</script>", js(EXPIRY))
}

/// The `expiry_while_loading` fault's slow page: the first Create API
/// User page comes 1.5 s late, so the alert opens while it loads.
pub(super) async fn slow_create_page(p: &Portal) {
    if !p.shared.faults.expiry_while_loading || fired(p, WHILE_LOADING) {
        return;
    }
    p.shared.inner.lock().unwrap().bump(WHILE_LOADING);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
}

fn fired(p: &Portal, name: &str) -> bool {
    let inner = p.shared.inner.lock().unwrap();
    inner.counters.get(name).copied().unwrap_or(0) > 0
}
