//! Password policy [guess, portal-facts.md]: 8-15 characters, at least one
//! upper, lower, digit and special from `@#$!%`, no special first or last.

use rand::seq::SliceRandom;
use rand::Rng;

pub const SPECIALS: &str = "@#$!%";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("has {0} characters; a password has 8 to 15")]
    Length(usize),
    #[error("needs at least one {0}")]
    Missing(&'static str),
    #[error("may not start or end with a special character")]
    SpecialAtEdge,
    #[error("contains a character outside letters, digits and @#$!%")]
    Charset,
}

pub fn validate_password(p: &str) -> Result<(), PasswordError> {
    let n = p.chars().count();
    if !(8..=15).contains(&n) {
        return Err(PasswordError::Length(n));
    }
    let is_special = |c: char| SPECIALS.contains(c);
    if p.chars()
        .any(|c| !(c.is_ascii_alphanumeric() || is_special(c)))
    {
        return Err(PasswordError::Charset);
    }
    for (what, ok) in [
        (
            "upper-case letter",
            p.chars().any(|c| c.is_ascii_uppercase()),
        ),
        (
            "lower-case letter",
            p.chars().any(|c| c.is_ascii_lowercase()),
        ),
        ("digit", p.chars().any(|c| c.is_ascii_digit())),
        ("special character (@#$!%)", p.chars().any(is_special)),
    ] {
        if !ok {
            return Err(PasswordError::Missing(what));
        }
    }
    if is_special(p.chars().next().unwrap()) || is_special(p.chars().last().unwrap()) {
        return Err(PasswordError::SpecialAtEdge);
    }
    Ok(())
}

/// A 14-character password that always satisfies the policy, from OS randomness.
pub fn generate_password() -> String {
    use rand::TryRngCore;
    let mut rng = rand::rngs::OsRng.unwrap_err();
    generate_with(&mut rng)
}

pub(crate) fn generate_with(rng: &mut impl Rng) -> String {
    // Ambiguous glyphs (0/O, 1/l/I) left out: people copy these into GSP forms.
    const UP: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LO: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const DI: &[u8] = b"23456789";
    let pick =
        |rng: &mut dyn rand::RngCore, set: &[u8]| set[rng.random_range(0..set.len())] as char;
    let all: Vec<u8> = [UP, LO, DI].concat();
    let mut middle: Vec<char> = vec![
        pick(rng, UP),
        pick(rng, LO),
        pick(rng, DI),
        pick(rng, SPECIALS.as_bytes()),
        pick(rng, SPECIALS.as_bytes()),
    ];
    while middle.len() < 12 {
        middle.push(pick(rng, &all));
    }
    middle.shuffle(rng);
    let mut p = String::new();
    p.push(pick(rng, UP));
    p.extend(middle);
    p.push(pick(rng, DI));
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn policy() {
        assert!(validate_password("Genems@2024x").is_ok());
        assert_eq!(validate_password("Ge@1"), Err(PasswordError::Length(4)));
        assert_eq!(
            validate_password("genems@2024x"),
            Err(PasswordError::Missing("upper-case letter"))
        );
        assert_eq!(
            validate_password("Genems2024xx"),
            Err(PasswordError::Missing("special character (@#$!%)"))
        );
        assert_eq!(
            validate_password("@Genems2024x"),
            Err(PasswordError::SpecialAtEdge)
        );
        assert_eq!(
            validate_password("Genems 2024@x"),
            Err(PasswordError::Charset)
        );
    }

    #[test]
    fn generated_passwords_always_pass() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(rand::random());
        for _ in 0..5000 {
            let p = generate_with(&mut rng);
            assert!(validate_password(&p).is_ok(), "{p}");
        }
        let a = generate_password();
        let b = generate_password();
        assert_ne!(a, b);
        assert!(validate_password(&a).is_ok());
    }
}
