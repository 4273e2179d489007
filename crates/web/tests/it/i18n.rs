//! Every text a page shows exists in Chinese and in English, side by side.
//!
//! The templates and the web crate's code are read as text: Chinese is
//! allowed only inside a pair — `"中文"|t("English")` in a template, a string
//! literal followed by a second literal (`tr("中文", "English")`,
//! `DomainError::new(code, "中文", "English")`) or `trf(format!("中文…"),
//! format!("…"))` in Rust. Templates may not show a domain label in one
//! language (`label_zh()` alone).

use std::path::{Path, PathBuf};

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303f}' | '\u{3400}'..='\u{9fff}' | '\u{ff00}'..='\u{ffef}')
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    out.sort();
    out
}

/// Removes `"…"|t("…")` pairs (and `x|t(y)` with any expressions), and
/// `{# … #}` comments, from a template; what remains may not hold Chinese.
fn template_leftovers(text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = String::new();
        let mut s = line;
        // Drop comments.
        while let Some(a) = s.find("{#") {
            rest.push_str(&s[..a]);
            s = match s[a..].find("#}") {
                Some(b) => &s[a + b + 2..],
                None => "",
            };
        }
        rest.push_str(s);
        let cleaned = strip_t_pairs(&rest);
        if cleaned.chars().any(is_cjk) {
            problems.push(format!("line {}: {}", n + 1, line.trim()));
        }
        if line.contains("label_zh()") && !line.contains("label_zh()|t(") {
            problems.push(format!("line {}: a label in Chinese only: {}", n + 1, line.trim()));
        }
    }
    problems
}

/// Blanks every `"…"|t("…")` (the quoted text before `|t(` and the argument).
fn strip_t_pairs(line: &str) -> String {
    let mut out = line.to_string();
    while let Some(at) = out.find("|t(") {
        // The argument: up to the matching ')' outside quotes.
        let end = close_paren(&out, at + 3);
        // The value: a quoted literal just before `|t(`, or an expression
        // back to the last space or `{{`.
        let before = &out[..at];
        let start = match before.strip_suffix('"') {
            Some(inner) => inner.rfind('"').unwrap_or(0),
            None => before.rfind([' ', '{']).map(|i| i + 1).unwrap_or(0),
        };
        out.replace_range(start..end, "");
    }
    out
}

/// String literals with Chinese in Rust code that are not the first half of
/// a pair.
fn rust_leftovers(text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for (n, line) in lines.iter().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break; // unit tests at the end of a module are not pages
        }
        let code = line.trim_start();
        if code.starts_with("//") || code.starts_with("///") || code.starts_with("#[doc") {
            continue;
        }
        let code = match code.find(" // ") {
            Some(i) => &code[..i],
            None => code,
        };
        if code.contains("label_zh()") && !["label_en()", "tr(", "trf("].iter().any(|p| code.contains(p)) {
            problems.push(format!("line {}: a label in Chinese only: {}", n + 1, line.trim()));
        }
        for (start, end) in literals(code) {
            let lit = &code[start..end];
            if !lit.chars().any(is_cjk) {
                continue;
            }
            // What follows the literal, across the line break if the line ends there.
            let mut after = code[end..].to_string();
            if (after.trim().is_empty() || after.trim() == ",")
                && let Some(next) = lines.get(n + 1)
            {
                after.push_str(next.trim_start());
            }
            let after = after.trim_start();
            let paired = after.starts_with(',') && {
                let second = after[1..].trim_start();
                second.starts_with('"') || second.starts_with("format!(\"") || second.starts_with("r\"")
            } || [".into(),", ".to_string(),"].iter().any(|p| {
                after.strip_prefix(p).is_some_and(|rest| rest.trim_start().starts_with('"'))
            });
            // `format!("中文 {x}")` as the first argument of `trf`.
            let in_format_pair = code[..start].trim_end().ends_with("format!(") && {
                let close = close_paren(code, end);
                code[close..].trim_start().starts_with(", format!(") || code[close..].trim_start().starts_with(",")
            };
            if !(paired || in_format_pair) {
                problems.push(format!("line {}: {}", n + 1, line.trim()));
            }
        }
    }
    problems
}

/// Byte ranges of the string literals of a line (the text between quotes).
fn literals(code: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\'' && i + 2 < bytes.len() && bytes[i + 2] == b'\'' {
            i += 3; // a char literal such as '"'
            continue;
        }
        if bytes[i] == b'"' {
            let start = i + 1;
            let mut j = start;
            while j < bytes.len() && bytes[j] != b'"' {
                if bytes[j] == b'\\' {
                    j += 1;
                }
                j += 1;
            }
            out.push((start.saturating_sub(1), (j + 1).min(bytes.len())));
            i = j + 1;
        } else {
            i += 1;
        }
    }
    out
}

fn close_paren(code: &str, from: usize) -> usize {
    let mut depth = 1;
    let mut in_str = false;
    for (i, c) in code[from..].char_indices() {
        match c {
            '"' => in_str = !in_str,
            '(' if !in_str => depth += 1,
            ')' if !in_str => {
                depth -= 1;
                if depth == 0 {
                    return from + i + 1;
                }
            }
            _ => {}
        }
    }
    code.len()
}

/// What `check` finds in the files of `dir` with extension `ext`, each
/// line prefixed with its file name.
fn leftovers_in(dir: &str, ext: &str, skip: &[&str], check: fn(&str) -> Vec<String>) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut all = Vec::new();
    for f in files(&dir, ext).into_iter().filter(|f| !skip.iter().any(|s| f.ends_with(s))) {
        let text = std::fs::read_to_string(&f).unwrap();
        for p in check(&text) {
            all.push(format!("{}: {p}", f.file_name().unwrap().to_string_lossy()));
        }
    }
    all
}

#[test]
fn every_template_text_has_both_languages() {
    let all = leftovers_in("templates", "html", &[], template_leftovers);
    assert!(all.is_empty(), "Chinese without its English twin (write \"中文\"|t(\"English\")):\n{}", all.join("\n"));
}

#[test]
fn every_page_message_in_code_has_both_languages() {
    // The OpenAPI document is written in English for API users.
    let all = leftovers_in("src", "rs", &["openapi.rs"], rust_leftovers);
    assert!(all.is_empty(), "Chinese without its English twin (write tr(\"中文\", \"English\")):\n{}", all.join("\n"));
}

#[test]
fn the_checks_catch_one_language_text() {
    assert!(template_leftovers(r#"<h1>{{ "隐患"|t("Hazards") }}</h1>"#).is_empty());
    assert!(template_leftovers(r#"<td>{{ s.label_zh()|t(s.label_en()) }}</td>"#).is_empty());
    assert_eq!(template_leftovers("<h1>隐患清单</h1>").len(), 1);
    assert_eq!(template_leftovers(r#"<td>{{ s.label_zh() }}</td>"#).len(), 1);
    assert_eq!(template_leftovers(r#"{{ "隐患"|t("Hazards") }} 清单"#).len(), 1);
    assert!(rust_leftovers(r#"let a = tr("已保存。", "Saved.");"#).is_empty());
    assert!(rust_leftovers(r#"DomainError::not_found("指标", "Indicator")"#).is_empty());
    assert!(rust_leftovers(r#"trf(format!("共 {n} 条"), format!("{n} items"))"#).is_empty());
    assert_eq!(rust_leftovers(r#"let a = "已保存。";"#).len(), 1);
    assert_eq!(rust_leftovers(r#"flash("已保存。")"#).len(), 1);
    assert_eq!(rust_leftovers(r#"let v = ("已保存。".into(), x);"#).len(), 1);
    assert!(rust_leftovers(r#"let v = ("已保存。".into(), "Saved.".into());"#).is_empty());
    assert_eq!(rust_leftovers("let l = s.label_zh();").len(), 1);
    assert!(rust_leftovers("let l = tr(s.label_zh(), s.label_en());").is_empty());
}

use crate::harness::{scenario, Cred, TestApp};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};

/// Switching the language saves it for the user and sets this browser's
/// cookie; logging in elsewhere brings the choice back; without a choice,
/// `Accept-Language` decides.
async fn language_switch(app: TestApp) {
    let s = app.login("admin", crate::harness::ADMIN_PASSWORD).await;
    let page = |cookie: String, lang: Option<&'static str>| {
        let app = app.clone();
        async move {
            let mut b = Request::builder().uri("/units").header("cookie", cookie);
            if let Some(l) = lang {
                b = b.header("accept-language", l);
            }
            app.send(b.body(Body::empty()).unwrap()).await.text()
        }
    };
    assert!(page(s.cookie.clone(), None).await.contains("lang=\"zh-CN\""));
    assert!(page(s.cookie.clone(), Some("en-GB,en;q=0.9")).await.contains("<h1>Units</h1>"), "the browser's first language decides");

    let r = app.form("/language", Some(&s), &[("lang", "en-US"), ("next", "/units?kind=enterprise")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/units?kind=enterprise");
    let lang = r.cookie(bihuan_web::i18n::LANG_COOKIE).expect("language cookie");
    assert_eq!(lang, "bihuan_lang=en-US");
    assert_eq!(app.get("/api/v1/me", Cred::Session(&s)).await.json()["user"]["language"], "en-US");
    let en = page(format!("{}; {lang}", s.cookie), Some("zh-CN")).await;
    assert!(en.contains("lang=\"en-US\"") && en.contains("<h1>Units</h1>"), "the choice beats Accept-Language");

    // A login on another browser sets the saved language.
    let login = app.page("/login", None).await;
    let csrf = login.text().split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let login_cookie = login.cookie("bihuan_login_csrf").unwrap();
    let body = crate::harness::encode_form(&[
        ("csrf".into(), csrf),
        ("username".into(), "admin".into()),
        ("password".into(), crate::harness::ADMIN_PASSWORD.into()),
        ("next".into(), "/".into()),
    ]);
    let req = Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", login_cookie)
        .body(Body::from(body))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.cookie(bihuan_web::i18n::LANG_COOKIE).as_deref(), Some("bihuan_lang=en-US"));

    // Anonymous: only this browser, and only back to a local page.
    let r = app.form("/language", None, &[("lang", "zh-CN"), ("next", "//evil.example/")]).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, "/".to_string()));
    // Browsers drop a tab from a Location: "/\t/evil" would become "//evil".
    let r = app.form("/language", None, &[("lang", "zh-CN"), ("next", "/\t/evil.example/")]).await;
    assert_eq!(r.location(), "/");
    assert_eq!(r.cookie(bihuan_web::i18n::LANG_COOKIE).as_deref(), Some("bihuan_lang=zh-CN"));
    assert_eq!(app.get("/api/v1/me", Cred::Session(&s)).await.json()["user"]["language"], "en-US");
}

scenario!(language_switch => sqlite_language_switch, postgres_language_switch);
