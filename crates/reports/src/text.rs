//! Cleaning the text people type into spreadsheets: full-width forms,
//! stray spaces, the dozen ways a date is written, and float noise.

use time::{Date, Month};

/// Normalises cell text:
///
/// - full-width ASCII forms (`ＡＢＣ１２３，（）：`, U+FF01–U+FF5E) become their
///   half-width equivalents and the ideographic space U+3000 and the no-break
///   space become plain spaces; Chinese punctuation outside that block
///   (`、。「」《》`) is kept as written;
/// - zero-width characters and the byte-order mark are removed;
/// - each run of whitespace becomes one space, or one line break if the run
///   held a line break (so multi-line cells keep their lines);
/// - the result is trimmed.
pub fn normalize_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    // Pending whitespace run: None, Some(false) = spaces only, Some(true) = has a line break.
    let mut pending: Option<bool> = None;
    for c in s.chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' | '\u{00A0}' => ' ',
            other => other,
        };
        if is_invisible(c) {
            continue;
        }
        if c.is_whitespace() {
            let newline = matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}');
            pending = Some(pending.unwrap_or(false) || newline);
            continue;
        }
        if let Some(newline) = pending.take()
            && !out.is_empty()
        {
            out.push(if newline { '\n' } else { ' ' });
        }
        out.push(c);
    }
    out
}

/// Whether [`normalize_text`] would return an empty string (without
/// allocating).
pub(crate) fn is_blank_text(s: &str) -> bool {
    s.chars().all(|c| c.is_whitespace() || is_invisible(c))
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Header text reduced to what identifies the column: [`normalize_text`],
/// then without any whitespace, required-field stars (`*`, `※`), trailing
/// colons, and bracketed notes such as units (`（万元）`, `[必填]`, `【元】`),
/// ASCII lower-cased. `"* 整改资金\n（万元）："` → `"整改资金"`.
pub fn normalize_header(s: &str) -> String {
    let text = normalize_text(s);
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' | '[' | '【' | '〔' | '{' => depth += 1,
            ')' | ']' | '】' | '〕' | '}' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            '*' | '※' | '★' => {}
            c if c.is_whitespace() => {}
            c => out.push(c.to_ascii_lowercase()),
        }
    }
    let trimmed = out.trim_end_matches([':', '：']).trim_start_matches([':', '：']);
    if trimmed.is_empty() {
        // A header made only of a bracketed note: keep the note.
        return text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    }
    trimmed.to_string()
}

/// Reads a date as offices write it; a time after the date is ignored.
///
/// Accepted: `2020-08-06`, `2020-8-6`, `2020/8/6`, `2020.8.6`,
/// `2020年8月6日`, `2020年8月6号`, `20200806`, each with stray spaces
/// anywhere, in full-width digits, and followed by a time
/// (`2020-08-06 14:30:00`, `2020-08-06T14:30`, `2020年8月6日 下午3点`).
/// A bare whole number between 32874 and 73415 (1990-01-01 … 2100-12-31) is
/// taken as an Excel serial date, as a date cell formatted as General shows
/// it. Impossible dates (`2021-02-30`) give `None`.
pub fn parse_date(s: &str) -> Option<Date> {
    let s = normalize_text(s);
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.chars().all(|c| c.is_ascii_digit()) {
        return match s.len() {
            8 => {
                let (y, rest) = s.split_at_checked(4)?;
                let (m, d) = rest.split_at_checked(2)?;
                ymd(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
            }
            5 => {
                let serial: i64 = s.parse().ok()?;
                if (32_874..=73_415).contains(&serial) { serial_date(serial) } else { None }
            }
            _ => None,
        };
    }

    let mut chars = s.chars().peekable();
    let mut numbers = [0u32; 3];
    for (i, slot) in numbers.iter_mut().enumerate() {
        skip_spaces(&mut chars);
        let digits = take_digits(&mut chars);
        let limit = if i == 0 { 4 } else { 2 };
        if digits.is_empty() || digits.len() > limit || (i == 0 && digits.len() != 4) {
            return None;
        }
        *slot = digits.parse().ok()?;
        skip_spaces(&mut chars);
        let separator = chars.peek().copied();
        match (i, separator) {
            (0, Some('-' | '/' | '.' | '年')) | (1, Some('-' | '/' | '.' | '月')) => {
                chars.next();
            }
            (2, Some('日' | '号')) => {
                chars.next();
            }
            (2, _) => {}
            _ => return None,
        }
    }
    // Whatever follows must look like a time, not more date digits.
    let rest: String = chars.collect();
    let rest = rest.trim_start();
    let acceptable = rest.is_empty()
        || rest.starts_with(['T', 't'])
        || rest.starts_with(|c: char| c.is_ascii_digit())
            && s.contains(char::is_whitespace)
            && rest.contains([':', '时', '点'])
        || rest.starts_with(['上', '下', '中', '早', '晚', '凌']);
    if !acceptable {
        return None;
    }
    let [y, m, d] = numbers;
    ymd(i32::try_from(y).ok()?, u8::try_from(m).ok()?, u8::try_from(d).ok()?)
}

fn skip_spaces(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while chars.next_if(|c| c.is_whitespace()).is_some() {}
}

fn take_digits(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    let mut digits = String::new();
    while let Some(c) = chars.next_if(char::is_ascii_digit) {
        digits.push(c);
    }
    digits
}

fn ymd(y: i32, m: u8, d: u8) -> Option<Date> {
    let month = Month::try_from(m).ok()?;
    Date::from_calendar_date(y, month, d).ok()
}

/// The date of an Excel serial day number in the 1900 date system
/// (valid from 1900-03-01 on, serial 61).
pub(crate) fn serial_date(serial: i64) -> Option<Date> {
    if serial < 61 {
        return None;
    }
    let epoch = Date::from_calendar_date(1899, Month::December, 30).ok()?;
    epoch.checked_add(time::Duration::days(serial))
}

/// A number as a person reads it in Excel: whole numbers without a decimal
/// point (`3.0` → `3`), others in the shortest form after rounding to the 15
/// significant digits Excel shows (`0.1+0.2` → `0.3`, `2.50` → `2.5`).
pub fn format_number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let rounded: f64 = format!("{v:.14e}").parse().unwrap_or(v);
    if rounded == 0.0 {
        return "0".to_string();
    }
    // `Display` for f64 is the shortest text that reads back as the same
    // value, without exponent.
    rounded.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn full_width_and_spaces() {
        assert_eq!(normalize_text("　ＡＢＣ１２３，（南翔）  镇\t村 "), "ABC123,(南翔) 镇 村");
        assert_eq!(normalize_text("一、检查。"), "一、检查。");
        assert_eq!(normalize_text("1.清理通道 \r\n\r\n 2.更换灭火器"), "1.清理通道\n2.更换灭火器");
        assert_eq!(normalize_text("\u{FEFF}序号\u{200B}"), "序号");
        assert_eq!(normalize_text("   "), "");
        for blank in ["", " \u{3000}\u{00A0}\r\n", "\u{200B}\u{FEFF}"] {
            assert!(is_blank_text(blank));
            assert_eq!(normalize_text(blank), "");
        }
        assert!(!is_blank_text("　。"));
    }

    #[test]
    fn headers_lose_markers_units_and_colons() {
        assert_eq!(normalize_header("* 整改资金\n（万元）："), "整改资金");
        assert_eq!(normalize_header("隐患 名称*"), "隐患名称");
        assert_eq!(normalize_header("【必填】发现日期"), "发现日期");
        assert_eq!(normalize_header("ID"), "id");
        assert_eq!(normalize_header("（备注）"), "(备注)");
    }

    #[test]
    fn every_date_form() {
        let want = Some(date!(2020 - 08 - 06));
        for s in [
            "2020-08-06",
            "2020-8-6",
            "2020/8/6",
            "2020.8.6",
            "2020年8月6日",
            "2020年8月6号",
            "20200806",
            " 2020 年 8 月 6 日 ",
            "２０２０－０８－０６",
            "2020-08-06 14:30:00",
            "2020-08-06T14:30",
            "2020/8/6 9:05",
            "2020年8月6日 下午3点",
            "2020年8月6日下午",
            "44049",
        ] {
            assert_eq!(parse_date(s), want, "{s}");
        }
        for s in
            ["2021-02-30", "2020-13-01", "2020年8月", "20-8-6", "2020-08-061", "2020-08-06x", "abc", "", "3", "2020"]
        {
            assert_eq!(parse_date(s), None, "{s}");
        }
        assert_eq!(parse_date("2020-02-29"), Some(date!(2020 - 02 - 29)));
    }

    #[test]
    fn numbers_without_noise() {
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(2.50), "2.5");
        assert_eq!(format_number(0.1 + 0.2), "0.3");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(1234567.0), "1234567");
        assert_eq!(format_number(0.000123), "0.000123");
        assert_eq!(format_number(99.99), "99.99");
    }
}
