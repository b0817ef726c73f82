//! One integration-test binary: every test runs the real `einvreg` binary
//! (and, from `replica`/`run` on, a real Chromium against the replica).

mod batch;
mod chains;
mod check;
mod contexts;
mod crash;
mod desk;
mod dialogs;
mod fidelity;
mod grid;
mod guards;
mod hardening;
mod input;
mod install;
mod leaks;
mod onboarding;
mod procs;
mod repair;
mod replica;
mod report;
mod run;
mod secrets;
mod smoke;
mod store;
mod support;
mod vault;
mod verify;
mod warm;
