//! NIC's public key for the auth API, one per portal ("different on
//! Sandbox and Production"; sent by mail for production and downloadable
//! under API user management on the portal). PEM, as NIC ships it.

use rsa::RsaPublicKey;

/// Why a key file was refused (its text is never quoted).
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A certificate, not a key.
    #[error("{file}: this is a certificate; the auth API needs NIC's public key (-----BEGIN PUBLIC KEY-----), downloaded from the portal's API user management")]
    Certificate {
        /// The file.
        file: String,
    },
    /// Not an RSA public key in PEM.
    #[error("{file}: not an RSA public key in PEM (-----BEGIN PUBLIC KEY----- or -----BEGIN RSA PUBLIC KEY-----)")]
    NotAKey {
        /// The file.
        file: String,
    },
}

/// Reads a PEM public key: SubjectPublicKeyInfo or PKCS#1. `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<RsaPublicKey, KeyError> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::pkcs8::DecodePublicKey;
    let text = text.trim();
    if text.contains("BEGIN CERTIFICATE") {
        return Err(KeyError::Certificate { file: file.into() });
    }
    RsaPublicKey::from_public_key_pem(text)
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(text))
        .map_err(|_| KeyError::NotAKey { file: file.into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spki_and_pkcs1_are_read_certificates_and_junk_are_named() {
        let spki = include_str!("../../fixtures/api-auth/production-public.pem");
        let key = parse("p.pem", spki).unwrap();
        let pkcs1 = rsa::pkcs1::EncodeRsaPublicKey::to_pkcs1_pem(&key, Default::default()).unwrap();
        assert_eq!(parse("p1.pem", &pkcs1).unwrap(), key);
        let e = parse(
            "c.pem",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with("c.pem: this is a certificate"),
            "{e}"
        );
        let e = parse("j.pem", "hello").unwrap_err();
        assert!(
            e.to_string().starts_with("j.pem: not an RSA public key"),
            "{e}"
        );
    }
}
