//! The flows built into the binary, and what a flow argument means: a name
//! is a bundled flow, a path is a file. A file in `./flows/` never stands in
//! for a bundled flow of the same name.

use std::path::PathBuf;

/// A flow shipped inside einvreg.
#[derive(Debug)]
pub struct Bundled {
    /// What users type: `production-api-user`.
    pub name: &'static str,
    /// The TOML.
    pub text: &'static str,
}

/// Every bundled flow.
pub const BUNDLED: &[Bundled] = &[
    Bundled {
        name: "production-api-user",
        text: include_str!("../../flows/production-api-user.toml"),
    },
    Bundled {
        name: "sandbox-register",
        text: include_str!("../../flows/sandbox-register.toml"),
    },
    Bundled {
        name: "portal-login-register",
        text: include_str!("../../flows/portal-login-register.toml"),
    },
    Bundled {
        name: "einvoice-enablement",
        text: include_str!("../../flows/einvoice-enablement.toml"),
    },
    Bundled {
        name: "portal-forgot-password",
        text: include_str!("../../flows/portal-forgot-password.toml"),
    },
    Bundled {
        name: "portal-forgot-username",
        text: include_str!("../../flows/portal-forgot-username.toml"),
    },
];

impl Bundled {
    /// The flow's `description`, read from its TOML.
    pub fn description(&self) -> String {
        toml::from_str::<toml::Table>(self.text)
            .ok()
            .and_then(|t| {
                t.get("flow")?
                    .get("description")?
                    .as_str()
                    .map(str::to_string)
            })
            .unwrap_or_default()
    }

    /// The name diagnostics show for it.
    pub fn shown(&self) -> PathBuf {
        PathBuf::from(format!("{} (bundled)", self.name))
    }
}

/// What a flow argument names.
#[derive(Debug)]
pub enum FlowArg {
    /// A bundled flow.
    Bundled(&'static Bundled),
    /// A file (the argument has a `/` or ends in `.toml`).
    File(PathBuf),
    /// `-`: the flow's TOML on stdin.
    Stdin,
}

/// Why a flow argument names nothing.
#[derive(Debug, thiserror::Error)]
#[error("no bundled flow is named `{name}`: {hint}")]
pub struct UnknownFlow {
    /// The argument.
    pub name: String,
    /// A did-you-mean, or the choices, and how to give a file instead.
    pub hint: String,
}

/// The bundled flow `name`, loaded (for tests).
#[cfg(test)]
pub(crate) fn flow(name: &str) -> std::sync::Arc<super::Flow> {
    let b = BUNDLED
        .iter()
        .find(|b| b.name == name)
        .expect("a bundled flow");
    let flow = super::load_str(std::path::Path::new(name), b.text).expect("it loads");
    std::sync::Arc::new(flow.0)
}

/// Reads a flow argument without touching the file system.
pub fn parse_arg(arg: &str) -> Result<FlowArg, UnknownFlow> {
    if arg == "-" {
        return Ok(FlowArg::Stdin);
    }
    if arg.contains(std::path::MAIN_SEPARATOR) || arg.contains('/') || arg.ends_with(".toml") {
        return Ok(FlowArg::File(arg.into()));
    }
    if let Some(b) = BUNDLED.iter().find(|b| b.name == arg) {
        return Ok(FlowArg::Bundled(b));
    }
    let names: Vec<&str> = BUNDLED.iter().map(|b| b.name).collect();
    let hint = format!(
        "{} (einvreg flows list shows them; a file is given by its path, e.g. ./{arg}.toml)",
        super::suggest::hint(arg, &names)
    );
    Err(UnknownFlow {
        name: arg.into(),
        hint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_bundled_a_path_is_a_file() {
        assert!(
            matches!(parse_arg("sandbox-register"), Ok(FlowArg::Bundled(b)) if b.name == "sandbox-register")
        );
        assert!(matches!(
            parse_arg("flows/sandbox-register.toml"),
            Ok(FlowArg::File(_))
        ));
        assert!(matches!(parse_arg("mine.toml"), Ok(FlowArg::File(_))));
        assert!(matches!(parse_arg("-"), Ok(FlowArg::Stdin)));
    }

    #[test]
    fn a_misspelt_name_gets_a_did_you_mean() {
        let e = parse_arg("production-api-usr").unwrap_err();
        assert_eq!(
            e.to_string(),
            "no bundled flow is named `production-api-usr`: did you mean `production-api-user`? \
             (einvreg flows list shows them; a file is given by its path, e.g. ./production-api-usr.toml)"
        );
        let e = parse_arg("zzz").unwrap_err();
        assert!(e
            .hint
            .contains("expected one of: production-api-user, sandbox-register"));
    }

    #[test]
    fn every_bundled_flow_loads_and_describes_itself() {
        for b in BUNDLED {
            assert!(
                super::super::load_str(&b.shown(), b.text).is_ok(),
                "{}",
                b.name
            );
            assert!(!b.description().is_empty(), "{}", b.name);
        }
    }
}
