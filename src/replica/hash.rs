//! The login's password hash, as the real login page computes it in the
//! browser (evidence 1: `sha256(hex(sha256(hex(md5(password)))) + salt)`,
//! in hex); `fixtures/pages/login-hash.js` is the page's side.

use md5::{Digest as _, Md5};
use sha2::Sha256;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The unsalted part of the login form's hash: what the replica keeps of
/// a portal login's password.
pub fn login_digest(password: &str) -> String {
    let md5 = hex(&Md5::digest(password.as_bytes()));
    hex(&Sha256::digest(md5.as_bytes()))
}

/// The login form's hash of a password whose `login_digest` is `digest`.
pub fn salted(digest: &str, salt: &str) -> String {
    hex(&Sha256::digest(format!("{digest}{salt}").as_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_the_page_script() {
        // The same value Python's hashlib and login-hash.js give.
        assert_eq!(
            super::salted(&super::login_digest("Uday@Login2024"), "SALT1234"),
            "4ba933617d64ce7401f4748790d31d6ce7d74db9a8adde785bc7f7971b960907"
        );
    }
}
