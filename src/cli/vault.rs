//! `einvreg vault list|show|export|keygen`: what the vault holds, without
//! reading JSON lines; passwords only when asked for, and confirmed.

use super::common::KeyArgs;
use super::error::{CliError, Code};
use super::outputs::{self, Named};
use crate::batch::report::{csv_record, defuse};
use crate::exit;
use crate::vault::{Credential, Vault};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  einvreg vault list\n  einvreg vault list --rehearsal       # what --portal replica runs made\n  einvreg vault show 27AAPFU0939F1ZV --reveal\n  einvreg vault export --format csv -o creds.csv --reveal\n  einvreg vault keygen -o ~/.einvreg/key.txt     # then batch --vault-recipient age1..."
)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(clap::Args, Debug)]
pub struct Which {
    #[command(flatten)]
    pub file: super::common::VaultFile,
    #[command(flatten)]
    pub keys: KeyArgs,
}

#[derive(clap::Subcommand, Debug)]
pub enum What {
    /// One line per credential: GSTIN, portal, kind, provider, username, status, when, the portal's address (never a password)
    List {
        /// A JSON array on stdout, one object per credential (as `export --format json` writes, never a password)
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        which: Which,
    },
    /// A GSTIN's credentials in full; the password only with --reveal, after you confirm
    Show {
        /// The GSTIN
        gstin: String,
        /// Print the password too (asks first; --yes answers for scripts)
        #[arg(long)]
        reveal: bool,
        /// With --reveal: do not ask
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        which: Which,
    },
    /// Write the credentials to an owner-only CSV or JSON file
    Export {
        /// csv or json
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// The file to write (created owner-only)
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        /// Include passwords
        #[arg(long)]
        reveal: bool,
        /// Replace the output file if it exists
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        which: Which,
    },
    /// Make an age identity file (owner-only) and print its recipient (age1...)
    Keygen {
        /// The identity file to create
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
    },
}

/// `vault export` formats.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ExportFormat {
    Csv,
    Json,
}

pub fn run(args: Args) -> Result<Code, CliError> {
    match args.what {
        What::List { json, which } => read(&which).map(|c| match json {
            true => list_json(&c),
            false => list(&c),
        }),
        What::Show {
            gstin,
            reveal,
            yes,
            which,
        } => read(&which).and_then(|c| show(&c, &gstin, reveal, yes)),
        What::Export {
            format,
            output,
            reveal,
            force,
            which,
        } => fresh(&output, force)
            .and_then(|_| read(&which))
            .and_then(|c| export(&c, format, &output, reveal)),
        What::Keygen { output } => keygen(&output),
    }
}

/// What `vault` writes and reads, for [`super::outputs`].
pub(super) fn files(a: &Args, out: &mut Vec<Named>, kept: &mut Vec<Named>) {
    let which = match &a.what {
        What::Export { output, which, .. } => {
            out.push(outputs::named("-o", output));
            which
        }
        What::List { which, .. } | What::Show { which, .. } => which,
        What::Keygen { .. } => return,
    };
    kept.extend(outputs::store("the vault", &which.file.path()));
    outputs::keys(&which.keys, kept);
}

/// An export never replaces a file unless told to.
fn fresh(out: &Path, force: bool) -> Result<(), CliError> {
    match out.exists() && !force {
        true => Err(format!(
            "{}: exists; give --force to replace it, or another path",
            out.display()
        )
        .into()),
        false => Ok(()),
    }
}

fn read(w: &Which) -> Result<Vec<Credential>, CliError> {
    let path = w.file.path();
    if !path.exists() {
        return Err(w.file.missing().into());
    }
    Vault::read_with(&path, &*w.keys.keys()?).map_err(CliError::bad)
}

fn list(creds: &[Credential]) -> i32 {
    let mut t = crate::table::Table::new(&[
        "GSTIN", "portal", "kind", "provider", "username", "status", "changed", "address",
    ]);
    for c in creds {
        t.row(&[
            c.gstin.as_str(),
            &c.portal,
            c.kind.name(),
            &c.provider,
            &c.username,
            c.status.name(),
            &c.changed_at,
            &c.base_url,
        ]);
    }
    out!("{}", t.render());
    errln!("{} credential(s)", creds.len());
    exit::OK
}

/// `vault list --json`: every credential as `export --format json` writes it, never a password.
fn list_json(creds: &[Credential]) -> i32 {
    let rows: Vec<serde_json::Value> = creds.iter().map(|c| row(c, false)).collect();
    outln!(
        "{}",
        serde_json::to_string_pretty(&rows).expect("rows serialise")
    );
    exit::OK
}

fn show(creds: &[Credential], gstin: &str, reveal: bool, yes: bool) -> Result<i32, CliError> {
    let mine: Vec<&Credential> = creds
        .iter()
        .filter(|c| c.gstin.eq_ignore_ascii_case(gstin))
        .collect();
    if mine.is_empty() {
        return Err(format!(
            "no credential for {gstin} in the vault (einvreg vault list shows them)"
        )
        .into());
    }
    if reveal
        && !yes
        && !confirm(&format!(
            "Print {} password(s) for {gstin} on this screen?",
            mine.len()
        ))?
    {
        return Err("not confirmed; nothing printed".into());
    }
    for c in mine {
        outln!("GSTIN        {}", c.gstin);
        outln!("portal       {} ({})", c.portal, c.base_url);
        outln!("kind         {}", c.kind.name());
        outln!("provider     {}", c.provider);
        outln!("username     {}", c.username);
        if reveal {
            outln!("password     {}", c.password);
        }
        outln!("status       {}", c.status.name());
        outln!("written      {}", c.written_at);
        outln!("changed      {}", c.changed_at);
        if let Some(v) = &c.verified_at {
            outln!("verified     {v}");
        }
        if let Some(n) = &c.note {
            outln!("note         {n}");
        }
        outln!("id           {}\n", c.id);
    }
    Ok(exit::OK)
}

/// Asks on the terminal (or reads stdin's first line) for yes.
fn confirm(question: &str) -> Result<bool, CliError> {
    errout!("{question} [y/N] ");
    std::io::stderr()
        .flush()
        .map_err(|e| crate::chain::chain(&e))?;
    let mut line = String::new();
    let stdin = std::io::stdin();
    if stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| crate::chain::chain(&e))?
        == 0
        && !stdin.is_terminal()
    {
        return Err(
            "--reveal asks first, and stdin is closed: pass --yes to print without asking".into(),
        );
    }
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

fn export(
    creds: &[Credential],
    format: ExportFormat,
    out: &Path,
    reveal: bool,
) -> Result<i32, CliError> {
    let rows: Vec<serde_json::Value> = creds.iter().map(|c| row(c, reveal)).collect();
    let bytes = match format {
        ExportFormat::Json => {
            serde_json::to_vec_pretty(&rows).map_err(|e| crate::chain::chain(&e))?
        }
        ExportFormat::Csv => csv_of(&rows, reveal)?,
    };
    crate::store::private::write(out, &bytes).map_err(|e| format!("{}: {e}", out.display()))?;
    errln!(
        "{}: {} credential(s){} (owner-only)",
        out.display(),
        creds.len(),
        if reveal {
            " with passwords"
        } else {
            ", no passwords (--reveal adds them)"
        }
    );
    Ok(exit::OK)
}

const COLUMNS: &[&str] = &[
    "gstin",
    "portal",
    "base_url",
    "provider",
    "username",
    "password",
    "status",
    "written_at",
    "changed_at",
    "verified_at",
    "id",
    // Last, so the columns exports had before kinds keep their places.
    "kind",
];

fn row(c: &Credential, reveal: bool) -> serde_json::Value {
    let mut v = serde_json::json!({
        "gstin": c.gstin, "portal": c.portal, "base_url": c.base_url, "provider": c.provider,
        "username": c.username, "status": c.status.name(), "written_at": c.written_at,
        "changed_at": c.changed_at, "verified_at": c.verified_at, "id": c.id,
        "kind": c.kind.name(),
    });
    if reveal {
        v["password"] = c.password.clone().into();
    }
    v
}

fn csv_of(rows: &[serde_json::Value], reveal: bool) -> Result<Vec<u8>, CliError> {
    let cols: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| reveal || *c != "password")
        .collect();
    let mut out = csv_record(cols.iter());
    for r in rows {
        // Passwords are exported exactly (the policy bars a formula start).
        let cells = cols.iter().map(|c| match *c {
            "password" => r[*c].as_str().unwrap_or_default().to_string(),
            _ => defuse(r[*c].as_str().unwrap_or_default()).into_owned(),
        });
        out.push_str(&csv_record(cells));
    }
    Ok(out.into_bytes())
}

fn keygen(out: &Path) -> Result<i32, CliError> {
    if out.exists() {
        return Err(format!(
            "{}: exists; an identity is never overwritten (choose another path)",
            out.display()
        )
        .into());
    }
    let (text, public) = crate::vault::seal::keygen();
    crate::store::private::write(out, text.as_bytes())
        .map_err(|e| format!("{}: {e}", out.display()))?;
    errln!(
        "{}: identity written (owner-only); keep it off the machine that runs batches if you can",
        out.display()
    );
    outln!("{public}");
    Ok(exit::OK)
}
