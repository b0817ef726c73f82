//! Mobile, e-mail, OTP and username rules (portal-facts.md, Rules).

/// Why a value breaks a rule: a phrase that follows "it", e.g. "must start with 6, 7, 8 or 9".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl std::ops::Deref for Invalid {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// 10 digits, first 6-9, no country code.
pub fn validate_mobile(s: &str) -> Result<(), Invalid> {
    if s.starts_with("+91") || (s.len() == 12 && s.starts_with("91")) {
        return Err(Invalid(
            "drop the +91 country code: the portal takes the 10-digit number".into(),
        ));
    }
    if s.len() != 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Invalid(format!(
            "has {} characters; a mobile number is exactly 10 digits",
            s.chars().count()
        )));
    }
    if !matches!(s.as_bytes()[0], b'6'..=b'9') {
        return Err(Invalid("must start with 6, 7, 8 or 9".into()));
    }
    Ok(())
}

/// Six digits.
pub fn validate_otp(s: &str) -> Result<(), Invalid> {
    if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Invalid("an OTP is exactly 6 digits".into()))
    }
}

/// A mobile number as a page may show it: all but the last 3 digits hidden.
pub fn mask_mobile(m: &str) -> String {
    let digits: Vec<char> = m.chars().filter(char::is_ascii_digit).collect();
    let keep = digits.len().saturating_sub(3);
    let tail: String = digits[keep..].iter().collect();
    format!("{}{tail}", "•".repeat(keep.clamp(3, 7)))
}

/// One `@`, a dotted domain, no spaces.
pub fn validate_email(s: &str) -> Result<(), Invalid> {
    let Some((local, domain)) = s.split_once('@') else {
        return Err(Invalid("has no '@'".into()));
    };
    if local.is_empty() || domain.is_empty() || domain.contains('@') {
        return Err(Invalid("needs one '@' with text on both sides".into()));
    }
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return Err(Invalid(format!(
            "domain '{domain}' needs a dot, as in example.com"
        )));
    }
    if s.chars().any(|c| c.is_whitespace()) {
        return Err(Invalid("contains a space".into()));
    }
    Ok(())
}

/// Web-login usernames: 6-15 characters.
pub fn validate_web_username(s: &str) -> Result<(), Invalid> {
    let n = s.chars().count();
    if !(6..=15).contains(&n) {
        return Err(Invalid(format!(
            "has {n} characters; a username has 6 to 15"
        )));
    }
    Ok(())
}

/// The part of an API username the user types (production adds `API_` in front).
/// Letters and digits, with `_` `.` `-` allowed only inside, 4-15 characters [guess].
pub fn validate_api_username(s: &str) -> Result<(), Invalid> {
    if s.starts_with("API_") {
        return Err(Invalid(
            "leave out the API_ prefix: the portal adds it".into(),
        ));
    }
    let n = s.chars().count();
    if !(4..=15).contains(&n) {
        return Err(Invalid(format!(
            "has {n} characters; an API username has 4 to 15"
        )));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_.-".contains(*c)))
    {
        return Err(Invalid(format!(
            "'{c}' is not allowed: use letters, digits, and _ . - inside"
        )));
    }
    let first = s.chars().next().unwrap();
    let last = s.chars().last().unwrap();
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return Err(Invalid("must start and end with a letter or digit".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_masked_mobile_keeps_only_its_last_three_digits() {
        assert_eq!(mask_mobile("9876543210"), "•••••••210");
        assert_eq!(mask_mobile("+91 98765 43210"), "•••••••210");
        assert_eq!(mask_mobile("12"), "•••12");
    }

    #[test]
    fn mobiles() {
        assert!(validate_mobile("9876543210").is_ok());
        assert!(validate_mobile("6000000000").is_ok());
        assert!(validate_mobile("5876543210")
            .unwrap_err()
            .contains("6, 7, 8 or 9"));
        assert!(validate_mobile("+919876543210")
            .unwrap_err()
            .contains("+91"));
        assert!(validate_mobile("98765").unwrap_err().contains("10 digits"));
        assert!(validate_mobile("98765x3210").is_err());
    }

    #[test]
    fn emails_otps_usernames() {
        assert!(validate_email("ops@example.co.in").is_ok());
        assert!(validate_email("ops.example.com").is_err());
        assert!(validate_email("ops@localhost").is_err());
        assert!(validate_otp("123456").is_ok());
        assert!(validate_otp("12345").is_err());
        assert!(validate_api_username("genems01").is_ok());
        assert!(validate_api_username("API_genems").is_err());
        assert!(validate_api_username("_genems").is_err());
        assert!(validate_api_username("gen ems").is_err());
        assert!(validate_web_username("abc").is_err());
    }
}
