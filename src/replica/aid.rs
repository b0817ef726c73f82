//! Replica-only test aids under `/__replica/`: the SMS outbox, the current
//! captcha answer, and levers for tests. Nothing like this exists on the
//! real portals; the operator's `--auto-answer` refuses anything else.

use super::Portal;
use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use axum::Router;
use std::collections::HashMap;

pub fn router() -> Router<Portal> {
    Router::new()
        .route("/__replica/info", get(info))
        .route("/__replica/sms", get(sms))
        .route("/__replica/otp", get(otp))
        .route("/__replica/captcha", get(captcha))
        .route("/__replica/shield", get(shield))
        .route("/__replica/users", get(users))
        .route("/__replica/taxpayers", get(taxpayers))
        .route("/__replica/browsers", get(browsers))
        .route("/__replica/counters", get(counters))
        .route("/__replica/captchas", get(captchas))
        .route("/__replica/read-captcha", post(read_captcha))
        .route("/__replica/auth", post(auth))
        .route("/__replica/auth-tokens", get(auth_tokens))
        .route("/__replica/expire-otps", post(expire_otps))
        .route("/__replica/expire-sessions", post(expire_sessions))
}

async fn info(State(p): State<Portal>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "replica": "einvreg",
        "portal": match p.kind { super::PortalKind::Sandbox => "sandbox", super::PortalKind::Production => "production" },
        "session_cookie": p.cookie_name(),
        "drift": p.shared.drift.map(|d| d.name()),
        "layout": p.shared.layout.name,
    }))
}

/// The code a taxpayer's NIC-GST-Shield app shows now, for the session
/// logging in (`?session=`) or a login (`?login=`), with its seconds left.
async fn shield(State(p): State<Portal>, Query(q): Query<HashMap<String, String>>) -> Response {
    let gstin = match (q.get("session"), q.get("login")) {
        (Some(sid), _) => {
            let inner = p.shared.inner.lock().unwrap();
            inner
                .sessions
                .get(sid)
                .and_then(|s| s.pending_login.clone().or_else(|| s.gstin.clone()))
        }
        (None, Some(login)) => p.shared.login(login).map(|(t, _)| t.gstin),
        (None, None) => None,
    };
    let Some(g) = gstin else {
        return (
            axum::http::StatusCode::NOT_FOUND,
            "no login in progress for this session",
        )
            .into_response();
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let period = super::state::SHIELD_PERIOD;
    let code = super::state::shield_code(&g, now / period);
    Json(serde_json::json!({"code": code, "seconds_left": period - now % period})).into_response()
}

/// The whole outbox, or `?mobile=` only.
async fn sms(
    State(p): State<Portal>,
    Query(q): Query<HashMap<String, String>>,
) -> Json<serde_json::Value> {
    let inner = p.shared.inner.lock().unwrap();
    let list: Vec<_> = inner
        .outbox
        .iter()
        .filter(|m| q.get("mobile").is_none_or(|x| *x == m.mobile))
        .collect();
    Json(serde_json::to_value(list).unwrap())
}

/// The latest OTP sent for a browser session (`?session=<cookie value>`).
async fn otp(State(p): State<Portal>, Query(q): Query<HashMap<String, String>>) -> Response {
    let inner = p.shared.inner.lock().unwrap();
    let sid = q.get("session").cloned().unwrap_or_default();
    match inner.outbox.iter().rev().find(|m| m.session == sid) {
        Some(m) => Json(serde_json::json!({"otp": m.otp, "seq": m.seq})).into_response(),
        None => (
            axum::http::StatusCode::NOT_FOUND,
            "no OTP sent to this session",
        )
            .into_response(),
    }
}

/// The answer to the captcha currently shown to a session.
async fn captcha(State(p): State<Portal>, Query(q): Query<HashMap<String, String>>) -> Response {
    let inner = p.shared.inner.lock().unwrap();
    let sid = q.get("session").cloned().unwrap_or_default();
    match inner.sessions.get(&sid).and_then(|s| s.captcha.clone()) {
        Some(c) => Json(serde_json::json!({"answer": c})).into_response(),
        None => (
            axum::http::StatusCode::NOT_FOUND,
            "no captcha shown to this session",
        )
            .into_response(),
    }
}

/// The taxpayer directory without passwords: GSTIN, login (`null` until
/// one is registered), names, mobile, e-mail (the bench builds its
/// batches and reference runs from it).
async fn taxpayers(State(p): State<Portal>) -> Json<serde_json::Value> {
    let list: Vec<_> = p
        .shared
        .taxpayers
        .iter()
        .map(|t| {
            serde_json::json!({
                "gstin": t.gstin, "username": p.shared.login_name(&t.gstin), "trade_name": t.trade_name,
                "mobile": t.mobile, "email": t.email, "tech_popup": t.tech_popup,
            })
        })
        .collect();
    Json(serde_json::Value::Array(list))
}

/// Login posts per browser (see `Portal::count_login`).
async fn browsers(State(p): State<Portal>) -> Json<serde_json::Value> {
    let inner = p.shared.inner.lock().unwrap();
    Json(serde_json::to_value(&inner.logins_by_browser).unwrap())
}

/// Users created so far (password hashes only).
async fn users(State(p): State<Portal>) -> Json<serde_json::Value> {
    let inner = p.shared.inner.lock().unwrap();
    Json(serde_json::to_value(&inner.users).unwrap())
}

async fn counters(State(p): State<Portal>) -> Json<serde_json::Value> {
    let inner = p.shared.inner.lock().unwrap();
    Json(serde_json::to_value(&inner.counters).unwrap())
}

async fn expire_otps(State(p): State<Portal>) -> &'static str {
    p.shared.inner.lock().unwrap().expire_otps();
    "ok"
}

async fn expire_sessions(State(p): State<Portal>) -> &'static str {
    p.shared.inner.lock().unwrap().sessions.clear();
    "ok"
}

/// Every AuthToken and Sek the auth API answered (proves none leaks).
async fn auth_tokens(State(p): State<Portal>) -> Json<serde_json::Value> {
    let inner = p.shared.inner.lock().unwrap();
    Json(serde_json::to_value(&inner.auth.issued).unwrap())
}

/// Every captcha answer issued so far.
async fn captchas(State(p): State<Portal>) -> Json<serde_json::Value> {
    let inner = p.shared.inner.lock().unwrap();
    Json(serde_json::to_value(&inner.captcha_log).unwrap())
}

/// Reads a captcha image the replica served (the PNG, base64, as the
/// body, however a browser re-encoded it) and answers its text, as a
/// person looking at it would: tests acting as desk operators use it.
async fn read_captcha(State(p): State<Portal>, body: String) -> Response {
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .unwrap_or_default();
    let key = super::captcha::pixels_key(&png);
    let inner = p.shared.inner.lock().unwrap();
    match key.and_then(|k| inner.captcha_images.get(&k)) {
        Some(text) => Json(serde_json::json!({"answer": text})).into_response(),
        None => (
            axum::http::StatusCode::NOT_FOUND,
            "not a captcha image this replica served",
        )
            .into_response(),
    }
}

/// Checks API credentials, as the real `POST /eivital/v1.04/auth` would
/// (without its encryption): 200 when the user exists with that password.
async fn auth(State(p): State<Portal>, Form(f): Form<HashMap<String, String>>) -> Response {
    let inner = p.shared.inner.lock().unwrap();
    let user = f.get("username").cloned().unwrap_or_default();
    let h = super::state::hash_password(f.get("password").map(String::as_str).unwrap_or(""));
    let ok = match p.kind {
        super::PortalKind::Production => inner
            .users
            .api_users
            .iter()
            .any(|u| u.username == user && u.password_hash == h),
        super::PortalKind::Sandbox => inner
            .users
            .sandbox_users
            .iter()
            .any(|u| u.username == user && u.password_hash == h),
    };
    if ok {
        Json(serde_json::json!({"Status": 1})).into_response()
    } else {
        (
            axum::http::StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"Status": 0, "ErrorDetails": "Invalid login credentials"})),
        )
            .into_response()
    }
}
