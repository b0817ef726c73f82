//! The desk's routes. Operators sign in with the desk token (or the
//! one-time link printed at start) and get a session cookie; every POST
//! also carries the session's CSRF token. Taxpayers reach only their own
//! link. Wrong tokens are limited per client address.

use super::board::{LinkRefused, OpenLink, Refused};
use super::pages;
use super::token::Token;
use super::State;
use crate::operator::{By, Reply};
use crate::redact::Secret;
use axum::extract::connect_info::{ConnectInfo, Connected};
use axum::extract::{Form, Path, Query, Request, State as With};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use axum::serve::IncomingStream;
use axum::Router;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a state request waits for something to change.
const LONG_POLL: Duration = Duration::from_secs(15);

const CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self'; \
                   style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The client's address, on plain and TLS listeners alike.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl Connected<IncomingStream<'_, tokio::net::TcpListener>> for Peer {
    fn connect_info(s: IncomingStream<'_, tokio::net::TcpListener>) -> Peer {
        Peer(*s.remote_addr())
    }
}

impl Connected<IncomingStream<'_, super::tls::TlsListener>> for Peer {
    fn connect_info(s: IncomingStream<'_, super::tls::TlsListener>) -> Peer {
        Peer(*s.remote_addr())
    }
}

type Desk = With<Arc<State>>;
type Client = ConnectInfo<Peer>;

pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/desk", get(view))
        .route("/desk/login", get(login_page).post(login_post))
        .route("/desk/desk.js", get(script))
        .route("/desk/api/state", get(api_state))
        .route("/desk/prompt/{id}/image", get(image))
        .route("/desk/prompt/{id}", post(answer))
        .route("/otp/{token}", get(link_page).post(link_post))
        .fallback(|| async {
            html(
                StatusCode::NOT_FOUND,
                pages::message("Not found", "There is nothing here."),
            )
        })
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        // Answers and tokens are a few bytes: a larger body is refused (413).
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// The most a request to the desk may carry.
pub const MAX_BODY: usize = 16 * 1024;

/// Refuses Host names a loopback desk does not have (DNS rebinding), and
/// marks every answer uncacheable, unframeable and script-restricted.
async fn guard(With(s): Desk, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    if let Some(allowed) = &s.settings.hosts {
        if !host.is_some_and(|h| allowed.iter().any(|a| a.eq_ignore_ascii_case(h))) {
            return (
                StatusCode::MISDIRECTED_REQUEST,
                "this desk answers on its own address only",
            )
                .into_response();
        }
    }
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

fn json_error(status: StatusCode, msg: impl std::fmt::Display, gone: bool) -> Response {
    let body = serde_json::json!({"ok": false, "error": msg.to_string(), "gone": gone});
    (status, Json(body)).into_response()
}

/// A 429 page while `ip` has used up its wrong tokens.
fn limited(s: &State, ip: IpAddr) -> Option<Response> {
    let wait = s.auth().limiter.check(ip, Instant::now()).err()?;
    let text = format!(
        "Too many wrong links or tokens from this address: try again in {} s.",
        wait.as_secs().max(1)
    );
    let mut r = html(
        StatusCode::TOO_MANY_REQUESTS,
        pages::message("Too many attempts", &text),
    );
    r.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(wait.as_secs().max(1)),
    );
    Some(r)
}

fn failed(s: &State, ip: IpAddr) {
    if s.auth().limiter.failed(ip, Instant::now()) {
        tracing::warn!("answer desk: many wrong tokens from many addresses in a minute: someone may be guessing; every address that fails now is locked for a minute");
    }
}

/// The operator session the request's cookie names: its CSRF token.
fn session(s: &State, headers: &HeaderMap) -> Option<Token> {
    let prefix = format!("{}=", s.settings.cookie);
    let given = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(prefix.as_str()).map(str::to_string))?;
    let auth = s.auth();
    let i = super::token::find(&auth.sessions, |o| &o.id, &given)?;
    Some(auth.sessions[i].csrf.clone())
}

/// Starts an operator session: its cookie, then the operator view.
fn signed_in(s: &State) -> Response {
    let id = s.auth().new_session();
    let secure = if s.settings.secure { "; Secure" } else { "" };
    let cookie = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Strict{secure}",
        s.settings.cookie,
        id.expose()
    );
    let mut r = Redirect::to("/desk").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

async fn login_page(
    With(s): Desk,
    ConnectInfo(Peer(a)): Client,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(once) = q.get("once") else {
        return html(StatusCode::OK, pages::login(None));
    };
    if let Some(r) = limited(&s, a.ip()) {
        return r;
    }
    if s.auth().take_once(once) {
        return signed_in(&s);
    }
    failed(&s, a.ip());
    let why = "This sign-in link is not valid, or was already used: paste the desk token instead.";
    html(StatusCode::FORBIDDEN, pages::login(Some(why)))
}

async fn login_post(
    With(s): Desk,
    ConnectInfo(Peer(a)): Client,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    // The desk token always signs in: a stranger's wrong tokens from a
    // shared address (loopback, a proxy) must not lock the operators out.
    let given = f.get("token").map(|t| t.trim()).unwrap_or("");
    if s.auth().operator.matches(given) {
        return signed_in(&s);
    }
    if let Some(r) = limited(&s, a.ip()) {
        return r;
    }
    failed(&s, a.ip());
    html(
        StatusCode::FORBIDDEN,
        pages::login(Some("That is not this desk's token.")),
    )
}

async fn view(With(s): Desk, headers: HeaderMap) -> Response {
    match session(&s, &headers) {
        Some(csrf) => html(StatusCode::OK, pages::operator(csrf.expose())),
        None => Redirect::to("/desk/login").into_response(),
    }
}

async fn script() -> Response {
    let js = include_str!("desk.js");
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        js,
    )
        .into_response()
}

/// The board as JSON; waits (up to [`LONG_POLL`]) while it is no newer than `since`.
async fn api_state(
    With(s): Desk,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if session(&s, &headers).is_none() {
        return json_error(StatusCode::UNAUTHORIZED, "sign in again", false);
    }
    let since: u64 = q.get("since").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut rx = s.board.subscribe();
    if *rx.borrow_and_update() <= since {
        // A timeout just means nothing changed: the page asks again.
        if tokio::time::timeout(LONG_POLL, rx.changed()).await.is_err() {
            tracing::trace!("desk long poll: no change");
        }
    }
    Json(s.board.snapshot()).into_response()
}

async fn image(With(s): Desk, headers: HeaderMap, Path(id): Path<u64>) -> Response {
    if session(&s, &headers).is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    match s.board.png(id) {
        Some(png) => ([(header::CONTENT_TYPE, "image/png")], png.as_ref().clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// An operator's answer (or "a new one, please") to prompt `id`.
async fn answer(
    With(s): Desk,
    headers: HeaderMap,
    Path(id): Path<u64>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let Some(csrf) = session(&s, &headers) else {
        return json_error(StatusCode::UNAUTHORIZED, "sign in again", false);
    };
    let given = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !csrf.matches(given) {
        return json_error(
            StatusCode::FORBIDDEN,
            "this page is out of date: reload it",
            false,
        );
    }
    let Some(what) = s.board.what(id) else {
        return json_error(StatusCode::CONFLICT, Refused::Gone, true);
    };
    let reply = match f.get("action").map(String::as_str) {
        Some("renew") => Reply::Renew,
        Some("answer") => {
            let text = f.get("answer").map(|a| a.trim()).unwrap_or("");
            if let Err(why) = valid(what, text) {
                return json_error(StatusCode::BAD_REQUEST, why, false);
            }
            Reply::Answer(Secret::new(text), By::DeskOperator)
        }
        _ => return json_error(StatusCode::BAD_REQUEST, "say answer or renew", false),
    };
    match s.board.answer(id, reply) {
        Ok(()) => Json(serde_json::json!({"ok": true})).into_response(),
        Err(e @ Refused::Gone) => json_error(StatusCode::CONFLICT, e, true),
        Err(e) => json_error(StatusCode::BAD_REQUEST, e, false),
    }
}

/// Why an answer typed on the desk is sent back to the operator.
#[derive(Debug, thiserror::Error)]
enum BadAnswer {
    /// Not an OTP.
    #[error(transparent)]
    Otp(crate::rules::Invalid),
    /// Not what a captcha holds.
    #[error("type the characters in the image (letters and digits)")]
    Captcha,
    /// Not one line.
    #[error("answer on one line: a number, a target, accept, dismiss, skip or stop")]
    Repair,
}

/// Checked before the portal sees it: an OTP is 6 digits; a captcha, a few letters or digits.
fn valid(what: &str, text: &str) -> Result<(), BadAnswer> {
    match what {
        "OTP" => crate::rules::validate_otp(text).map_err(BadAnswer::Otp),
        // A number, a target or a word: one line of reasonable length.
        "repair" if (1..=500).contains(&text.len()) && !text.chars().any(char::is_control) => {
            Ok(())
        }
        "repair" => Err(BadAnswer::Repair),
        _ if (1..=12).contains(&text.len()) && text.chars().all(|c| c.is_ascii_alphanumeric()) => {
            Ok(())
        }
        _ => Err(BadAnswer::Captcha),
    }
}

/// The page for a refused link; a wrong token or a forged form counts
/// against the address.
fn refused(s: &State, ip: IpAddr, why: LinkRefused) -> Response {
    if matches!(why, LinkRefused::Unknown | LinkRefused::BadForm) {
        failed(s, ip);
    }
    link_gone(why)
}

fn link_gone(v: LinkRefused) -> Response {
    let (title, text) = match v {
        LinkRefused::Used => ("Link already used", "This link was already used: the OTP has been passed on. There is nothing more to do."),
        LinkRefused::Expired => ("Link expired", "This link has expired, as OTPs do. If the registration still needs you, the team will send a new one."),
        LinkRefused::Withdrawn => ("OTP no longer needed", "This OTP is no longer needed: it was entered another way, or a newer link was sent. There is nothing more to do here."),
        LinkRefused::BadForm => ("Please open the link again", "This form is out of date: open the link from your message again."),
        LinkRefused::Unknown => ("Link not valid", "This link is not valid. Check that you opened the whole link from your message."),
    };
    let status = match v {
        LinkRefused::Unknown => StatusCode::NOT_FOUND,
        LinkRefused::BadForm => StatusCode::FORBIDDEN,
        _ => StatusCode::GONE,
    };
    html(status, pages::message(title, text))
}

async fn link_page(
    With(s): Desk,
    ConnectInfo(Peer(a)): Client,
    Path(token): Path<String>,
) -> Response {
    if let Some(r) = limited(&s, a.ip()) {
        return r;
    }
    match s.board.link(&token, Instant::now()) {
        Ok(l) => html(
            StatusCode::OK,
            pages::link_form(&l.gstin, &l.mobile, &l.csrf, None),
        ),
        Err(why) => refused(&s, a.ip(), why),
    }
}

async fn link_post(
    With(s): Desk,
    ConnectInfo(Peer(a)): Client,
    Path(token): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Some(r) = limited(&s, a.ip()) {
        return r;
    }
    let now = Instant::now();
    let OpenLink {
        gstin,
        mobile,
        csrf,
    } = match s.board.link(&token, now) {
        Ok(l) => l,
        Err(why) => return refused(&s, a.ip(), why),
    };
    let otp = f.get("otp").map(|o| o.trim()).unwrap_or("");
    if let Err(e) = crate::rules::validate_otp(otp) {
        let why = format!("{e}: type it again.");
        return html(
            StatusCode::BAD_REQUEST,
            pages::link_form(&gstin, &mobile, &csrf, Some(&why)),
        );
    }
    let form_csrf = f.get("csrf").map(String::as_str).unwrap_or("");
    let reply = Reply::Answer(Secret::new(otp), By::TaxpayerLink);
    match s.board.answer_link(&token, form_csrf, reply, now) {
        Ok(()) => html(
            StatusCode::OK,
            pages::message(
                "Thank you",
                "Thank you. The OTP has been passed on; you can close this page.",
            ),
        ),
        Err(why) => refused(&s, a.ip(), why),
    }
}
