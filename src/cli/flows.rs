//! `einvreg flows list|show|schema`: the bundled flows, to start a custom
//! one from, and the flow language's JSON Schema for editors.

use super::error::{CliError, Code};
use crate::exit;
use crate::flow::bundled::{parse_arg, FlowArg, BUNDLED};

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  einvreg flows list\n  einvreg flows show production-api-user > my-flow.toml\n  einvreg flows schema > flow.schema.json   # then, atop my-flow.toml: #:schema ./flow.schema.json"
)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(clap::Subcommand, Debug)]
pub enum What {
    /// The bundled flows, by name, with what each does
    List,
    /// Print a bundled flow's TOML (start a custom flow from it)
    Show {
        /// A bundled flow's name (see `einvreg flows list`)
        #[arg(value_parser = super::common::FlowNames, hide_possible_values = true)]
        name: String,
    },
    /// Print the flow language's JSON Schema (draft-07), for taplo / Even Better TOML
    Schema,
}

pub fn run(args: Args) -> Result<Code, CliError> {
    match args.what {
        What::List => {
            let width = BUNDLED.iter().map(|b| b.name.len()).max().unwrap_or(0);
            for b in BUNDLED {
                outln!("{:width$}  {}", b.name, b.description());
            }
        }
        What::Show { name } => match parse_arg(&name).map_err(CliError::bad)? {
            FlowArg::Bundled(b) => out!("{}", b.text),
            _ => {
                return Err(format!(
                    "`{name}` is a path: `flows show` prints a bundled flow (einvreg flows list)"
                )
                .into())
            }
        },
        What::Schema => {
            let s = serde_json::to_string_pretty(&crate::flow::schema::schema())
                .map_err(CliError::failed)?;
            outln!("{s}");
        }
    }
    Ok(exit::OK)
}
