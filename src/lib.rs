//! einvreg: registers e-Invoice API credentials on India's GST (NIC) portals
//! by driving a real browser through W3C WebDriver.
//!
//! One folder per concern. The engine: `flow` (the TOML flow language),
//! `rules` (portal rules), `driver` (WebDriver sessions), `runner` (walks a
//! flow, for `run` and `smoke` alike), `operator` (asks people), `desk`
//! (the answer desk: a web page where people answer), `process` (every
//! child kept together and ended with einvreg), `vault` (credentials),
//! `ledger` (a row's credential records: vault and journal, every write
//! checked), `batch`, `chained` (flows run in order for one GSTIN, what one
//! created handed to the next), `smoke`, `events` (the stream every display
//! consumes), `redact`, `output` (printing that never panics), `table` (aligned text tables), `secrets`,
//! `exit` (typed results to stable codes), `chain` (an error and its
//! causes, printed once), `loopback` (a loopback-only HTTP client). Beside it, a leaf
//! nothing in the engine imports: `replica` (a stateful copy of both
//! portals). At the edge: `cli`. `docs/architecture.md` draws the map.

#![allow(clippy::result_large_err)]
#![warn(missing_docs)]

#[macro_use]
mod output;

mod batch;
mod chain;
mod chained;
pub mod cli;
mod desk;
mod driver;
mod events;
mod exit;
mod flow;
mod html;
mod ledger;
pub mod loopback;
mod operator;
mod process;
mod redact;
mod repair;
pub mod replica;
mod rules;
mod runner;
mod secrets;
mod smoke;
pub mod store;
mod table;
pub mod vault;
mod verify;
mod wait;

/// The journal's default file names, real and rehearsal (the vault's are in [`vault`]).
pub mod journal_files {
    pub use crate::batch::journal::{DEFAULT_FILE, REHEARSAL_FILE};
}
