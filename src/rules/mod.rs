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
