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
