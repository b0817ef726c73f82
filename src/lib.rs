//! einvreg: registers e-Invoice API credentials on India's GST (NIC) portals
//! by driving a real browser through W3C WebDriver.
//!
//! One folder per concern: `flow` (the TOML flow language), `rules` (portal
//! rules), `replica` (a stateful copy of both portals), `driver` (WebDriver
//! sessions), `runner` (executes flows), `operator` (asks humans), `vault`
//! (credentials), `batch`, `smoke`, `redact`, and `cli` (the thin edge).

#![allow(clippy::result_large_err)]

pub mod batch;
pub mod cli;
pub mod driver;
pub mod flow;
pub mod operator;
pub mod redact;
pub mod replica;
pub mod rules;
pub mod runner;
pub mod smoke;
pub mod vault;
