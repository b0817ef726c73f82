//! Reading a flow across releases: the language a file says it is
//! written in, and the roles the earlier language gave without `role`.

use super::values::Obj;
use super::P;
use crate::flow::model::{Input, Role, LANGUAGE};

/// `language = N` under `[flow]`: the flow language the file is written
/// in. A file without one is read as language 1, today's.
pub(super) fn language(p: &mut P, h: &Obj) -> u32 {
    let Some(n) = h.int(p, "language") else {
        return LANGUAGE;
    };
    if (1..=i64::from(LANGUAGE)).contains(&n) {
        return n as u32;
    }
    p.err(
        &h.get("language").map(|v| v.span()).unwrap_or(0..0),
        format!(
            "flow language {n} is not one this einvreg reads (it reads {})",
            match LANGUAGE {
                1 => "language 1".to_string(),
                newest => format!("languages 1 to {newest}"),
            }
        ),
        match n > i64::from(LANGUAGE) {
            true => {
                "install a newer einvreg, or write the flow in language 1 (docs/flow-language.md)"
            }
            false => "write language = 1, or leave it out",
        },
    );
    LANGUAGE
}

/// The roles the language had before `role` was written out: the input
/// named `gstin` or `mobile` played that part, or else the one input of
/// that type. A flow that names neither keeps its meaning; each role
/// given this way is returned, for `check` to say so.
pub(super) fn infer_roles(inputs: &mut [Input]) -> Vec<(Role, String)> {
    let mut inferred = vec![];
    for role in [Role::Gstin, Role::Mobile] {
        if inputs.iter().any(|i| i.role == Some(role)) {
            continue;
        }
        let by_name = inputs
            .iter()
            .position(|i| i.name == role.as_str() && !i.is_secret());
        let of_type: Vec<usize> = (0..inputs.len())
            .filter(|&k| role.fits(&inputs[k].ty) && inputs[k].role.is_none())
            .collect();
        let pick = by_name.or(match of_type.as_slice() {
            [one] => Some(*one),
            _ => None,
        });
        if let Some(k) = pick {
            inputs[k].role = Some(role);
            inferred.push((role, inputs[k].name.clone()));
        }
    }
    inferred
}

#[cfg(test)]
mod tests {
    use crate::flow::{load_str, Role, Severity};
    use std::path::Path;

    fn flow(
        header: &str,
        inputs: &str,
    ) -> (Option<crate::flow::Flow>, Vec<crate::flow::Diagnostic>) {
        let text = format!(
            "[flow]\n{header}name = \"f\"\nportal = \"sandbox\"\nbase_url = \"http://127.0.0.1:1\"\n\n{inputs}\n[[screens]]\nid = \"s\"\nlabel = \"S\"\nrecognise = {{ url = \"/\" }}\n\n  [[screens.steps]]\n  label = \"Open\"\n  goto = \"/\"\n"
        );
        match load_str(Path::new("f.toml"), &text) {
            Ok((f, d)) => (Some(f), d),
            Err(d) => (None, d),
        }
    }

    #[test]
    fn a_flow_without_a_language_is_read_as_language_1() {
        let (f, d) = flow("", "");
        assert_eq!(f.expect("loads").language, 1, "{d:?}");
        let (f, _) = flow("language = 1\n", "");
        assert_eq!(f.expect("loads").language, 1);
    }

    #[test]
    fn a_language_this_einvreg_does_not_read_is_an_error_saying_what_to_do() {
        for (n, says) in [
            ("2", "install a newer einvreg"),
            ("0", "write language = 1"),
        ] {
            let (f, d) = flow(&format!("language = {n}\n"), "");
            assert!(f.is_none(), "language {n} refused");
            let e = d
                .iter()
                .find(|d| d.severity == Severity::Error)
                .expect("an error");
            assert!(
                e.message
                    .contains(&format!("flow language {n} is not one this einvreg reads")),
                "{e:?}"
            );
            assert!(e.help.contains(says), "{e:?}");
            assert_eq!(e.loc.line, 2, "names the line: {e:?}");
        }
    }

    #[test]
    fn roles_come_from_names_then_the_one_input_of_their_type() {
        let inputs = "[inputs.gstin]\ntype = \"text\"\n\n[inputs.phone]\ntype = \"mobile\"\n";
        let f = flow("", inputs).0.expect("loads");
        assert_eq!(
            f.input_for(Role::Gstin).unwrap().name,
            "gstin",
            "by its name"
        );
        assert_eq!(
            f.input_for(Role::Mobile).unwrap().name,
            "phone",
            "the one of its type"
        );
        assert_eq!(f.inferred.len(), 2);
    }

    #[test]
    fn a_named_role_is_never_second_guessed() {
        let inputs = "[inputs.mobile]\ntype = \"mobile\"\n\n[inputs.alt]\ntype = \"mobile\"\nrole = \"mobile\"\n";
        let f = flow("", inputs).0.expect("loads");
        assert_eq!(f.input_for(Role::Mobile).unwrap().name, "alt");
        assert!(f.inferred.is_empty());
    }

    #[test]
    fn two_inputs_that_fit_and_no_role_is_a_warning_naming_both() {
        let inputs = "[inputs.phone]\ntype = \"mobile\"\n\n[inputs.alt_phone]\ntype = \"mobile\"\n";
        let (f, d) = flow("", inputs);
        assert!(f.expect("loads").input_for(Role::Mobile).is_none());
        let w = d
            .iter()
            .find(|d| d.severity == Severity::Warning && d.message.contains("type mobile"))
            .expect("a warning about the role");
        assert!(
            w.message.contains("`phone`, `alt_phone`") && w.message.contains("EINVREG_MOBILE"),
            "{w:?}"
        );
        assert!(w.help.contains("role = \"mobile\""), "{w:?}");
    }
}
