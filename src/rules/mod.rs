//! Portal rules: what NIC accepts for a GSTIN, mobile, e-mail, username and
//! password. Pure functions, no I/O, so the checker, the runner and the
//! replica all agree on one definition.

pub mod gstin;
pub mod password;
pub mod people;

pub use gstin::{validate_gstin, GstinStrictness};
pub use password::{generate_password, validate_password};
pub use people::{
    mask_mobile, validate_api_username, validate_email, validate_mobile, validate_otp,
    validate_web_username, Invalid,
};

/// The first control character of a value and where (1-based, counting
/// characters): typed into a form it would be a key (a newline is Enter).
pub fn control_char(s: &str) -> Option<(usize, char)> {
    let (i, c) = s.chars().enumerate().find(|(_, c)| c.is_control())?;
    Some((i + 1, c))
}
