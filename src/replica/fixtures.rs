//! The replica's data: the copy built into the binary (so an installed
//! einvreg runs the replica from any directory), or a folder given with
//! `--fixtures` / `$EINVREG_FIXTURES` to rehearse with other taxpayers.

use super::StartError;
use std::path::PathBuf;

/// Every fixture file the replica reads, as built in.
const EMBEDDED: &[(&str, &str)] = &[
    (
        "taxpayers.toml",
        include_str!("../../fixtures/taxpayers.toml"),
    ),
    (
        "providers.toml",
        include_str!("../../fixtures/providers.toml"),
    ),
    (
        "api-auth/clients.toml",
        include_str!("../../fixtures/api-auth/clients.toml"),
    ),
    (
        "api-auth/sandbox-private.pem",
        include_str!("../../fixtures/api-auth/sandbox-private.pem"),
    ),
    (
        "api-auth/production-private.pem",
        include_str!("../../fixtures/api-auth/production-private.pem"),
    ),
    (
        "api-auth/sandbox-public.pem",
        include_str!("../../fixtures/api-auth/sandbox-public.pem"),
    ),
    (
        "api-auth/production-public.pem",
        include_str!("../../fixtures/api-auth/production-public.pem"),
    ),
];

/// Where fixture files come from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Fixtures {
    /// The files built into the binary.
    #[default]
    Embedded,
    /// A folder laid out like the source tree's `fixtures/`.
    Dir(PathBuf),
}

/// One fixture file: the name errors show, and its text.
pub struct Fixture {
    /// A path, or `(built-in fixtures)/REL`.
    pub name: String,
    /// The file's content.
    pub text: String,
}

impl Fixtures {
    /// Reads `rel` (e.g. `api-auth/clients.toml`).
    pub fn read(&self, rel: &str) -> Result<Fixture, StartError> {
        match self {
            Fixtures::Embedded => {
                let text = EMBEDDED
                    .iter()
                    .find(|(n, _)| *n == rel)
                    .map(|(_, t)| (*t).to_string())
                    .ok_or_else(|| StartError::Read {
                        path: PathBuf::from(format!("(built in)/{rel}")),
                        source: std::io::ErrorKind::NotFound.into(),
                    })?;
                Ok(Fixture {
                    name: format!("(built-in fixtures)/{rel}"),
                    text,
                })
            }
            Fixtures::Dir(d) => {
                let path = d.join(rel);
                let text = std::fs::read_to_string(&path).map_err(|source| StartError::Read {
                    path: path.clone(),
                    source,
                })?;
                Ok(Fixture {
                    name: path.display().to_string(),
                    text,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_file_is_the_source_trees() {
        let dir = Fixtures::Dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures"));
        for (rel, _) in EMBEDDED {
            let a = Fixtures::Embedded.read(rel).unwrap();
            assert_eq!(a.text, dir.read(rel).unwrap().text, "{rel}");
            assert!(a.name.contains(rel));
        }
        assert!(Fixtures::Embedded.read("nope.toml").is_err());
    }
}
