//! The login's password hash, as the real login page computes it in the
//! browser (evidence 1: `sha256(hex(sha256(hex(md5(password)))) + salt)`,
//! in hex); `fixtures/pages/login-hash.js` is the page's side.

use md5::{Digest as _, Md5};
use sha2::Sha256;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the login form posts for `password` with this `salt`.
pub fn salted_login(password: &str, salt: &str) -> String {
    let md5 = hex(&Md5::digest(password.as_bytes()));
    let once = hex(&Sha256::digest(md5.as_bytes()));
    hex(&Sha256::digest(format!("{once}{salt}").as_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_the_page_script() {
        // The same value Python's hashlib and login-hash.js give.
        assert_eq!(
            super::salted_login("Uday@Login2024", "SALT1234"),
            "4ba933617d64ce7401f4748790d31d6ce7d74db9a8adde785bc7f7971b960907"
        );
    }
}
