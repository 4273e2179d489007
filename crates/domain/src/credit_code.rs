//! 统一社会信用代码 (unified social credit code), GB 32100-2015.
//!
//! 18 characters from a 31-character alphabet (digits and capitals without
//! I, O, Z, S, V):
//! 1 登记管理部门码, 2 机构类别码, 3–8 登记管理机关行政区划码,
//! 9–17 主体标识码 (the GB 11714 organisation code, whose 9th character is its
//! own check character), 18 校验码 (weights 3^i mod 31).

use crate::error::DomainError;
use crate::text::normalize_width;
use serde::{Deserialize, Serialize};
use std::fmt;

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// GB 11714 value of a character of the organisation code: digits 0–9,
/// letters A=10 … Z=35.
fn org_value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        _ => None,
    }
}

/// The GB 32100 check character for the first 17 characters.
pub fn check_character(first17: &[u8]) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in first17.iter().zip(WEIGHTS) {
        sum += value(*c)? * w;
    }
    let idx = (31 - sum % 31) % 31;
    ALPHABET.get(idx as usize).map(|b| *b as char)
}

/// The GB 11714 check character of an organisation code's first 8 characters.
pub fn org_check_character(first8: &[u8]) -> Option<char> {
    if first8.len() != 8 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in first8.iter().zip(ORG_WEIGHTS) {
        sum += org_value(*c)? * w;
    }
    match 11 - sum % 11 {
        10 => Some('X'),
        11 => Some('0'),
        d => char::from_digit(d, 10),
    }
}

impl CreditCode {
    /// Parses a code as a person typed it: full-width characters, lower case
    /// and surrounding space are accepted.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let code = normalize_width(input).to_ascii_uppercase();
        let bytes = code.as_bytes();
        let field = "credit_code";
        if bytes.len() != 18 {
            return Err(DomainError::field(
                field,
                format!("统一社会信用代码应为18位，实际为{}位", code.chars().count()),
                format!("A unified social credit code has 18 characters, this one has {}", code.chars().count()),
            ));
        }
        if let Some(bad) = bytes.iter().find(|c| value(**c).is_none()) {
            return Err(DomainError::field(
                field,
                format!("统一社会信用代码含有不允许的字符“{}”（不使用I、O、Z、S、V）", *bad as char),
                format!("The code contains '{}', which is not allowed (I, O, Z, S and V are never used)", *bad as char),
            ));
        }
        let (head, tail) = bytes.split_at(17);
        let org = bytes.get(8..17).unwrap_or_default();
        let (org_head, org_check) = org.split_at(8.min(org.len()));
        let expected_org = org_check_character(org_head);
        if expected_org.map(|c| c as u8) != org_check.first().copied() {
            return Err(DomainError::field(
                field,
                "统一社会信用代码第9至17位（主体标识码）校验不通过，请核对",
                "Characters 9 to 17 (the organisation code) fail their check character; please check the code",
            ));
        }
        let expected = check_character(head);
        if expected.map(|c| c as u8) != tail.first().copied() {
            return Err(DomainError::field(
                field,
                "统一社会信用代码校验位不正确，请核对是否输错",
                "The check character of the unified social credit code is wrong; please check for a typo",
            ));
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CreditCode {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<CreditCode> for String {
    fn from(c: CreditCode) -> String {
        c.0
    }
}

/// Builds a valid code from 8 characters of prefix and an 8-character
/// organisation-code body: used by the demo data and by tests.
pub fn complete(prefix8: &str, org8: &str) -> Option<CreditCode> {
    let org_check = org_check_character(org8.as_bytes())?;
    let first17 = format!("{prefix8}{org8}{org_check}");
    let check = check_character(first17.as_bytes())?;
    CreditCode::parse(&format!("{first17}{check}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn published_examples_are_valid() {
        for code in ["91350100M000100Y43", "9144030071526726XG"] {
            assert!(CreditCode::parse(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn input_is_normalised() {
        let c = CreditCode::parse(" ９１３５０１００ｍ０００１００ｙ４３ ").expect("valid");
        assert_eq!(c.as_str(), "91350100M000100Y43");
    }

    #[test]
    fn errors_name_the_problem() {
        let short = CreditCode::parse("9135010").expect_err("short");
        assert!(short.zh.contains("18位"));
        let letter = CreditCode::parse("91350100M000100I43").expect_err("I");
        assert!(letter.en.contains("'I'"));
        let check = CreditCode::parse("91350100M000100Y44").expect_err("check");
        assert!(check.zh.contains("校验位"));
        let org = CreditCode::parse("91350100M000101Y43").expect_err("org");
        assert!(org.zh.contains("主体标识码"));
    }

    proptest! {
        #[test]
        fn completed_codes_parse_and_any_single_change_is_caught(
            prefix in "[159Y][1239][0-9]{6}",
            org in "[0-9A-HJ-NP-RT-UW-Y]{8}",
            pos in 0usize..18,
            replacement in 0usize..31,
        ) {
            let code = complete(&prefix, &org);
            prop_assume!(code.is_some());
            let code = code.unwrap();
            prop_assert!(CreditCode::parse(code.as_str()).is_ok());
            let mut bytes = code.as_str().as_bytes().to_vec();
            let new = ALPHABET[replacement];
            prop_assume!(bytes[pos] != new);
            bytes[pos] = new;
            let changed = String::from_utf8(bytes).unwrap_or_default();
            prop_assert!(CreditCode::parse(&changed).is_err(), "{} accepted", changed);
        }
    }
}
