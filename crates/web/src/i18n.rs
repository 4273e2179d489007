//! The page language: Chinese (zh-CN) by default, English (en-US) when the
//! user chose it or the browser asks for it.
//!
//! Every text of a page is written as a pair at the place it is used — in a
//! template `{{ "隐患清单"|t("Hazards") }}`, in Rust `tr("已保存。", "Saved.")` —
//! so a string cannot be added in one language only, and a page is rendered
//! in one language throughout. The language of a request is decided once by
//! the request middleware (the `bihuan_lang` cookie, set when the user
//! switches or logs in from their saved choice, else `Accept-Language`).
//! A test (`tests/it/i18n.rs`) reads the templates and the page code and fails
//! on any Chinese text without its English twin beside it.

use std::fmt;

/// The cookie that carries the chosen language.
pub const LANG_COOKIE: &str = "bihuan_lang";

/// One of two texts, chosen by the request's language; written without
/// allocating.
pub enum Pick<A, B> {
    Zh(A),
    En(B),
}

impl<A: fmt::Display, B: fmt::Display> fmt::Display for Pick<A, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pick::Zh(a) => a.fmt(f),
            Pick::En(b) => b.fmt(f),
        }
    }
}

/// The text for the request's language.
pub fn tr<'a>(zh: &'a str, en: &'a str) -> &'a str {
    if crate::english() { en } else { zh }
}

/// Owned texts, for messages that carry values: `trf(format!(…), format!(…))`.
pub fn trf(zh: String, en: String) -> String {
    if crate::english() { en } else { zh }
}

/// A whole number with thousands separators (both languages write 12,345).
pub fn number(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Filters the templates use. Each template module brings them in with
/// `use crate::i18n::filters;`.
pub mod filters {
    use super::Pick;
    use askama::{Result, Values};
    use std::fmt::Display;

    /// `{{ "中文"|t("English") }}`: the text in the request's language.
    pub fn t<A: Display, B: Display>(zh: A, _: &dyn Values, en: B) -> Result<Pick<A, B>> {
        Ok(if crate::english() { Pick::En(en) } else { Pick::Zh(zh) })
    }

    /// `{{ n|num }}`: a count with thousands separators.
    pub fn num<N: Copy + Into<i64>>(n: &N, _: &dyn Values) -> Result<String> {
        Ok(super::number((*n).into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(1000), "1,000");
        assert_eq!(number(1_234_567), "1,234,567");
        assert_eq!(number(-12_345), "-12,345");
    }

    #[test]
    fn chinese_outside_a_request() {
        assert_eq!(tr("是", "yes"), "是");
    }
}
