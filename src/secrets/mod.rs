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
                    out.api_client.secret = Some(Secret::new(s))
                }
                (_, toml::Value::String(s)) => {
                    out.plain.insert(k, Secret::new(s));
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

fn strings(
    file: &str,
    table: &str,
    t: toml::Table,
    key: impl Fn(&str) -> String,
) -> Result<HashMap<String, Secret>, SecretsError> {
    t.into_iter()
        .map(|(k, v)| match v {
            toml::Value::String(s) => Ok((key(&k), Secret::new(s))),
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
}
