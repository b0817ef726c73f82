//! The secrets file (`--secrets FILE`): owner-only TOML holding portal
//! logins and API passwords, typed. Its text is read at the CLI edge;
//! parsing it here never quotes a line, since any line may hold a secret.

use crate::redact::Secret;
use std::collections::HashMap;

/// What a secrets file holds.
#[derive(Debug, Default, Clone)]
pub struct SecretsFile {
    /// `name = "value"` at the top: a flow's secret input by name (`run`),
    /// or a portal login by portal username (`batch`).
    pub plain: HashMap<String, Secret>,
    /// `[portal_password]`: portal login passwords by portal username.
    pub portal_password: HashMap<String, Secret>,
    /// `[api_password]`: API passwords by GSTIN (upper case).
    pub api_password: HashMap<String, Secret>,
    /// `[NAME]` for any other secret input of the flow (e.g.
    /// `[client_secret]`): its value by GSTIN (upper case).
    pub by_gstin: HashMap<String, HashMap<String, Secret>>,
    /// `api_client_id` / `api_client_secret`: the caller's e-Invoice API
    /// client, for `verify` (not a flow input nor a login).
    pub api_client: ApiClientSecrets,
}

/// The e-Invoice API client a secrets file names (either part may be missing).
#[derive(Debug, Default, Clone)]
pub struct ApiClientSecrets {
    pub id: Option<String>,
    pub secret: Option<Secret>,
}

/// Why a secrets file was refused. Never carries the file's text.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// Others can read it.
    #[error("{file}: permissions are {mode:o}; a secrets file must be readable by its owner only. Fix: chmod 600 {file}")]
    Exposed {
        /// The file.
        file: String,
        /// Its permission bits.
        mode: u32,
    },
    /// Not TOML; where, but not what (the line may be a secret).
    #[error("{file}:{line}:{col}: not valid TOML; check quoting on that line")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
    },
    /// A value that is neither a string nor one of the two tables.
    #[error("{file}: `{key}` must be a quoted string{hint}")]
    NotAString {
        /// The file.
        file: String,
        /// The key.
        key: String,
        /// How to fix it.
        hint: String,
    },
    /// A value with a control character (a newline would be typed as Enter).
    #[error("{file}: `{key}` holds a control character (U+{code:04X}); it would be typed as a key (a newline is Enter). Fix: remove it from the value")]
    Control {
        /// The file.
        file: String,
        /// The key.
        key: String,
        /// The character's code point (never the value).
        code: u32,
    },
}

impl<'a> Want<'a> {
    /// Where a secrets file keeps `flow`'s secret input `name`: the API
    /// password a flow creates in its own table; a password a flow
    /// creates for a portal login by GSTIN or flat, never as the login's
    /// password (which it replaces, or which does not exist yet); any
    /// other secret also by `login`.
    pub fn of(
        flow: &crate::flow::Flow,
        name: &'a str,
        gstin: Option<&'a str>,
        login: Option<&'a str>,
    ) -> Want<'a> {
        use crate::vault::Kind;
        let creates = flow.credentials.as_ref().filter(|c| c.password == name);
        let kind = creates.map(|c| c.kind);
        Want {
            input: name,
            gstin,
            login: login.filter(|_| kind != Some(Kind::PortalLogin)),
            new_password: kind == Some(Kind::ApiUser),
        }
    }
}

impl SecretsFile {
    /// Refuses a file others may read (`mode` is its permission bits).
    pub fn check_mode(file: &str, mode: u32) -> Result<(), SecretsError> {
        match mode & 0o077 {
            0 => Ok(()),
            _ => Err(SecretsError::Exposed {
                file: file.into(),
                mode: mode & 0o777,
            }),
        }
    }

    /// Parses the file's text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<SecretsFile, SecretsError> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let loc = e
                .span()
                .map(|s| crate::flow::Loc::of(text, s.start))
                .unwrap_or_default();
            SecretsError::Syntax {
                file: file.into(),
                line: loc.line,
                col: loc.col,
            }
        })?;
        let mut out = SecretsFile::default();
        for (k, v) in table {
            match (k.as_str(), v) {
                ("api_client_id", toml::Value::String(s)) => out.api_client.id = Some(s),
                ("api_client_secret", toml::Value::String(s)) => {
                    out.api_client.secret = Some(secret(file, &k, s)?)
                }
                (_, toml::Value::String(s)) => {
                    let v = secret(file, &k, s)?;
                    out.plain.insert(k, v);
                }
                ("portal_password", toml::Value::Table(t)) => {
                    out.portal_password = strings(file, &k, t, |u| u.to_string())?;
                }
                ("api_password", toml::Value::Table(t)) => {
                    out.api_password = strings(file, &k, t, str::to_uppercase)?;
                }
                (_, toml::Value::Table(t)) => {
                    let by = strings(file, &k, t, str::to_uppercase)?;
                    out.by_gstin.insert(k, by);
                }
                _ => {
                    return Err(SecretsError::NotAString {
                        file: file.into(),
                        key: k,
                        hint: "; tables are [portal_password] by login, [api_password] or [<secret input>] by GSTIN".into(),
                    })
                }
            }
        }
        Ok(out)
    }
}

/// What a flow asks the secrets file for.
#[derive(Debug, Clone, Copy)]
pub struct Want<'a> {
    /// The flow's secret input (`portal_password`, `client_secret`, ...).
    pub input: &'a str,
    /// The GSTIN being registered (upper case), if known.
    pub gstin: Option<&'a str>,
    /// The portal login it logs in with, if any.
    pub login: Option<&'a str>,
    /// Whether `input` is the API password the flow creates.
    pub new_password: bool,
}

impl SecretsFile {
    /// One secret input's value, whichever shape the file has; the most
    /// specific entry wins:
    /// 1. by GSTIN: `[api_password]` for the new password, `[INPUT]` for others;
    /// 2. by login: `[portal_password]`, for a login's password;
    /// 3. flat: `INPUT = "value"`, for every GSTIN;
    /// 4. flat by login: `LOGIN = "value"`, for a login's password.
    pub fn find(&self, w: Want) -> Option<&Secret> {
        let table = if w.new_password {
            Some(&self.api_password)
        } else {
            self.by_gstin.get(w.input)
        };
        let by_gstin = || table.and_then(|t| t.get(&w.gstin?.to_uppercase()));
        let is_login = !w.new_password && !self.by_gstin.contains_key(w.input);
        let login = w.login.filter(|_| is_login);
        by_gstin()
            .or_else(|| self.portal_password.get(login?))
            .or_else(|| self.plain.get(w.input))
            .or_else(|| self.plain.get(login?))
    }

    /// Whether `login`'s password is in the file, under either shape.
    pub fn has_login(&self, login: &str) -> bool {
        self.portal_password.contains_key(login) || self.plain.contains_key(login)
    }

    /// Whether every GSTIN gets `input` without a per-login password.
    pub fn covers(&self, input: &str) -> bool {
        self.by_gstin.contains_key(input) || self.plain.contains_key(input)
    }

    /// Adds a login's password (asked at the start of a batch).
    pub fn add_login(&mut self, login: String, password: Secret) {
        self.portal_password.insert(login, password);
    }

    /// Every secret the file holds, to mask wherever text leaves einvreg.
    pub fn all(&self) -> impl Iterator<Item = &Secret> {
        self.plain
            .values()
            .chain(self.portal_password.values())
            .chain(self.api_password.values())
            .chain(self.by_gstin.values().flat_map(|m| m.values()))
            .chain(&self.api_client.secret)
    }
}

/// A value as a secret, refused if it holds a control character.
fn secret(file: &str, key: &str, s: String) -> Result<Secret, SecretsError> {
    match crate::rules::control_char(&s) {
        Some((_, c)) => Err(SecretsError::Control {
            file: file.into(),
            key: key.into(),
            code: c as u32,
        }),
        None => Ok(Secret::new(s)),
    }
}

fn strings(
    file: &str,
    table: &str,
    t: toml::Table,
    key: impl Fn(&str) -> String,
) -> Result<HashMap<String, Secret>, SecretsError> {
    t.into_iter()
        .map(|(k, v)| match v {
            toml::Value::String(s) => Ok((key(&k), secret(file, &format!("{table}.{k}"), s)?)),
            _ => Err(SecretsError::NotAString {
                file: file.into(),
                key: format!("{table}.{k}"),
                hint: String::new(),
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_control_character_in_any_value_is_refused_without_quoting_it() {
        for text in [
            "login1 = \"Pass\\nword@1\"\n",
            "[portal_password]\nlogin1 = \"Pass\\rword@1\"\n",
            "api_client_secret = \"Sec\\tret\"\n",
        ] {
            let e = SecretsFile::parse("s.toml", text).unwrap_err().to_string();
            assert!(e.contains("holds a control character"), "{e}");
            assert!(e.starts_with("s.toml: `"), "{e}");
            assert!(!e.contains("Pass") && !e.contains("Sec"), "{e}");
        }
    }

    #[test]
    fn tables_and_plain_keys_and_errors_that_never_quote() {
        let f = SecretsFile::parse(
            "s.toml",
            "api_password = \"Top@Secret9\"\n[portal_password]\nudaytrd01 = \"Login@123\"\n[api_password]\n27aapfu0939f1zv = \"Api@Pass12\"\n",
        );
        // A key may not be both a string and a table.
        assert!(f.is_err());
        let f = SecretsFile::parse(
            "s.toml",
            "udaytrd01 = \"Login@123\"\n[portal_password]\nx = \"Login@456\"\n[api_password]\n27aapfu0939f1zv = \"Api@Pass12\"\n",
        )
        .unwrap();
        assert_eq!(f.plain["udaytrd01"].expose(), "Login@123");
        assert_eq!(f.portal_password["x"].expose(), "Login@456");
        assert_eq!(f.api_password["27AAPFU0939F1ZV"].expose(), "Api@Pass12");
        let f = SecretsFile::parse(
            "s.toml",
            "[client_secret]\n05aaach6188f1zm = \"Own-Secret-1\"\n",
        )
        .unwrap();
        assert_eq!(
            f.by_gstin["client_secret"]["05AAACH6188F1ZM"].expose(),
            "Own-Secret-1"
        );
        let e = SecretsFile::parse("s.toml", "a = \"Hidden@1\nb = 2\n").unwrap_err();
        assert!(e.to_string().starts_with("s.toml:1:"), "{e}");
        assert!(!e.to_string().contains("Hidden"), "{e}");
        let f = SecretsFile::parse(
            "s.toml",
            "api_client_id = \"GSP-1\"\napi_client_secret = \"Cs-9\"\nlogin1 = \"L@1\"\n",
        )
        .unwrap();
        assert_eq!(f.api_client.id.as_deref(), Some("GSP-1"));
        assert_eq!(f.api_client.secret.unwrap().expose(), "Cs-9");
        assert_eq!(f.plain.len(), 1, "the API client is not a login");
        assert!(SecretsFile::check_mode("s.toml", 0o644).is_err());
        assert!(SecretsFile::check_mode("s.toml", 0o600).is_ok());
    }

    fn want<'a>(input: &'a str, gstin: &'a str, login: &'a str) -> Want<'a> {
        Want {
            input,
            gstin: Some(gstin),
            login: Some(login),
            new_password: input == "api_password",
        }
    }

    #[test]
    fn both_shapes_answer_the_same_questions() {
        let batch = SecretsFile::parse(
            "b.toml",
            "[portal_password]\nudaytrd01 = \"Login@123\"\n[api_password]\n27aapfu0939f1zv = \"Api@Pass12\"\n[client_secret]\n27AAPFU0939F1ZV = \"Cs-1\"\n",
        )
        .unwrap();
        let flat = SecretsFile::parse(
            "f.toml",
            "portal_password = \"Login@123\"\napi_password = \"Api@Pass12\"\nclient_secret = \"Cs-1\"\n",
        )
        .unwrap();
        let legacy = SecretsFile::parse("l.toml", "udaytrd01 = \"Login@123\"\n").unwrap();
        for f in [&batch, &flat] {
            let g = |i| {
                f.find(want(i, "27AAPFU0939F1ZV", "udaytrd01"))
                    .map(|s| s.expose().to_string())
            };
            assert_eq!(g("portal_password").as_deref(), Some("Login@123"));
            assert_eq!(g("api_password").as_deref(), Some("Api@Pass12"));
            assert_eq!(g("client_secret").as_deref(), Some("Cs-1"));
        }
        let pw = legacy.find(want("portal_password", "27AAPFU0939F1ZV", "udaytrd01"));
        assert_eq!(pw.map(|s| s.expose()), Some("Login@123"));
        // Another login or GSTIN gets nothing from a by-login or by-GSTIN entry.
        assert!(batch
            .find(want("portal_password", "27AAPFU0939F1ZV", "other"))
            .is_none());
        assert!(batch
            .find(want("api_password", "05AAACH6188F1ZM", "udaytrd01"))
            .is_none());
        assert!(legacy
            .find(want("api_password", "27AAPFU0939F1ZV", "udaytrd01"))
            .is_none());
        assert!(batch.has_login("udaytrd01") && legacy.has_login("udaytrd01"));
        assert!(flat.covers("portal_password") && !batch.covers("portal_password"));
        assert_eq!(batch.all().count(), 3);
    }

    #[test]
    fn the_most_specific_entry_wins() {
        let f = SecretsFile::parse(
            "m.toml",
            "udaytrd01 = \"Flat@1234\"\n[portal_password]\nudaytrd01 = \"Table@123\"\n",
        )
        .unwrap();
        let pw = f.find(want("portal_password", "27AAPFU0939F1ZV", "udaytrd01"));
        assert_eq!(pw.map(|s| s.expose()), Some("Table@123"));
        // A by-GSTIN table is never read as logins.
        let f = SecretsFile::parse(
            "m.toml",
            "[client_secret]\n27AAPFU0939F1ZV = \"Mine@123\"\n",
        )
        .unwrap();
        assert!(f
            .find(want("client_secret", "05AAACH6188F1ZM", "27AAPFU0939F1ZV"))
            .is_none());
        assert!(SecretsFile::check_mode("s.toml", 0o600).is_ok());
    }

    #[test]
    fn a_password_a_flow_creates_for_a_login_is_never_the_logins_own() {
        let flow = |name: &str| crate::flow::bundled::flow(name);
        let file = SecretsFile::parse(
            "s.toml",
            "[portal_password]\nudaytrd01 = \"Old@Login2024\"\n",
        )
        .unwrap();
        let g = Some("27AAPFU0939F1ZV");
        let ask = |f: &str, input: &'static str| {
            let f = flow(f);
            file.find(Want::of(&f, input, g, Some("udaytrd01")))
                .cloned()
        };
        // The login's own password, to log in with: by login.
        let old = ask("production-api-user", "portal_password");
        assert_eq!(old.unwrap().expose(), "Old@Login2024");
        // The new password Forgot Password sets, or a login being made: not it.
        assert!(ask("portal-forgot-password", "portal_password").is_none());
        assert!(ask("portal-login-register", "portal_password").is_none());
    }
}
