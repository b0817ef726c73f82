//! What the tests run: the demo runs' arguments on each route and
//! portal, a batch's, and the replica's generated rows.

use super::write_secrets;
use std::path::Path;

/// `einvreg batch FLOW batch.csv` on the portal at `url`, answered by the
/// replica's oracle, with the logins of `secrets.toml` (as the tests write them).
pub fn batch_on<'a>(flow: &'a str, url: &'a str) -> Vec<&'a str> {
    vec![
        "batch",
        flow,
        "batch.csv",
        "--portal",
        url,
        "--auto-answer",
        "--secrets",
        "secrets.toml",
    ]
}

/// `run production-api-user` for the replica's demo taxpayer udaytrd01
/// (GSP Tera), on `portal`, answered by the replica's oracle.
pub fn demo_run(portal: &str) -> Vec<String> {
    [
        "run",
        "production-api-user",
        "--portal",
        portal,
        "--auto-answer",
        "--var",
        "gstin=27AAPFU0939F1ZV",
        "--var",
        "portal_username=udaytrd01",
        "--var",
        "provider=Tera Software Limited",
        "--var",
        "api_username=udaytera",
    ]
    .map(String::from)
    .to_vec()
}

/// `run` through an ERP on production (GSTZen's demo login).
pub fn erp_run(url: &str) -> Vec<String> {
    [
        "run",
        "production-api-user",
        "--portal",
        url,
        "--auto-answer",
        "--var",
        "gstin=29AAFCC9980MZZT",
        "--var",
        "portal_username=gstzendemo",
        "--var",
        "through=erp",
        "--var",
        "provider=CLOUDZEN SOFTWARE LABS PRIVATE LIMITED(GSTZen)",
        "--var",
        "api_username=zenerp",
    ]
    .map(String::from)
    .to_vec()
}

/// `run` on the sandbox through a GSP (its demo taxpayer).
pub fn sandbox_run(url: &str) -> Vec<String> {
    [
        "run",
        "sandbox-register",
        "--portal",
        url,
        "--auto-answer",
        "--var",
        "gstin=33GSPTN9771G3ZP",
        "--var",
        "trade_name=TAMIL GSP SERVICES",
        "--var",
        "mobile=8056012345",
        "--var",
        "email=gsp@tamilgsp.example",
        "--var",
        "provider=DEFMACRO SOFTWARE PRIVATE LIMITED",
        "--var",
        "client_id=AACCT29GSPB5H8G",
        "--var",
        "api_username=tngspsbx",
    ]
    .map(String::from)
    .to_vec()
}

/// `batch.csv` and `secrets.toml` for `n` of the replica's generated
/// taxpayers (start it with `--taxpayers N`); their GSTINs and logins.
pub fn prod_rows(dir: &Path, n: usize) -> (Vec<String>, std::collections::HashMap<String, String>) {
    let tps = einvreg::replica::generated_taxpayers(n);
    let mut csv = String::from("gstin,portal_username,through,provider,api_username\n");
    let mut secrets = String::from("[portal_password]\n");
    let mut logins = std::collections::HashMap::new();
    for (i, t) in tps.iter().enumerate() {
        let (user, pass) = (t.username.clone().unwrap(), t.password.clone().unwrap());
        csv.push_str(&format!(
            "{},{user},gsp,Tera Software Limited,kill{i:05}\n",
            t.gstin
        ));
        secrets.push_str(&format!("{user} = \"{pass}\"\n"));
        logins.insert(user, pass);
    }
    std::fs::write(dir.join("batch.csv"), csv).unwrap();
    write_secrets(dir, &secrets);
    (tps.into_iter().map(|t| t.gstin).collect(), logins)
}
