//! The auth call's body and answer, as NIC's v1.04 documentation gives
//! them (https://einv-apisandbox.nic.in/version1.04/authentication.html):
//! `{"Data": RSA(Base64(JSON))}` out, `Status` 1 with `Data` or `Status` 0
//! with `ErrorDetails` back. Nothing here keeps the token or the Sek.

use base64::Engine;
use rsa::RsaPublicKey;
use serde_json::json;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// What the API said, read from its JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `Status` 1 with an `AuthToken`: the credential works.
    Granted,
    /// `Status` 0: NIC's code and message (the first of `ErrorDetails`).
    Refused { code: String, message: String },
    /// Neither: not the API's JSON (e.g. a gateway's error page).
    Unreadable(String),
}

/// Why the body could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// The credentials do not fit one RSA block of this key.
    #[error("the credentials do not fit one RSA block of the public key")]
    TooLong(#[source] rsa::Error),
}

/// `{"Data": ...}`: the login JSON, Base64, RSA-encrypted (PKCS#1 v1.5,
/// as NIC's sample code does), Base64 again. `app_key` is 32 random bytes.
pub fn body(
    key: &RsaPublicKey,
    username: &str,
    password: &str,
    app_key: &[u8; 32],
) -> Result<String, PayloadError> {
    let login = json!({
        "UserName": username,
        "Password": password,
        "AppKey": B64.encode(app_key),
        "ForceRefreshAccessToken": false,
    });
    let inner = B64.encode(login.to_string());
    let mut rng = rand_core_06::OsRng;
    let sealed = key
        .encrypt(&mut rng, rsa::Pkcs1v15Encrypt, inner.as_bytes())
        .map_err(PayloadError::TooLong)?;
    Ok(json!({ "Data": B64.encode(sealed) }).to_string())
}

/// A fresh AppKey.
pub fn app_key() -> [u8; 32] {
    let mut k = [0u8; 32];
    rand_core_06::RngCore::fill_bytes(&mut rand_core_06::OsRng, &mut k);
    k
}

/// Reads a `200` answer. `Status` may be a number or a string;
/// `ErrorDetails` an array or (older versions) its Base64.
pub fn answer(body: &[u8]) -> Answer {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Answer::Unreadable("the answer is not JSON".into());
    };
    let status = match &v["Status"] {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    match status {
        Some(1)
            if v["Data"]["AuthToken"]
                .as_str()
                .is_some_and(|t| !t.is_empty()) =>
        {
            Answer::Granted
        }
        Some(1) => Answer::Unreadable("Status 1 without an AuthToken".into()),
        Some(0) => refused(&v["ErrorDetails"]),
        _ => Answer::Unreadable("no Status in the answer".into()),
    }
}

fn refused(details: &serde_json::Value) -> Answer {
    let decoded;
    let details = match details.as_str() {
        Some(s) => {
            decoded = B64
                .decode(s.trim())
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or(serde_json::Value::Null);
            &decoded
        }
        None => details,
    };
    let first = match details {
        serde_json::Value::Array(a) => a.first().cloned().unwrap_or_default(),
        other => other.clone(),
    };
    let text = |k: &str| match &first[k] {
        serde_json::Value::String(s) => s.trim().to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    match text("ErrorCode") {
        code if code.is_empty() => Answer::Unreadable("Status 0 without an ErrorCode".into()),
        code => Answer::Refused {
            code,
            message: text("ErrorMessage"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_in_every_published_shape() {
        let ok = br#"{"Status":1,"Data":{"ClientId":"c","UserName":"u","AuthToken":"t0k","Sek":"s","TokenExpiry":"2026-12-01 20:00:00"}}"#;
        assert_eq!(answer(ok), Answer::Granted);
        let as_text = br#"{"Status":"1","Data":{"AuthToken":"t0k"}}"#;
        assert_eq!(answer(as_text), Answer::Granted);
        let bad = br#"{"Status":0,"ErrorDetails":[{"ErrorCode":"1019","ErrorMessage":"Incorrect Password"}],"InfoDtls":null}"#;
        assert_eq!(
            answer(bad),
            Answer::Refused {
                code: "1019".into(),
                message: "Incorrect Password".into()
            }
        );
        let old = format!(
            r#"{{"Status":"0","ErrorDetails":"{}"}}"#,
            B64.encode(
                r#"[{"ErrorCode":1017,"ErrorMessage":"Incorrect user id/User does not exists"}]"#
            )
        );
        assert!(matches!(answer(old.as_bytes()), Answer::Refused { code, .. } if code == "1017"));
        assert!(matches!(answer(b"<html>502</html>"), Answer::Unreadable(_)));
        assert!(matches!(
            answer(br#"{"Status":1,"Data":{}}"#),
            Answer::Unreadable(_)
        ));
        assert!(matches!(answer(br#"{"Status":0}"#), Answer::Unreadable(_)));
    }

    #[test]
    fn the_body_decrypts_to_the_documented_json() {
        let pem = include_str!("../../fixtures/api-auth/sandbox-private.pem");
        let private: rsa::RsaPrivateKey =
            rsa::pkcs8::DecodePrivateKey::from_pkcs8_pem(pem).unwrap();
        let key = private.to_public_key();
        let ak = app_key();
        let b = body(&key, "API_demo", "Pw@123456x", &ak).unwrap();
        assert!(!b.contains("Pw@123456x") && !b.contains("API_demo"));
        let outer: serde_json::Value = serde_json::from_str(&b).unwrap();
        let sealed = B64.decode(outer["Data"].as_str().unwrap()).unwrap();
        let inner = private.decrypt(rsa::Pkcs1v15Encrypt, &sealed).unwrap();
        let login: serde_json::Value = serde_json::from_slice(&B64.decode(inner).unwrap()).unwrap();
        assert_eq!(login["UserName"], "API_demo");
        assert_eq!(login["Password"], "Pw@123456x");
        assert_eq!(B64.decode(login["AppKey"].as_str().unwrap()).unwrap(), ak);
        assert_eq!(login["AppKey"].as_str().unwrap().len(), 44);
        assert_eq!(login["ForceRefreshAccessToken"], false);
    }
}
