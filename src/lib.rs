//! einvreg: registers e-Invoice API credentials on India's GST (NIC) portals
//! by driving a real browser through W3C WebDriver.
//!
//! One folder per concern. The engine: `flow` (the TOML flow language),
//! `rules` (portal rules), `driver` (WebDriver sessions), `runner` (walks a
//! flow, for `run` and `smoke` alike), `operator` (asks people), `vault`
//! (credentials), `batch`, `smoke`, `events` (the stream every display and
//! record consumes), `redact`, `secrets`, `exit` (typed results to stable
//! codes), `loopback` (a loopback-only HTTP client). Beside it, a leaf
//! nothing in the engine imports: `replica` (a stateful copy of both
//! portals). At the edge: `cli`. `docs/architecture.md` draws the map.

#![allow(clippy::result_large_err)]

pub mod batch;
pub mod cli;
pub mod driver;
pub mod events;
pub mod exit;
pub mod flow;
pub mod loopback;
pub mod operator;
pub mod redact;
pub mod replica;
pub mod rules;
pub mod runner;
pub mod secrets;
pub mod smoke;
pub mod vault;
