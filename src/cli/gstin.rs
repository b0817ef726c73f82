//! `einvreg gstin GSTIN...`

use super::error::{CliError, Code};
use crate::exit;
use crate::rules::{validate_gstin, GstinStrictness};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// GSTINs to explain
    #[arg(required = true)]
    pub gstins: Vec<String>,
    /// Accept the sandbox's GSP-made dummy GSTINs (normal-format GSTINs still need their check character)
    #[arg(long)]
    pub sandbox: bool,
}

pub fn run(args: Args) -> Result<Code, CliError> {
    let strict = if args.sandbox {
        GstinStrictness::Sandbox
    } else {
        GstinStrictness::Strict
    };
    let mut bad = 0;
    for g in &args.gstins {
        let g = g.trim();
        match validate_gstin(g, strict) {
            Ok(info) => outln!("{g}: valid: {info}"),
            Err(e) => {
                bad += 1;
                outln!("{g}: invalid: {e}");
            }
        }
    }
    match bad > 0 {
        true => Ok(exit::FAILURE),
        false => Ok(exit::OK),
    }
}
