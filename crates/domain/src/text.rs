//! Text normalisation for input typed by people: full-width ASCII (common in
//! Chinese input methods) becomes half-width, surrounding space is trimmed.

/// Converts full-width ASCII forms (U+FF01..U+FF5E) and the ideographic space
/// to their ASCII equivalents and trims the result.
pub fn normalize_width(input: &str) -> String {
    let mapped: String = input
        .chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            other => other,
        })
        .collect();
    mapped.trim().to_string()
}

/// Trims and rejects empty text; returns `None` for blank input.
pub fn non_blank(input: &str) -> Option<String> {
    let t = input.trim();
    if t.is_empty() { None } else { Some(t.to_string()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_becomes_ascii() {
        assert_eq!(normalize_width("　９１３５０１００Ｍ０００１００Ｙ４３ "), "91350100M000100Y43");
        assert_eq!(normalize_width("南翔（镇）"), "南翔(镇)");
    }
}
