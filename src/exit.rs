//! Stable exit codes (documented in README.md). Scripts depend on these.

pub const OK: i32 = 0;
/// Other failure; for `check` and `gstin`: problems found.
pub const FAILURE: i32 = 1;
/// Usage or input error, found before any browser started.
pub const USAGE: i32 = 2;
pub const ALREADY_REGISTERED: i32 = 3;
/// A human was needed (captcha, OTP) but none was available.
pub const HUMAN_NEEDED: i32 = 4;
/// Unexpected screen: the portal no longer matches the flow.
pub const DRIFT: i32 = 5;
/// Portal error or portal unreachable.
pub const PORTAL: i32 = 6;
/// The portal said "already created" on a first try: check by hand.
pub const NEEDS_VERIFICATION: i32 = 7;
/// A second Ctrl-C aborted the work.
pub const INTERRUPTED: i32 = 130;
/// SIGTERM stopped the work (128 + 15): in-flight rows were finished or
/// recorded in the journal, and the reports written.
pub const TERMINATED: i32 = 143;

/// `einvreg --help`'s examples and exit codes (README.md has the full table).
pub const HELP: &str = "\
Examples:
  einvreg run production-api-user --var gstin=27AAPFU0939F1ZV --var portal_username=udaytrd01 \\
      --var \"provider=Tera Software Limited\" --var api_username=udaytera
  einvreg batch production-api-user gstins.csv --secrets secrets.toml --parallel 4 --html report.html
  einvreg batch production-api-user gstins.csv --resume
  einvreg smoke production-api-user sandbox-register --junit smoke.xml
  einvreg run production-api-user --portal replica --auto-answer ...   # rehearse on the replica
  einvreg flows show production-api-user > my-flow.toml && einvreg check ./my-flow.toml
  einvreg vault list

Exit codes:
    0  done: registered, already registered or skipped; smoke all ok; check clean
    1  other failure (retries used up, setup); check or gstin found problems
    2  usage or input error, found before any browser started
    3  already registered (run)
    4  a person was needed but none was available
    5  the portal drifted: an unexpected screen (smoke: drift)
    6  portal error (a refused login too) or portal unreachable
    7  needs verification: \"already created\" on a first try
  130  interrupted (a second Ctrl-C)
  143  stopped by SIGTERM (a batch finishes or records its rows first)";

use crate::events::{Check, Class, RowStatus, RunStatus};

/// The exit code of `einvreg run`.
pub fn of_run(s: RunStatus) -> i32 {
    match s {
        RunStatus::Registered => OK,
        RunStatus::AlreadyRegistered => ALREADY_REGISTERED,
        RunStatus::NeedsVerification => NEEDS_VERIFICATION,
        RunStatus::HumanNeeded => HUMAN_NEEDED,
        RunStatus::Drift => DRIFT,
        RunStatus::PortalError | RunStatus::LoginRefused => PORTAL,
        RunStatus::Failed => FAILURE,
    }
}

/// A row's own code; [`of_batch`] picks the most urgent.
pub fn of_row(s: RowStatus) -> i32 {
    match s {
        RowStatus::Ran(s) => of_run(s),
        RowStatus::Skipped => OK,
        RowStatus::NotStarted => FAILURE,
    }
}

/// The batch's exit code: the most urgent row decides. A row that was
/// already registered counts as done.
pub fn of_batch(rows: impl IntoIterator<Item = RowStatus>) -> i32 {
    let codes: Vec<i32> = rows.into_iter().map(of_row).collect();
    [DRIFT, NEEDS_VERIFICATION, HUMAN_NEEDED, PORTAL, FAILURE]
        .into_iter()
        .find(|c| codes.contains(c))
        .unwrap_or(OK)
}

/// The smoke check's exit code: unreachable 6, drift 5 (a fallback too
/// when `strict`), else 0.
pub fn of_smoke(checks: &[Check], strict: bool) -> i32 {
    if checks.iter().any(|f| f.class == Class::Unreachable) {
        PORTAL
    } else if checks
        .iter()
        .any(|f| f.class == Class::Drift || (strict && f.class == Class::Fallback))
    {
        DRIFT
    } else {
        OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_urgent_row_decides_the_batch() {
        use RunStatus::*;
        let ran = |s: &[RunStatus]| s.iter().map(|&s| RowStatus::Ran(s)).collect::<Vec<_>>();
        let mut done = ran(&[Registered, AlreadyRegistered]);
        done.push(RowStatus::Skipped);
        assert_eq!(of_batch(done), OK);
        assert_eq!(of_batch(ran(&[Failed, Drift, HumanNeeded])), DRIFT);
        assert_eq!(
            of_batch(ran(&[PortalError, NeedsVerification])),
            NEEDS_VERIFICATION
        );
        assert_eq!(of_batch([RowStatus::NotStarted]), FAILURE);
        assert_eq!(of_run(RunStatus::AlreadyRegistered), ALREADY_REGISTERED);
    }

    /// README's exit-code table and the code agree for every outcome kind.
    #[test]
    fn every_outcome_exits_as_the_readme_says() {
        use crate::flow::OutcomeKind::*;
        let readme = include_str!("../README.md");
        let table: Vec<&str> = readme
            .lines()
            .skip_while(|l| !l.starts_with("## Exit codes"))
            .filter(|l| l.starts_with("| ") && l[2..].starts_with(|c: char| c.is_ascii_digit()))
            .collect();
        let run_column = |code: i32| -> &str {
            let row = table
                .iter()
                .find(|l| l.starts_with(&format!("| {code} |")))
                .unwrap_or_else(|| panic!("README has no exit code {code}"));
            row.split('|').nth(2).unwrap_or("").trim()
        };
        for (kind, code, says) in [
            (Registered, OK, "registered"),
            (AlreadyRegistered, ALREADY_REGISTERED, "already registered"),
            (NeedsVerification, NEEDS_VERIFICATION, "already created"),
            (PortalError, PORTAL, "portal error"),
            (WrongCaptcha, FAILURE, "retries used up"),
            (WrongOtp, FAILURE, "retries used up"),
            (OtpExpired, FAILURE, "OTP expired"),
            (SessionExpired, FAILURE, "retries used up"),
        ] {
            assert_eq!(of_run(RunStatus::from_outcome(kind)), code, "{kind:?}");
            assert!(
                run_column(code).contains(says),
                "README's row {code}: {}",
                run_column(code)
            );
        }
        for (status, code) in [
            (RunStatus::HumanNeeded, HUMAN_NEEDED),
            (RunStatus::Drift, DRIFT),
            (RunStatus::Failed, FAILURE),
        ] {
            assert_eq!(of_run(status), code);
            assert!(!run_column(code).is_empty());
        }
        assert!(!run_column(INTERRUPTED).is_empty());
        assert!(!run_column(USAGE).is_empty());
    }

    /// `--help` lists every code README's table has, and no other.
    #[test]
    fn help_lists_the_readmes_exit_codes() {
        let readme = include_str!("../README.md");
        let codes = |text: &str, prefix: &str| -> Vec<i32> {
            text.lines()
                .filter_map(|l| {
                    l.strip_prefix(prefix)?
                        .split_whitespace()
                        .next()?
                        .trim_end_matches('|')
                        .parse()
                        .ok()
                })
                .collect()
        };
        let help_part = HELP.split("Exit codes:").nth(1).unwrap();
        let help: Vec<i32> = help_part
            .lines()
            .filter_map(|l| l.split_whitespace().next()?.parse().ok())
            .collect();
        let table = readme
            .split("## Exit codes")
            .nth(1)
            .unwrap()
            .split("\n## ")
            .next()
            .unwrap();
        assert_eq!(help, codes(table, "| "));
        for c in [
            OK,
            FAILURE,
            USAGE,
            ALREADY_REGISTERED,
            HUMAN_NEEDED,
            DRIFT,
            PORTAL,
            NEEDS_VERIFICATION,
            INTERRUPTED,
            TERMINATED,
        ] {
            assert!(help.contains(&c), "{c}");
        }
    }
}
