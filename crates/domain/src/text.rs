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

/// Is `c` written without spaces between words (Chinese, Japanese, Korean)?
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F | 0x3040..=0x30FF | 0xAC00..=0xD7AF)
}

/// A run of text of one kind.
enum Run {
    Cjk(Vec<char>),
    Word(String),
}

fn runs(input: &str) -> Vec<Run> {
    let mut out = Vec::new();
    let mut cur: Option<Run> = None;
    for c in normalize_width(input).chars() {
        let next_kind = if is_cjk(c) {
            Some(true)
        } else if c.is_alphanumeric() {
            Some(false)
        } else {
            None
        };
        match (next_kind, cur.as_mut()) {
            (Some(true), Some(Run::Cjk(v))) => v.push(c),
            (Some(false), Some(Run::Word(w))) => w.extend(c.to_lowercase()),
            (None, _) => out.extend(cur.take()),
            (Some(k), _) => {
                out.extend(cur.take());
                cur = Some(if k { Run::Cjk(vec![c]) } else { Run::Word(c.to_lowercase().collect()) });
            }
        }
    }
    out.extend(cur);
    out
}

/// The tokens a text is indexed by for substring search. Chinese has no
/// spaces between words, so each run of CJK characters becomes its
/// overlapping character pairs followed by its last character
/// (消防通道 → 消防 防通 通道 道); other letters and digits become lower-case
/// words. A query's tokens (see [`search_query`]) then match as a phrase
/// exactly where the query is a substring, on SQLite FTS5 and PostgreSQL
/// tsvector alike.
pub fn search_tokens(input: &str) -> Vec<String> {
    let mut out = Vec::new();
    for run in runs(input) {
        match run {
            Run::Word(w) => out.push(w),
            Run::Cjk(chars) => {
                for pair in chars.windows(2) {
                    out.push(pair.iter().collect());
                }
                if let Some(last) = chars.last() {
                    out.push(last.to_string());
                }
            }
        }
    }
    out
}

/// A search query as a phrase: tokens that must follow each other, the
/// last one possibly a prefix. `None` when the query has nothing to search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchPhrase {
    pub tokens: Vec<String>,
    /// The last token matches any token that starts with it.
    pub prefix_last: bool,
}

pub fn search_query(input: &str) -> Option<SearchPhrase> {
    let runs = runs(input);
    let mut tokens = Vec::new();
    let mut prefix_last = false;
    let n = runs.len();
    for (i, run) in runs.into_iter().enumerate() {
        let last = i + 1 == n;
        match run {
            Run::Word(w) => {
                tokens.push(w);
                prefix_last = last;
            }
            Run::Cjk(chars) if chars.len() == 1 => {
                tokens.extend(chars.first().map(char::to_string));
                // A lone last character may begin a pair in the text.
                prefix_last = last;
            }
            Run::Cjk(chars) => {
                for pair in chars.windows(2) {
                    tokens.push(pair.iter().collect());
                }
                prefix_last = false;
            }
        }
    }
    (!tokens.is_empty()).then_some(SearchPhrase { tokens, prefix_last })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_tokens_are_character_pairs() {
        assert_eq!(search_tokens("消防通道"), ["消防", "防通", "通道", "道"]);
        assert_eq!(search_tokens("A区 消防，DN50管道"), ["a", "区", "消防", "防", "dn50", "管道", "道"]);
        assert_eq!(search_query("消防通道").unwrap(), SearchPhrase { tokens: vec!["消防".into(), "防通".into(), "通道".into()], prefix_last: false });
        assert_eq!(search_query("防").unwrap(), SearchPhrase { tokens: vec!["防".into()], prefix_last: true });
        assert_eq!(search_query(" ，。 "), None);
    }

    /// The query's phrase occurs in the text's tokens exactly when the
    /// query is a substring (ignoring punctuation, case and width).
    fn phrase_matches(text: &str, query: &str) -> bool {
        let t = search_tokens(text);
        let Some(q) = search_query(query) else { return false };
        let k = q.tokens.len();
        t.windows(k).any(|w| {
            w.iter().zip(&q.tokens).enumerate().all(|(i, (a, b))| if i + 1 == k && q.prefix_last { a.starts_with(b.as_str()) } else { a == b })
        })
    }

    proptest::proptest! {
        #[test]
        fn a_phrase_matches_every_chinese_substring(text in "[消防通道电气线路老化区]{1,12}", start in 0usize..12, len in 1usize..6) {
            let chars: Vec<char> = text.chars().collect();
            let start = start.min(chars.len() - 1);
            let end = (start + len).min(chars.len());
            let q: String = chars[start..end].iter().collect();
            proptest::prop_assert!(phrase_matches(&text, &q), "{} in {}", q, text);
        }

        #[test]
        fn a_phrase_never_matches_what_is_not_a_substring(text in "[消防通道电气]{1,8}", q in "[消防通道电气]{1,4}") {
            if !text.contains(&q) {
                proptest::prop_assert!(!phrase_matches(&text, &q), "{} in {}", q, text);
            }
        }
    }

    #[test]
    fn full_width_becomes_ascii() {
        assert_eq!(normalize_width("　９１３５０１００Ｍ０００１００Ｙ４３ "), "91350100M000100Y43");
        assert_eq!(normalize_width("南翔（镇）"), "南翔(镇)");
    }
}
