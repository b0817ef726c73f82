//! GSTIN structure and its Luhn mod 36 check character (portal-facts.md, Rules).

use std::fmt;

const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// How strictly a GSTIN input is checked. Production needs real GSTINs; the
/// sandbox also takes GSP-made dummies such as `29AAGCB1286Q000`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GstinStrictness {
    /// Every structural rule and the check character.
    #[default]
    Strict,
    /// 15 upper-case letters/digits with a known state code: the sandbox's dummies pass.
    Sandbox,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GstinError {
    #[error("has {0} characters; a GSTIN has exactly 15")]
    Length(usize),
    #[error("character {pos} '{ch}' is not an upper-case letter or digit")]
    Charset { pos: usize, ch: char },
    #[error("state code '{0}' is not a GST state code (01-38, 97, 99)")]
    State(String),
    #[error("characters 3-12 '{0}' are not a PAN (five letters, four digits, one letter)")]
    Pan(String),
    #[error("character 13 '{0}' (entity number) must be 1-9 or A-Z")]
    Entity(char),
    #[error("character 14 is '{0}'; it is always 'Z'")]
    DefaultZ(char),
    #[error(
        "check character is '{found}'; it should be '{expected}' (Luhn mod 36 over the first 14)"
    )]
    Check { found: char, expected: char },
}

/// A GSTIN split into its parts, for `einvreg gstin` explanations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GstinInfo {
    pub state_code: String,
    pub state_name: Option<&'static str>,
    pub pan: String,
    pub entity: char,
    pub check: char,
}

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// The check character for the first 14 characters, or None if any is outside 0-9A-Z.
pub fn check_char(first14: &str) -> Option<char> {
    let bytes = first14.as_bytes();
    if bytes.len() != 14 {
        return None;
    }
    let mut sum = 0u32;
    for (i, &b) in bytes.iter().enumerate() {
        let v = value(b)?;
        let factor = if i % 2 == 0 { 1 } else { 2 }; // 1-based odd positions get 1
        let p = v * factor;
        sum += p / 36 + p % 36;
    }
    Some(ALPHABET[((36 - sum % 36) % 36) as usize] as char)
}

pub fn state_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "01" => "Jammu and Kashmir",
        "02" => "Himachal Pradesh",
        "03" => "Punjab",
        "04" => "Chandigarh",
        "05" => "Uttarakhand",
        "06" => "Haryana",
        "07" => "Delhi",
        "08" => "Rajasthan",
        "09" => "Uttar Pradesh",
        "10" => "Bihar",
        "11" => "Sikkim",
        "12" => "Arunachal Pradesh",
        "13" => "Nagaland",
        "14" => "Manipur",
        "15" => "Mizoram",
        "16" => "Tripura",
        "17" => "Meghalaya",
        "18" => "Assam",
        "19" => "West Bengal",
        "20" => "Jharkhand",
        "21" => "Odisha",
        "22" => "Chhattisgarh",
        "23" => "Madhya Pradesh",
        "24" => "Gujarat",
        "25" => "Daman and Diu",
        "26" => "Dadra and Nagar Haveli and Daman and Diu",
        "27" => "Maharashtra",
        "28" => "Andhra Pradesh (old)",
        "29" => "Karnataka",
        "30" => "Goa",
        "31" => "Lakshadweep",
        "32" => "Kerala",
        "33" => "Tamil Nadu",
        "34" => "Puducherry",
        "35" => "Andaman and Nicobar Islands",
        "36" => "Telangana",
        "37" => "Andhra Pradesh",
        "38" => "Ladakh",
        "97" => "Other Territory",
        "99" => "Centre Jurisdiction",
        _ => return None,
    })
}

fn is_pan(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[..5].iter().all(u8::is_ascii_uppercase)
        && b[5..9].iter().all(u8::is_ascii_digit)
        && b[9].is_ascii_uppercase()
}

/// Validates a GSTIN. Errors come in the order a person would fix them.
pub fn validate_gstin(raw: &str, strictness: GstinStrictness) -> Result<GstinInfo, GstinError> {
    let n = raw.chars().count();
    if n != 15 {
        return Err(GstinError::Length(n));
    }
    for (i, ch) in raw.chars().enumerate() {
        if !(ch.is_ascii_uppercase() || ch.is_ascii_digit()) {
            return Err(GstinError::Charset { pos: i + 1, ch });
        }
    }
    let state = &raw[..2];
    let state_name = state_name(state);
    if state_name.is_none() {
        return Err(GstinError::State(state.to_string()));
    }
    let pan = &raw[2..12];
    let entity = raw.as_bytes()[12] as char;
    let z = raw.as_bytes()[13] as char;
    let check = raw.as_bytes()[14] as char;
    let info = GstinInfo {
        state_code: state.to_string(),
        state_name,
        pan: pan.to_string(),
        entity,
        check,
    };
    // Sandbox: GSP-made dummies (not in the normal format) pass; a GSTIN in
    // the normal format must still have its check character (typos are caught).
    let normal = is_pan(pan) && entity != '0' && z == 'Z';
    if strictness == GstinStrictness::Sandbox && !normal {
        return Ok(info);
    }
    if !is_pan(pan) {
        return Err(GstinError::Pan(pan.to_string()));
    }
    if entity == '0' {
        return Err(GstinError::Entity(entity));
    }
    if z != 'Z' {
        return Err(GstinError::DefaultZ(z));
    }
    let expected = check_char(&raw[..14]).expect("charset checked above");
    if expected != check {
        return Err(GstinError::Check {
            found: check,
            expected,
        });
    }
    Ok(info)
}

impl fmt::Display for GstinInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "state {} ({}), PAN {}, entity {}, check {}",
            self.state_code,
            self.state_name.unwrap_or("?"),
            self.pan,
            self.entity,
            self.check
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn portal_facts_vectors() {
        for ok in [
            "27AAPFU0939F1ZV",
            "29AAFCC9980MZZT",
            "29AAACJ4323N1ZC",
            "33GSPTN9771G3ZP",
            "05AAACH6188F1ZM",
        ] {
            validate_gstin(ok, GstinStrictness::Strict).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        assert_eq!(
            validate_gstin("22AAAAA0000A1Z5", GstinStrictness::Strict),
            Err(GstinError::Check {
                found: '5',
                expected: 'C'
            })
        );
        assert_eq!(
            validate_gstin("24AAACJ3770E2ZZ", GstinStrictness::Strict),
            Err(GstinError::Check {
                found: 'Z',
                expected: 'V'
            })
        );
    }

    #[test]
    fn sandbox_dummies_pass_only_when_lenient() {
        assert!(validate_gstin("29AAGCB1286Q000", GstinStrictness::Strict).is_err());
        assert!(validate_gstin("29AAGCB1286Q000", GstinStrictness::Sandbox).is_ok());
        // A real-format GSTIN with a typo is caught even on the sandbox.
        assert!(matches!(
            validate_gstin("22AAAAA0000A1Z5", GstinStrictness::Sandbox),
            Err(GstinError::Check { .. })
        ));
        assert!(matches!(
            validate_gstin("29aagcb1286q000", GstinStrictness::Sandbox),
            Err(GstinError::Charset { .. })
        ));
        assert!(matches!(
            validate_gstin("00AAGCB1286Q000", GstinStrictness::Sandbox),
            Err(GstinError::State(_))
        ));
    }

    #[test]
    fn structural_errors_name_the_part() {
        assert_eq!(
            validate_gstin("27AAPFU0939F1Z", GstinStrictness::Strict),
            Err(GstinError::Length(14))
        );
        assert!(matches!(
            validate_gstin("27AAPF10939F1ZV", GstinStrictness::Strict),
            Err(GstinError::Pan(_))
        ));
        assert!(matches!(
            validate_gstin("27AAPFU0939F0ZV", GstinStrictness::Strict),
            Err(GstinError::Entity('0'))
        ));
        assert!(matches!(
            validate_gstin("27AAPFU0939F1YV", GstinStrictness::Strict),
            Err(GstinError::DefaultZ('Y'))
        ));
        assert!(matches!(
            validate_gstin("45AAPFU0939F1ZV", GstinStrictness::Strict),
            Err(GstinError::State(_))
        ));
    }

    pub(crate) fn random_valid(rng: &mut impl Rng) -> String {
        let states = [
            "01", "07", "09", "19", "24", "27", "29", "33", "36", "38", "97", "99",
        ];
        let mut s = String::from(states[rng.random_range(0..states.len())]);
        for _ in 0..5 {
            s.push(rng.random_range(b'A'..=b'Z') as char);
        }
        for _ in 0..4 {
            s.push(rng.random_range(b'0'..=b'9') as char);
        }
        s.push(rng.random_range(b'A'..=b'Z') as char);
        s.push(ALPHABET[rng.random_range(1..36)] as char);
        s.push('Z');
        let c = check_char(&s).unwrap();
        s.push(c);
        s
    }

    /// Property: every random valid GSTIN passes, and every single-character
    /// substitution that changes what the check character should be is caught.
    #[test]
    fn property_check_char_catches_substitutions() {
        let seed: u64 = std::env::var("EINVREG_PROPTEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(rand::random);
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut caught = 0usize;
        for _ in 0..300 {
            let g = random_valid(&mut rng);
            validate_gstin(&g, GstinStrictness::Strict)
                .unwrap_or_else(|e| panic!("seed {seed}: generated {g} rejected: {e}"));
            for pos in 0..15 {
                for &alt in ALPHABET.iter() {
                    if alt == g.as_bytes()[pos] {
                        continue;
                    }
                    let mut m = g.clone().into_bytes();
                    m[pos] = alt;
                    let m = String::from_utf8(m).unwrap();
                    let breaks_check = check_char(&m[..14]) != Some(m.as_bytes()[14] as char);
                    let res = validate_gstin(&m, GstinStrictness::Strict);
                    if breaks_check {
                        assert!(res.is_err(), "seed {seed}: {m} (from {g}) breaks the check character but was accepted");
                        caught += 1;
                    }
                }
            }
        }
        // Luhn mod N catches every single substitution, so nearly all mutants break it.
        assert!(
            caught > 300 * 15 * 30,
            "seed {seed}: only {caught} mutants broke the check char"
        );
    }
}
