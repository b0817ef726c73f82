//! `einvreg check FLOW...`

use crate::exit;
use crate::flow::{self, Severity};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Flow files (or names of bundled flows)
    #[arg(required = true)]
    pub flows: Vec<String>,
    /// Treat warnings as problems
    #[arg(long)]
    pub deny_warnings: bool,
}

pub fn run(args: Args) -> i32 {
    let mut problems = 0;
    for f in &args.flows {
        let path: PathBuf = super::common::resolve_flow(f);
        let diags = match flow::load(&path) {
            Ok((fl, d)) => {
                let errors = d.iter().filter(|x| x.severity == Severity::Warning).count();
                let about = match fl.description.as_str() {
                    "" => String::new(),
                    d => format!(": {d}"),
                };
                eprintln!(
                    "{}: ok ({} inputs, {} screens, {} outcomes{}){about}",
                    path.display(),
                    fl.inputs.len(),
                    fl.screens.len(),
                    fl.outcomes.len(),
                    if errors > 0 {
                        format!(", {errors} warnings")
                    } else {
                        String::new()
                    }
                );
                d
            }
            Err(d) => d,
        };
        for d in &diags {
            println!("{d}");
            if d.severity == Severity::Error || args.deny_warnings {
                problems += 1;
            }
        }
    }
    if problems > 0 {
        eprintln!("{problems} problem(s) found");
        exit::FAILURE
    } else {
        exit::OK
    }
}
