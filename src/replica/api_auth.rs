//! The e-Invoice authentication API, version 1.04
//! (https://einv-apisandbox.nic.in/version1.04/authentication.html), for
//! the API users this replica holds: `POST /eivital/v1.04/auth` with
//! `client_id`, `client_secret` and `Gstin` headers and `{"Data": ...}`,
//! the credentials' JSON Base64-encoded and RSA-encrypted (PKCS#1 v1.5)
//! with the portal's public key. Error codes and texts are NIC's published
//! list; which code answers which mistake of the v1.04 payload, the
//! rate limit and the 5xx are guesses (fixtures/README.md).

use super::{Portal, PortalKind};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use base64::Engine;
use rand::RngCore;
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// What the API needs: each portal's private key and the accepted clients.
pub struct ApiAuth {
    sandbox_key: rsa::RsaPrivateKey,
    production_key: rsa::RsaPrivateKey,
    clients: Vec<(String, String)>,
}

/// A token handed out, reused while valid ("Any hits to this API within
/// these 360 minutes will return the same token").
pub struct Token {
    token: String,
    sek: Vec<u8>,
    expires: time::OffsetDateTime,
}

/// The API's own state, inside the replica's lock.
#[derive(Default)]
pub struct AuthState {
    tokens: HashMap<String, Token>,
    /// Recent calls per GSTIN, for the rate limit.
    recent: HashMap<String, Vec<Instant>>,
    calls: u64,
    /// Every (AuthToken, Sek) answered, as sent (a test aid: no output may hold them).
    pub issued: Vec<(String, String)>,
}

impl ApiAuth {
    /// Reads `api-auth/` from the fixtures folder.
    pub fn load(fixtures: &super::Fixtures) -> Result<ApiAuth, super::StartError> {
        let key = |name: &str| {
            let f = fixtures.read(&format!("api-auth/{name}"))?;
            rsa::pkcs8::DecodePrivateKey::from_pkcs8_pem(&f.text).map_err(|e| {
                super::StartError::Parse {
                    path: f.name.into(),
                    source: Box::new(e),
                }
            })
        };
        #[derive(serde::Deserialize)]
        struct Clients {
            client: Vec<Client>,
        }
        #[derive(serde::Deserialize)]
        struct Client {
            client_id: String,
            client_secret: String,
        }
        let clients: Clients = super::read_toml(fixtures, "api-auth/clients.toml")?;
        Ok(ApiAuth {
            sandbox_key: key("sandbox-private.pem")?,
            production_key: key("production-private.pem")?,
            clients: clients
                .client
                .into_iter()
                .map(|c| (c.client_id, c.client_secret))
                .collect(),
        })
    }
}

fn error(code: &str, message: &str) -> Response {
    Json(json!({
        "Status": 0,
        "Data": null,
        "ErrorDetails": [{"ErrorCode": code, "ErrorMessage": message}],
        "InfoDtls": null,
    }))
    .into_response()
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The credentials inside `Data`.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Login {
    #[serde(default)]
    user_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    app_key: String,
    #[serde(default)]
    force_refresh_access_token: bool,
}

pub async fn auth(
    axum::extract::State(p): axum::extract::State<Portal>,
    headers: HeaderMap,
    body: String,
) -> Response {
    if let Some(r) = p.fault("auth_api").await {
        return r;
    }
    if let Some(r) = busy_or_limited(&p, header(&headers, "gstin")) {
        return r;
    }
    let (cid, secret, gstin) = (
        header(&headers, "client_id"),
        header(&headers, "client_secret"),
        header(&headers, "gstin").to_uppercase(),
    );
    let api = &p.shared.api;
    if cid.is_empty() {
        return error("1011", "Client Id is required");
    }
    if secret.is_empty() {
        return error("1012", "Client Secret is required");
    }
    if !api.clients.iter().any(|(i, s)| i == cid && s == secret) {
        return error("1010", "Invalid Client-ID/Client-Secret");
    }
    if gstin.is_empty() {
        return error("1004", "Header GSTIN is required");
    }
    let login = match decrypt(&p, &body) {
        Ok(l) => l,
        Err(r) => return r,
    };
    if let Err(r) = check_user(&p, &gstin, &login) {
        p.shared.inner.lock().unwrap().bump("auth_refused");
        return r;
    }
    let app_key = B64.decode(login.app_key.as_bytes()).unwrap_or_default();
    if app_key.len() != 32 {
        return error("1016", "Decryption of App Key failed");
    }
    granted(&p, cid, &login, &app_key)
}

/// The 5xx and rate-limit faults, before anything is looked at.
fn busy_or_limited(p: &Portal, gstin: &str) -> Option<Response> {
    let mut inner = p.shared.inner.lock().unwrap();
    let f = &p.shared.faults;
    let st = &mut inner.auth;
    st.calls += 1;
    if st.calls <= f.auth_busy {
        return Some((StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response());
    }
    let limit = f.auth_rate?;
    let now = Instant::now();
    let recent = st.recent.entry(gstin.to_uppercase()).or_default();
    recent.retain(|t| now.duration_since(*t) < Duration::from_secs(1));
    recent.push(now);
    if recent.len() as u32 > limit {
        drop(inner);
        p.shared.inner.lock().unwrap().bump("auth_rate_limited");
        return Some(
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "1")],
                "Too many requests",
            )
                .into_response(),
        );
    }
    None
}

/// `Data` → the login, or the error NIC gives for a payload it cannot read.
fn decrypt(p: &Portal, body: &str) -> Result<Login, Response> {
    let key = match p.kind {
        PortalKind::Sandbox => &p.shared.api.sandbox_key,
        PortalKind::Production => &p.shared.api.production_key,
    };
    let outer: serde_json::Value = serde_json::from_str(body)
        .map_err(|_| error("1007", "Authentication failed. Pls. inform the helpdesk"))?;
    let data = outer["Data"].as_str().unwrap_or("");
    let plain = B64
        .decode(data.as_bytes())
        .ok()
        .and_then(|c| key.decrypt(rsa::Pkcs1v15Encrypt, &c).ok())
        .ok_or_else(|| error("1013", "Decryption of password failed"))?;
    B64.decode(&plain)
        .ok()
        .and_then(|j| serde_json::from_slice(&j).ok())
        .ok_or_else(|| error("1007", "Authentication failed. Pls. inform the helpdesk"))
}

/// The API user with that name and password, for that GSTIN.
fn check_user(p: &Portal, gstin: &str, l: &Login) -> Result<(), Response> {
    if l.user_name.is_empty() {
        return Err(error("1006", "User Name is required"));
    }
    let inner = p.shared.inner.lock().unwrap();
    let users: Vec<(&str, &str, u64)> = match p.kind {
        PortalKind::Production => inner
            .users
            .api_users
            .iter()
            .map(|u| (u.username.as_str(), u.gstin.as_str(), u.password_hash))
            .collect(),
        PortalKind::Sandbox => inner
            .users
            .sandbox_users
            .iter()
            .map(|u| (u.username.as_str(), u.gstin.as_str(), u.password_hash))
            .collect(),
    };
    let Some(&(_, owner, hash)) = users
        .iter()
        .find(|(u, _, _)| u.eq_ignore_ascii_case(&l.user_name))
    else {
        return Err(error("1017", "Incorrect user id/User does not exists"));
    };
    if hash != super::state::hash_password(&l.password) {
        return Err(error("1019", "Incorrect Password"));
    }
    if !owner.eq_ignore_ascii_case(gstin) {
        return Err(error("1015", "Invalid GSTIN for this user"));
    }
    Ok(())
}

/// Status 1: the token (the same one while valid), and a Sek encrypted
/// with the caller's AppKey (AES-256-ECB, PKCS#7).
fn granted(p: &Portal, client: &str, l: &Login, app_key: &[u8]) -> Response {
    let mut inner = p.shared.inner.lock().unwrap();
    inner.bump("auth_granted");
    let now = time::OffsetDateTime::now_utc();
    let validity = match p.kind {
        PortalKind::Sandbox => time::Duration::minutes(60),
        PortalKind::Production => time::Duration::minutes(360),
    };
    let key = format!("{client}|{}", l.user_name.to_lowercase());
    let mut rng_bytes = [0u8; 48];
    inner.rng.fill_bytes(&mut rng_bytes);
    let st = &mut inner.auth;
    let stale = st.tokens.get(&key).is_none_or(|t| {
        t.expires <= now
            || (l.force_refresh_access_token && t.expires - now <= time::Duration::minutes(10))
    });
    if stale {
        st.tokens.insert(
            key.clone(),
            Token {
                token: B64.encode(&rng_bytes[..16]),
                sek: rng_bytes[16..].to_vec(),
                expires: now + validity,
            },
        );
    }
    let t = &st.tokens[&key];
    let sek = B64.encode(aes_ecb(app_key, &t.sek));
    let token = t.token.clone();
    let expiry = t
        .expires
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
        .unwrap_or_default();
    st.issued.push((token.clone(), sek.clone()));
    Json(json!({
        "Status": 1,
        "Data": {
            "ClientId": client,
            "UserName": l.user_name,
            "AuthToken": token,
            "Sek": sek,
            "TokenExpiry": expiry,
        },
        "ErrorDetails": null,
        "InfoDtls": null,
    }))
    .into_response()
}

/// AES-256-ECB with PKCS#7 padding, as NIC encrypts the Sek.
fn aes_ecb(key: &[u8], plain: &[u8]) -> Vec<u8> {
    use aes::cipher::{BlockEncrypt, KeyInit};
    let cipher = aes::Aes256::new_from_slice(key).expect("a 32-byte key");
    let pad = 16 - plain.len() % 16;
    let mut data = plain.to_vec();
    data.extend(std::iter::repeat_n(pad as u8, pad));
    for block in data.chunks_mut(16) {
        cipher.encrypt_block(aes::Block::from_mut_slice(block));
    }
    data
}
