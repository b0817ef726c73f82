//! Vault encryption with age (X25519): with recipients, each record is
//! written sealed, so a stolen laptop holds no credential; reading needs an
//! identity (the private key) file.

use age::secrecy::ExposeSecret;
use age::x25519::{Identity, Recipient};
use base64::Engine;
use std::str::FromStr;

/// Why sealing or opening failed. Never carries a key or a plaintext.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// A recipient that is not an `age1...` public key.
    #[error("{source_name}: `{shown}` is not an age recipient (age1...): {why}")]
    BadRecipient {
        /// Where it was given (an option, or file:line).
        source_name: String,
        /// The start of the value (public keys are not secret).
        shown: String,
        /// The parser's reason.
        why: &'static str,
    },
    /// An identity file without a usable key (its lines are never shown).
    #[error("{file}: line {line} is not an age identity (AGE-SECRET-KEY-1...)")]
    BadIdentity {
        /// The identity file.
        file: String,
        /// 1-based line.
        line: usize,
    },
    /// An identity file with no key at all.
    #[error("{file}: holds no age identity (AGE-SECRET-KEY-1...); make one with `einvreg vault keygen -o FILE`")]
    NoIdentity {
        /// The identity file.
        file: String,
    },
    /// A sealed record, and no identity given.
    #[error("it is encrypted: give the identity file with --vault-identity FILE (or EINVREG_VAULT_IDENTITY)")]
    NeedIdentity,
    /// No identity given opens this record.
    #[error("none of the given identities opens it (a vault sealed for other recipients?)")]
    WrongIdentity(#[source] age::DecryptError),
    /// Not the sealed text einvreg writes.
    #[error("its sealed text is damaged")]
    Damaged,
    /// age could not encrypt.
    #[error("cannot encrypt")]
    Encrypt(#[source] age::EncryptError),
}

/// Who records are sealed for, and who may open them.
#[derive(Default)]
pub struct Keys {
    recipients: Vec<Recipient>,
    identities: Vec<Identity>,
}

impl Keys {
    /// Adds a recipient; `source_name` names where it came from in errors.
    pub fn add_recipient(&mut self, source_name: &str, key: &str) -> Result<(), SealError> {
        let r = Recipient::from_str(key.trim()).map_err(|why| SealError::BadRecipient {
            source_name: source_name.into(),
            shown: key.trim().chars().take(12).collect::<String>() + "…",
            why,
        })?;
        self.recipients.push(r);
        Ok(())
    }

    /// Adds every recipient of a recipients file (one per line, `#` comments).
    pub fn add_recipients_file(&mut self, file: &str, text: &str) -> Result<(), SealError> {
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if !l.is_empty() && !l.starts_with('#') {
                self.add_recipient(&format!("{file}:{}", i + 1), l)?;
            }
        }
        Ok(())
    }

    /// Adds every identity of an identity file (as `age-keygen` writes it).
    pub fn add_identity_file(&mut self, file: &str, text: &str) -> Result<(), SealError> {
        let before = self.identities.len();
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let id = Identity::from_str(l).map_err(|_| SealError::BadIdentity {
                file: file.into(),
                line: i + 1,
            })?;
            self.identities.push(id);
        }
        if self.identities.len() == before {
            return Err(SealError::NoIdentity { file: file.into() });
        }
        Ok(())
    }

    /// Whether new records are sealed.
    pub fn seals(&self) -> bool {
        !self.recipients.is_empty()
    }

    /// Whether sealed records can be opened.
    pub fn opens(&self) -> bool {
        !self.identities.is_empty()
    }

    /// `plain` sealed for every recipient, as base64 (one JSON string).
    pub fn seal(&self, plain: &str) -> Result<String, SealError> {
        let rs = self.recipients.iter().map(|r| r as &dyn age::Recipient);
        let enc = age::Encryptor::with_recipients(rs).map_err(SealError::Encrypt)?;
        let mut out = vec![];
        let mut w = enc
            .wrap_output(&mut out)
            .map_err(|e| SealError::Encrypt(e.into()))?;
        std::io::Write::write_all(&mut w, plain.as_bytes())
            .and_then(|_| w.finish().map(|_| ()))
            .map_err(|e| SealError::Encrypt(e.into()))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(out))
    }

    /// Opens what [`Keys::seal`] wrote.
    pub fn open(&self, sealed: &str) -> Result<String, SealError> {
        if self.identities.is_empty() {
            return Err(SealError::NeedIdentity);
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|_| SealError::Damaged)?;
        let dec = age::Decryptor::new_buffered(&bytes[..]).map_err(SealError::WrongIdentity)?;
        let ids = self.identities.iter().map(|i| i as &dyn age::Identity);
        let mut r = dec.decrypt(ids).map_err(SealError::WrongIdentity)?;
        let mut s = String::new();
        std::io::Read::read_to_string(&mut r, &mut s).map_err(|_| SealError::Damaged)?;
        Ok(s)
    }
}

/// A new identity file's text and its recipient (`einvreg vault keygen`).
pub fn keygen() -> (String, String) {
    let id = Identity::generate();
    let public = id.to_public().to_string();
    let when = crate::vault::now_rfc3339();
    let text = format!(
        "# created: {when}\n# public key: {public}\n{}\n",
        id.to_string().expose_secret()
    );
    (text, public)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_for_two_opened_by_either_not_by_a_stranger() {
        let (a, ra) = keygen();
        let (b, rb) = keygen();
        let (c, _) = keygen();
        let mut w = Keys::default();
        w.add_recipient("--vault-recipient", &ra).unwrap();
        w.add_recipients_file("r.txt", &format!("# ops\n{rb}\n"))
            .unwrap();
        let sealed = w.seal("Pw@12345x").unwrap();
        assert!(!sealed.contains("Pw@12345x"));
        for id in [&a, &b] {
            let mut k = Keys::default();
            k.add_identity_file("id.txt", id).unwrap();
            assert_eq!(k.open(&sealed).unwrap(), "Pw@12345x");
        }
        let mut k = Keys::default();
        k.add_identity_file("id.txt", &c).unwrap();
        assert!(matches!(k.open(&sealed), Err(SealError::WrongIdentity(_))));
        assert!(matches!(
            Keys::default().open(&sealed),
            Err(SealError::NeedIdentity)
        ));
    }

    #[test]
    fn bad_keys_are_named_without_their_secret() {
        let mut k = Keys::default();
        let e = k
            .add_recipient("--vault-recipient", "age1nope")
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("--vault-recipient: `age1nope…` is not"),
            "{e}"
        );
        let e = k
            .add_identity_file("id.txt", "# x\nAGE-SECRET-KEY-1SECRETBUTBROKEN\n")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "id.txt: line 2 is not an age identity (AGE-SECRET-KEY-1...)"
        );
        assert!(k.add_identity_file("id.txt", "# nothing\n").is_err());
    }
}
