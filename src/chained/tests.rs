use super::*;

fn bundled(name: &str) -> Arc<Flow> {
    crate::flow::bundled::flow(name)
}

fn onboarding() -> Vec<Arc<Flow>> {
    vec![
        bundled("portal-login-register"),
        bundled("production-api-user"),
    ]
}

fn given(pairs: &[(&str, &str)]) -> Vec<Given> {
    pairs
        .iter()
        .map(|(k, v)| Given {
            name: k.to_string(),
            value: v.to_string(),
            source: format!("--var {k}"),
        })
        .collect()
}

fn bare_gstin() -> Vec<Given> {
    given(&[
        ("gstin", "27AADCN5521K1ZD"),
        ("portal_username", "navkar27"),
        ("provider", "Tera Software Limited"),
        ("api_username", "navkarapi"),
    ])
}

#[test]
fn a_comma_makes_a_chain() {
    assert_eq!(split("a,b"), ["a", "b"]);
    assert_eq!(split(" a , b ,"), ["a", "b"]);
    assert_eq!(split("flows/x.toml"), ["flows/x.toml"]);
}

#[test]
fn the_login_password_nobody_gave_is_handed_on_from_the_flow_that_makes_it() {
    let mut asked = vec![];
    let links = resolve(&onboarding(), &bare_gstin(), |_, name, needed| {
        asked.push((name.to_string(), needed));
        None
    })
    .unwrap();
    assert_eq!(links[1].handed, ["portal_password"]);
    let made = links[0].resolved.secrets["portal_password"].expose();
    assert_eq!(links[1].resolved.secrets["portal_password"].expose(), made);
    // Nobody is prompted for it in the second flow.
    assert!(
        asked.contains(&("portal_password".to_string(), false)),
        "{asked:?}"
    );
    assert!(!asked
        .iter()
        .any(|(n, needed)| n == "portal_password" && *needed));
}

#[test]
fn a_given_secret_is_not_handed() {
    let links = resolve(&onboarding(), &bare_gstin(), |_, name, _| {
        (name == "portal_password").then(|| Secret::new("Given@Pass24"))
    })
    .unwrap();
    assert!(links[1].handed.is_empty());
}

#[test]
fn what_the_first_made_goes_on_and_an_existing_login_needs_its_password() {
    let links = resolve(&onboarding(), &bare_gstin(), |_, _, _| None).unwrap();
    let mut next = links[1].clone();
    next.resolved
        .secrets
        .insert("portal_password".into(), Secret::new("Stale@Pass24"));
    assert_eq!(
        hand_on(&links[0], RunStatus::Registered, &mut next),
        Next::Run
    );
    let made = links[0].resolved.secrets["portal_password"].expose();
    assert_eq!(next.resolved.secrets["portal_password"].expose(), made);

    let mut next = links[1].clone();
    match hand_on(&links[0], RunStatus::AlreadyRegistered, &mut next) {
        Next::Missing(m) => {
            assert_eq!(m.secrets, ["portal_password"]);
            let said = m.explain(|n| format!("`{n}`"));
            assert!(said.starts_with("portal-login-register found the credential already there, so it made none for production-api-user: give its `portal_password`"), "{said}");
        }
        other => panic!("{other:?}"),
    }
    next.handed.clear();
    assert_eq!(
        hand_on(&links[0], RunStatus::AlreadyRegistered, &mut next),
        Next::Run
    );
    for s in [
        RunStatus::Failed,
        RunStatus::Drift,
        RunStatus::NeedsVerification,
    ] {
        assert_eq!(hand_on(&links[0], s, &mut next), Next::Stop);
    }
}

#[test]
fn a_value_no_flow_takes_is_a_problem_and_portals_must_match() {
    let mut g = bare_gstin();
    g.extend(given(&[("api_usrname", "x")]));
    let problems = resolve(&onboarding(), &g, |_, _, _| None).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].fix.contains("api_username"),
        "{:?}",
        problems[0]
    );
    let mixed = [bundled("sandbox-register"), bundled("production-api-user")];
    assert!(check(&mixed).is_err());
    assert!(check(&onboarding()).is_ok());
}
