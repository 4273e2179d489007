//! Accessibility and page weight, checked on what the server sends.
//!
//! Every role logs in on a small town with hazards in each state (reported,
//! assigned with an extension asked for, submitted, closed, a major one listed
//! for supervision with a photo) and two measures; every GET page of the
//! route table (those outside `/api/`) is fetched in Chinese and in English
//! with its ids filled in, and its HTML is read by a small tag scanner:
//!
//! - every visible form control has an accessible name (`<label for>`, an
//!   enclosing `<label>`, `aria-label`, or `aria-labelledby` to ids that
//!   exist);
//! - ids are unique, and `label for`, `aria-labelledby` and
//!   `aria-describedby` point to ids on the page;
//! - `<html lang>` is the language asked for; one `<h1>`; headings do not skip
//!   a level downwards (outside inline SVG);
//! - every `<img>` has `alt`; every link and button has a name (its text,
//!   an image's `alt`, an SVG `<title>`, or `aria-label`);
//! - every `<svg role="img">` is named by its `<title>`;
//! - a `<main>` landmark, a skip link to it as the first link, and, on pages
//!   with the site header, a `<nav>` with an `aria-label`;
//! - the page with the style sheet and the script weighs under 200 KB.
//!
//! Each page's size and render time are printed (`--nocapture`); times are
//! never asserted. `A11Y_DUMP=1` also writes every page to the temporary
//! directory (`a11y-ROLE-LANG_PATH.html`) for a look. The style sheet is checked too: WCAG AA contrast for the
//! colour pairs it uses for text, and a visible `:focus-visible` style for
//! every interactive element, on the red header as on the page.

use crate::harness::{scenario, Cred, Resp, Session, TestApp};
use crate::world::PASSWORD;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use bihuan_domain::role::Role;
use bihuan_reports::svg::contrast_ratio;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

// ------------------------------------------------------------ the scanner

/// One element (or a text run, named `#text`) of a page.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    parent: Option<usize>,
    children: Vec<usize>,
}

/// A page as a tree of elements, read leniently: an end tag closes the
/// nearest open element of its name and those opened inside it, and an end
/// tag nothing matches is ignored. Enough for HTML this application writes.
struct Doc {
    nodes: Vec<Node>,
}

const VOID: [&str; 14] = ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"];

fn decode(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';').filter(|&e| e <= 10);
        let Some(end) = end else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let ch = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16).ok().and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The attributes of a start tag, from just after its name to before `>`.
fn parse_attrs(s: &str) -> Vec<(String, String)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'/' {
            i += 1;
        }
        if start == i {
            break;
        }
        let name = s[start..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let vs = i + 1;
                i = vs;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                value = decode(&s[vs..i]);
                i += 1;
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                value = decode(&s[vs..i]);
            }
        }
        out.push((name, value));
    }
    out
}

impl Doc {
    fn parse(html: &str) -> Doc {
        let mut nodes = vec![Node { name: "#document".into(), ..Default::default() }];
        let mut stack = vec![0usize];
        let mut rest = html;
        let add = |nodes: &mut Vec<Node>, stack: &[usize], node: Node| -> usize {
            let id = nodes.len();
            let parent = *stack.last().unwrap();
            nodes.push(Node { parent: Some(parent), ..node });
            nodes[parent].children.push(id);
            id
        };
        while !rest.is_empty() {
            let Some(lt) = rest.find('<') else {
                add(&mut nodes, &stack, Node { name: "#text".into(), text: decode(rest), ..Default::default() });
                break;
            };
            if lt > 0 {
                add(&mut nodes, &stack, Node { name: "#text".into(), text: decode(&rest[..lt]), ..Default::default() });
            }
            rest = &rest[lt..];
            if let Some(r) = rest.strip_prefix("<!--") {
                rest = r.find("-->").map(|e| &r[e + 3..]).unwrap_or("");
                continue;
            }
            if rest.starts_with("<!") || rest.starts_with("<?") {
                rest = rest.find('>').map(|e| &rest[e + 1..]).unwrap_or("");
                continue;
            }
            let Some(gt) = rest.find('>') else { break };
            let tag = &rest[1..gt];
            rest = &rest[gt + 1..];
            if let Some(end) = tag.strip_prefix('/') {
                let name = end.trim().to_ascii_lowercase();
                if let Some(pos) = stack.iter().rposition(|&n| nodes[n].name == name)
                    && pos > 0
                {
                    stack.truncate(pos);
                }
                continue;
            }
            let name_end = tag.find(|c: char| c.is_ascii_whitespace() || c == '/').unwrap_or(tag.len());
            let name = tag[..name_end].to_ascii_lowercase();
            let self_closing = tag.ends_with('/');
            let attrs = parse_attrs(&tag[name_end..]);
            let id = add(&mut nodes, &stack, Node { name: name.clone(), attrs, ..Default::default() });
            if ["script", "style", "textarea"].contains(&name.as_str()) {
                // Raw text up to the end tag.
                let close = format!("</{name}");
                let end = rest.to_ascii_lowercase().find(&close).unwrap_or(rest.len());
                let text = decode(&rest[..end]);
                stack.push(id);
                add(&mut nodes, &stack, Node { name: "#text".into(), text, ..Default::default() });
                stack.pop();
                rest = &rest[end..];
                rest = rest.find('>').map(|e| &rest[e + 1..]).unwrap_or("");
                continue;
            }
            if !self_closing && !VOID.contains(&name.as_str()) {
                stack.push(id);
            }
        }
        Doc { nodes }
    }

    fn attr(&self, n: usize, name: &str) -> Option<&str> {
        self.nodes[n].attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Elements in document order.
    fn elements(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.nodes.len()).filter(|&n| !self.nodes[n].name.starts_with('#'))
    }

    fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.elements().filter(move |&n| self.nodes[n].name == name)
    }

    fn ancestors(&self, n: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(self.nodes[n].parent, |&p| self.nodes[p].parent)
    }

    fn inside(&self, n: usize, name: &str) -> bool {
        self.ancestors(n).any(|a| self.nodes[a].name == name)
    }

    /// The text of an element and everything in it.
    fn text(&self, n: usize) -> String {
        let mut out = String::new();
        self.collect_text(n, &mut out);
        out
    }

    fn collect_text(&self, n: usize, out: &mut String) {
        let node = &self.nodes[n];
        if node.name == "#text" {
            out.push_str(&node.text);
        }
        // An image in a link names the link by its alt text.
        if node.name == "img" {
            out.push_str(self.attr(n, "alt").unwrap_or(""));
        }
        for &c in &node.children {
            self.collect_text(c, out);
        }
    }

    /// A short description of an element for messages: `<input id="x" name="y">`.
    fn describe(&self, n: usize) -> String {
        let node = &self.nodes[n];
        let attrs: Vec<String> = node
            .attrs
            .iter()
            .filter(|(k, _)| ["id", "name", "type", "href", "class", "for", "aria-labelledby", "aria-describedby"].contains(&k.as_str()))
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect();
        let text: String = self.text(n).split_whitespace().collect::<Vec<_>>().join(" ").chars().take(40).collect();
        format!("<{} {}>{}", node.name, attrs.join(" "), text)
    }
}

// ------------------------------------------------------------- the checks

/// What the checks looked at, to show that they looked at something.
#[derive(Debug, Default)]
struct Seen {
    controls: usize,
    images: usize,
    charts: usize,
    links: usize,
}

/// The accessibility problems of one page.
fn page_problems(html: &str, lang: &str, with_header: bool) -> Vec<String> {
    page_problems_counted(html, lang, with_header, &mut Seen::default())
}

fn page_problems_counted(html: &str, lang: &str, with_header: bool, seen: &mut Seen) -> Vec<String> {
    let d = Doc::parse(html);
    let mut p = Vec::new();

    // Ids: unique, and every reference to one finds it.
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for n in d.elements() {
        if let Some(id) = d.attr(n, "id") {
            if id.is_empty() || id.contains(char::is_whitespace) {
                p.push(format!("an id that is empty or has spaces: {}", d.describe(n)));
            }
            if let Some(first) = ids.insert(id, n) {
                p.push(format!("id \"{id}\" twice: {} and {}", d.describe(first), d.describe(n)));
            }
        }
    }
    for n in d.elements() {
        for attr in ["aria-labelledby", "aria-describedby", "aria-controls"] {
            if let Some(refs) = d.attr(n, attr) {
                if refs.split_whitespace().next().is_none() {
                    p.push(format!("an empty {attr}: {}", d.describe(n)));
                }
                for r in refs.split_whitespace().filter(|r| !ids.contains_key(r)) {
                    p.push(format!("{attr} names \"{r}\", which is not on the page: {}", d.describe(n)));
                }
            }
        }
        if d.nodes[n].name == "label"
            && let Some(f) = d.attr(n, "for")
            && !ids.contains_key(f)
        {
            p.push(format!("<label for=\"{f}\"> and no element with that id: {}", d.describe(n)));
        }
    }

    // Form controls have a name.
    let label_for: HashSet<&str> = d.named("label").filter_map(|n| d.attr(n, "for")).collect();
    for n in d.elements() {
        let name = d.nodes[n].name.as_str();
        let kind = d.attr(n, "type").unwrap_or("text").to_ascii_lowercase();
        let control = matches!(name, "select" | "textarea") || (name == "input" && !["hidden", "submit", "button", "reset", "image"].contains(&kind.as_str()));
        if !control {
            continue;
        }
        seen.controls += 1;
        let labelled = d.attr(n, "id").is_some_and(|id| label_for.contains(id))
            || d.inside(n, "label")
            || d.attr(n, "aria-label").is_some_and(|l| !l.trim().is_empty())
            || d.attr(n, "aria-labelledby").is_some_and(|l| l.split_whitespace().next().is_some() && l.split_whitespace().all(|r| ids.contains_key(r)));
        if !labelled {
            p.push(format!("a form control without a name: {}", d.describe(n)));
        }
    }

    // The language, one h1, no skipped heading levels.
    let html_el = d.named("html").next();
    let got = html_el.and_then(|h| d.attr(h, "lang")).unwrap_or("");
    if got != lang {
        p.push(format!("<html lang=\"{got}\">, asked for {lang}"));
    }
    let h1s = d.named("h1").count();
    if h1s != 1 {
        p.push(format!("{h1s} <h1> elements"));
    }
    let mut previous = 0;
    for n in d.elements() {
        let name = &d.nodes[n].name;
        let level = match name.as_bytes() {
            [b'h', l @ b'1'..=b'6'] => l - b'0',
            _ => continue,
        };
        if d.inside(n, "svg") {
            continue;
        }
        if level > previous + 1 {
            p.push(format!("<{name}> after <h{previous}>: {}", d.describe(n)));
        }
        previous = level;
    }

    // Images, links and buttons have a name.
    for n in d.named("img") {
        seen.images += 1;
        if d.attr(n, "alt").is_none() {
            p.push(format!("an image without alt: {}", d.describe(n)));
        }
    }
    for n in d.elements().filter(|&n| matches!(d.nodes[n].name.as_str(), "a" | "button")) {
        // A chart's mark for the pointer only, beside a link in words to the same list.
        if d.attr(n, "aria-hidden") == Some("true") && d.attr(n, "tabindex") == Some("-1") {
            continue;
        }
        seen.links += 1;
        let named = !d.text(n).trim().is_empty()
            || d.attr(n, "aria-label").is_some_and(|l| !l.trim().is_empty())
            || d.attr(n, "aria-labelledby").is_some_and(|l| l.split_whitespace().any(|r| ids.get(r).is_some_and(|&e| !d.text(e).trim().is_empty())));
        if !named {
            p.push(format!("a {} without a name: {}", d.nodes[n].name, d.describe(n)));
        }
    }

    // Nothing hidden from screen readers takes keyboard focus.
    for n in d.elements() {
        let hidden = std::iter::once(n).chain(d.ancestors(n)).any(|a| d.attr(a, "aria-hidden") == Some("true"));
        let name = d.nodes[n].name.as_str();
        let focusable = match d.attr(n, "tabindex") {
            Some(t) => t.trim() != "-1",
            None => (name == "a" && d.attr(n, "href").is_some()) || matches!(name, "button" | "select" | "textarea") || (name == "input" && d.attr(n, "type") != Some("hidden")),
        };
        if hidden && focusable {
            p.push(format!("takes keyboard focus but is hidden from screen readers: {}", d.describe(n)));
        }
    }

    // Table headers say what their column holds.
    for n in d.named("th") {
        if d.text(n).trim().is_empty() && d.attr(n, "aria-label").is_none_or(|l| l.trim().is_empty()) {
            p.push(format!("an empty table header: {}", d.describe(n)));
        }
    }

    // Charts are named by their title.
    for n in d.named("svg").filter(|&n| d.attr(n, "role") == Some("img")) {
        seen.charts += 1;
        let titled = d.attr(n, "aria-labelledby").is_some_and(|refs| {
            refs.split_whitespace().any(|r| ids.get(r).is_some_and(|&e| d.nodes[e].name == "title" && !d.text(e).trim().is_empty()))
        });
        if !titled {
            p.push(format!("an <svg role=\"img\"> not named by a <title>: {}", d.describe(n)));
        }
    }

    // Landmarks: main, a skip link to it first, the navigation named.
    let mains: Vec<usize> = d.named("main").collect();
    match mains.as_slice() {
        [m] => {
            let target = d.attr(*m, "id").map(|id| format!("#{id}"));
            let first_link = d.named("a").next();
            let skip = first_link.filter(|&a| target.is_some() && d.attr(a, "href") == target.as_deref());
            if skip.is_none() {
                p.push(format!("the first link is not a skip link to <main>: {}", first_link.map(|a| d.describe(a)).unwrap_or_default()));
            }
        }
        _ => p.push(format!("{} <main> elements", mains.len())),
    }
    if with_header {
        let navs: Vec<usize> = d.named("nav").collect();
        if navs.is_empty() {
            p.push("no <nav>".into());
        }
        for n in navs {
            if d.attr(n, "aria-label").is_none_or(|l| l.trim().is_empty()) && d.attr(n, "aria-labelledby").is_none() {
                p.push(format!("a <nav> without a name: {}", d.describe(n)));
            }
        }
    }
    p
}

#[test]
fn the_page_checks_catch_what_they_are_for() {
    let page = |body: &str| {
        format!(
            r##"<!doctype html><html lang="zh-CN"><head><title>t</title></head><body><a class="skip" href="#main">跳到正文</a><header><nav aria-label="主导航"><a href="/">首页</a></nav></header><main id="main"><h1>标题</h1>{body}</main></body></html>"##
        )
    };
    let good = page(
        r#"<h2>表单</h2><form><input type="hidden" name="csrf" value="x"><label for="q">搜索</label><input id="q" name="q">
        <label class="check"><input type="checkbox" name="c"> 只看逾期</label><select aria-label="天数类型"><option>1</option></select>
        <p id="l">等级</p><div role="radiogroup" aria-labelledby="l"><textarea aria-labelledby="l"></textarea></div>
        <a href="/x"><img src="/p.png" alt="照片"></a><button>提交</button>
        <svg role="img" aria-labelledby="c-title c-desc"><title id="c-title">图</title><desc id="c-desc">说明</desc><a href="/h"><text>3</text></a><a href="/h" tabindex="-1" aria-hidden="true"><rect/></a><h4>in svg</h4></svg>
        <h3>小节</h3><h2>又一节</h2>"#,
    );
    assert_eq!(page_problems(&good, "zh-CN", true), Vec::<String>::new());
    for (bad, what) in [
        (r#"<input id="q" name="q">"#, "a form control without a name"),
        (r#"<label for="nothing">x</label>"#, "no element with that id"),
        (r#"<select id="s"></select>"#, "a form control without a name"),
        (r#"<p id="main">x</p>"#, "id \"main\" twice"),
        (r#"<input aria-describedby="hint" aria-label="x">"#, "aria-describedby names \"hint\""),
        ("<h3>跳级</h3>", "<h3> after <h1>"),
        ("<h1>又一个</h1>", "2 <h1> elements"),
        (r#"<img src="/p.png">"#, "an image without alt"),
        (r#"<a href="/x"> </a>"#, "a a without a name"),
        ("<button></button>", "a button without a name"),
        ("<table><tr><th>名称</th><th></th></tr></table>", "an empty table header"),
        (r#"<svg role="img"><title>x</title></svg>"#, "not named by a <title>"),
        (r#"<svg role="img" aria-labelledby="c-title"><title id="c-title">x</title><a href="/h"><rect/></a></svg>"#, "a a without a name"),
        (r#"<div aria-hidden="true"><a href="/h">x</a></div>"#, "hidden from screen readers"),
    ] {
        let problems = page_problems(&page(bad), "zh-CN", true);
        assert!(problems.iter().any(|p| p.contains(what)), "{bad}: expected “{what}”, got {problems:?}");
    }
    assert!(page_problems(&page(""), "en-US", true).iter().any(|p| p.contains("asked for en-US")));
    let no_skip = page("").replace(r##"<a class="skip" href="#main">跳到正文</a>"##, "");
    assert!(page_problems(&no_skip, "zh-CN", true).iter().any(|p| p.contains("skip link")));
    let unnamed_nav = page("").replace(r#"<nav aria-label="主导航">"#, "<nav>");
    assert!(page_problems(&unnamed_nav, "zh-CN", true).iter().any(|p| p.contains("<nav> without a name")));
    assert!(page_problems(&unnamed_nav, "zh-CN", false).is_empty(), "a page without the site header needs no <nav>");
    // Escaped text and attributes read as the browser reads them.
    let d = Doc::parse(r#"<p title="a &#34;b&#34; &amp; c">x &lt; y</p>"#);
    let p = d.named("p").next().unwrap();
    assert_eq!((d.attr(p, "title"), d.text(p).as_str()), (Some("a \"b\" & c"), "x < y"));
}

// ------------------------------------------------------------ the dataset

async fn post(app: &TestApp, s: &Session, path: &str, body: Value) -> Value {
    let r = app.api(Method::POST, path, Cred::Session(s), Some(body)).await;
    assert!(r.status.is_success(), "{path}: {}", r.text());
    r.json()
}

async fn hazard(app: &TestApp, s: &Session, unit: &str, name: &str, level: &str, manage: &str) -> String {
    let body = json!({"unit_id": unit, "name": name, "description": "检查发现", "location": "一号车间", "level": level, "manage_type": manage});
    post(app, s, "/api/v1/hazards", body).await["id"].as_str().unwrap().to_string()
}

async fn act(app: &TestApp, s: &Session, id: &str, body: Value) {
    post(app, s, &format!("/api/v1/hazards/{id}/actions"), body).await;
}

async fn plan(app: &TestApp, s: &Session, id: &str) {
    let body = json!({"measures": "清理通道", "responsible_person": "张三", "funds": "0.6", "contingency": "专人值守"});
    let r = app.api(Method::PUT, &format!("/api/v1/hazards/{id}/plan"), Cred::Session(s), Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

/// The ids the pages are fetched with.
struct Data {
    hazards: Vec<String>,
    /// People whose user page each role opens (its own and others').
    users: Vec<String>,
    major: String,
    measures: Vec<String>,
    units: Vec<String>,
    indicator: String,
    warnings: Vec<String>,
    /// An issued circular (sent to the enterprise) and a draft.
    circulars: Vec<String>,
}

/// Hazards in every state a page shows differently, two measures, a value
/// reported for an indicator.
async fn dataset(app: &TestApp, w: &crate::world::World) -> Data {
    let office = &w.person(Role::Office).session;
    let boss = &w.person(Role::Enterprise).session;
    let inspector = &w.person(Role::Inspector).session;
    let firm = w.person(Role::Enterprise).unit.to_string();
    let grid_firm = w.person(Role::Inspector).rel_units[1].to_string();

    let reported = hazard(app, boss, &firm, "一号仓库灭火器过期", "general", "deadline").await;
    let assigned = hazard(app, boss, &firm, "配电箱未上锁", "general", "deadline").await;
    act(app, office, &assigned, json!({"action": "assign", "responsible_person": "张三", "deadline": "2021-05-20"})).await;
    plan(app, boss, &assigned).await;
    act(app, boss, &assigned, json!({"action": "request_extension", "requested_deadline": "2021-05-31", "reason": "等待采购"})).await;
    let submitted = hazard(app, boss, &firm, "叉车司机无证上岗", "general", "deadline").await;
    act(app, office, &submitted, json!({"action": "assign", "responsible_person": "李四", "deadline": "2021-05-20"})).await;
    plan(app, boss, &submitted).await;
    act(app, boss, &submitted, json!({"action": "submit", "rectification": "已安排持证司机"})).await;
    let closed = hazard(app, office, &firm, "消防通道堵塞", "general", "immediate").await;
    act(app, office, &closed, json!({"action": "fix_on_spot", "rectification": "当场清理"})).await;
    act(app, office, &closed, json!({"action": "accept", "comment": "合格"})).await;
    let major = hazard(app, boss, &firm, "液氨储罐无泄漏报警", "major", "deadline").await;
    act(app, office, &major, json!({"action": "assign", "responsible_person": "王五", "deadline": "2021-05-06"})).await;
    act(app, office, &major, json!({"action": "list", "document_number": "南安办督〔2021〕1号", "required_by": "2021-06-30", "signatory": "赵六"})).await;
    let photo = crate::matrix_png();
    let r = app.multipart(&format!("/api/v1/hazards/{major}/attachments"), Cred::Session(boss), &[("comment", "现场照片")], &[("before", "现场.png", &photo)]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let in_grid = hazard(app, inspector, &grid_firm, "安全出口上锁", "general", "deadline").await;
    // Each role that reports hazards reports one in the unit below its own,
    // so that it sees a hazard page of its own.
    let mut own = Vec::new();
    for p in &w.people {
        let body = json!({"unit_id": p.rel_units[1].to_string(), "name": format!("{}发现的隐患", p.username), "description": "检查发现", "level": "general"});
        let r = app.api(Method::POST, "/api/v1/hazards", Cred::Session(&p.session), Some(body)).await;
        println!("a11y: {} reports a hazard in its child unit: {}", p.username, r.status);
        if r.status.is_success() {
            own.push(r.json()["id"].as_str().unwrap().to_string());
        }
    }

    let econ = crate::world::all_units(app).await.into_iter().find(|u| u.name == "镇经发办").unwrap().id.to_string();
    let measure = |title: &'static str| {
        let body = json!({"unit_id": econ, "kind": "system", "title": title, "content": "修订制度，报镇安委办备案", "responsible_person": "钱七", "deadline": "2021-05-03"});
        async move { post(app, office, "/api/v1/measures", body).await["id"].as_str().unwrap().to_string() }
    };
    let in_progress = measure("修订危化品使用单位安全管理制度").await;
    post(app, office, &format!("/api/v1/measures/{in_progress}/actions"), json!({"action": "progress", "note": "已完成初稿", "evidence": "初稿"})).await;
    let done = measure("建立隐患排查月报制度").await;
    post(app, office, &format!("/api/v1/measures/{done}/actions"), json!({"action": "complete", "evidence": "已印发"})).await;

    let value = json!({"value": "80", "measured_on": "2021-04-30", "evidence": "检查人员台账"});
    let admin = &w.person(Role::Admin).session;
    post(app, admin, &format!("/api/v1/indicators/{}/values", w.nanxiang_indicator), value).await;

    // Warnings as the engine writes them (with their notifications), and one addressed to the enterprise.
    app.svc.evaluate_warnings(&bihuan_service::Ctx::system("t"), None, &Default::default()).await.unwrap();
    let mut warnings = vec![crate::world::warning_at(app, w.person(Role::Enterprise).unit).await.to_string()];
    let all = app.svc.list_warnings(&bihuan_service::Ctx::system("t"), &Default::default(), None, 3, false).await.unwrap();
    warnings.extend(all.iter().map(|w| w.id.to_string()));

    // A circular of the first warnings, issued (so the enterprise reads it), and a draft of the rest.
    let issued = post(app, office, "/api/v1/circulars", json!({"kind": "warnings", "warning_ids": &warnings[..2]})).await["id"].as_str().unwrap().to_string();
    post(app, office, &format!("/api/v1/circulars/{issued}/issue"), json!({})).await;
    let draft = post(app, office, "/api/v1/circulars", json!({"kind": "warnings", "warning_ids": &warnings[1..]})).await["id"].as_str().unwrap().to_string();

    Data {
        circulars: vec![issued, draft],
        warnings,
        users: w.people.iter().map(|p| p.user_id.to_string()).collect(),
        hazards: [reported, assigned, submitted, closed, major.clone(), in_grid].into_iter().chain(own).collect(),
        major,
        measures: vec![in_progress, done],
        units: vec![firm, w.gov.to_string()],
        indicator: w.nanxiang_indicator.clone(),
    }
}

// -------------------------------------------------------------- the pages

/// Size limit of a page with its style sheet and script.
const PAGE_BUDGET: usize = 200 * 1024;

/// A GET in a language, timed.
async fn fetch(app: &TestApp, path: &str, s: Option<&Session>, lang: &str) -> (Resp, Duration) {
    let mut b = Request::builder().uri(path).header("accept-language", lang);
    if let Some(s) = s {
        b = b.header("cookie", &s.cookie);
    }
    let started = Instant::now();
    let r = app.send(b.body(Body::empty()).unwrap()).await;
    let took = r
        .headers
        .get("x-response-time")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim_end_matches("ms").trim().parse::<f64>().ok())
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        .unwrap_or_else(|| started.elapsed());
    (r, took)
}

/// The paths of the GET pages of the route table, with their ids filled in.
fn page_paths(d: &Data) -> Vec<String> {
    let mut out = Vec::new();
    for spec in bihuan_web::route_table() {
        if spec.method != Method::GET || spec.path.starts_with("/api/") || spec.path.starts_with("/static/") || spec.path == "/healthz" {
            continue;
        }
        let ids: Vec<&String> = match spec.path {
            p if !p.contains('{') => {
                out.push(p.to_string());
                continue;
            }
            "/hazards/{id}" => d.hazards.iter().collect(),
            // The same page, reached again after a form.
            "/hazards/{id}/plan" | "/hazards/{id}/act" => vec![&d.major],
            "/measures/{id}" => d.measures.iter().collect(),
            "/units/{id}" => d.units.iter().collect(),
            "/indicators/{id}" => vec![&d.indicator],
            "/users/{id}" => d.users.iter().collect(),
            "/warnings/{id}" => d.warnings.iter().collect(),
            "/circulars/{id}" => d.circulars.iter().collect(),
            // Not a page: the Word file.
            "/circulars/{id}/docx" => continue,
            // Not a page: marks the notification read and redirects to what it is about.
            "/inbox/{id}" => continue,
            other => panic!("a page route the accessibility check does not know how to fill: {other}"),
        };
        for id in ids {
            out.push(spec.path.replace("{id}", id));
        }
    }
    out
}

async fn pages_are_accessible(app: TestApp) {
    let w = crate::world::build(&app).await;
    let data = dataset(&app, &w).await;
    // A week on, the major hazard is overdue; sessions idle that long have ended.
    app.clock.advance(time::Duration::days(7));
    let mut people: Vec<(String, Option<Session>)> = vec![("anonymous".into(), None)];
    for p in &w.people {
        people.push((p.role.as_str().to_string(), Some(app.login(&p.username, PASSWORD).await)));
    }

    let assets: usize = {
        let css = app.page("/static/app.css", None).await;
        let js = app.page("/static/app.js", None).await;
        assert_eq!((css.status, js.status), (StatusCode::OK, StatusCode::OK));
        css.body.len() + js.body.len()
    };
    println!("a11y: /static/app.css + /static/app.js = {assets} bytes");
    let paths = page_paths(&data);
    let public: HashSet<&str> = bihuan_web::route_table().iter().filter(|r| r.access == bihuan_web::Access::Public).map(|r| r.path).collect();

    let mut problems: Vec<String> = Vec::new();
    let mut largest = (0usize, String::new());
    let mut slowest = (Duration::ZERO, String::new());
    let mut checked = 0;
    let mut seen = Seen::default();
    println!("a11y: {:<10} {:<5} {:>6} {:>8} {:>8} {:>8}  path", "who", "lang", "status", "html", "total", "ms");
    for (who, session) in &people {
        for path in &paths {
            // Anonymous: the public pages only (the others send to the login page).
            if session.is_none() != public.contains(path.as_str()) {
                continue;
            }
            for lang in ["zh-CN", "en-US"] {
                let (r, took) = fetch(&app, path, session.as_ref(), lang).await;
                let size = r.body.len();
                let total = size + assets;
                println!("a11y: {who:<10} {lang:<5} {:>6} {size:>8} {total:>8} {:>8.1}  {path}", r.status.as_u16(), took.as_secs_f64() * 1000.0);
                let place = format!("{who} {lang} {path} ({})", r.status.as_u16());
                assert!(
                    [StatusCode::OK, StatusCode::FORBIDDEN, StatusCode::NOT_FOUND].contains(&r.status),
                    "{place}: a page answers, or says it is not for this user: {}",
                    r.text()
                );
                let html_type = r.headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
                assert!(html_type, "{place}: not an HTML page");
                if total >= PAGE_BUDGET {
                    problems.push(format!("{place}: {total} bytes with the style sheet and script, over {PAGE_BUDGET}"));
                }
                if size > largest.0 {
                    largest = (size, place.clone());
                }
                if took > slowest.0 {
                    slowest = (took, place.clone());
                }
                for problem in page_problems_counted(&r.text(), lang, session.is_some(), &mut seen) {
                    problems.push(format!("{place}: {problem}"));
                }
                checked += 1;
                if std::env::var_os("A11Y_DUMP").is_some() {
                    let file = std::env::temp_dir().join(format!("a11y-{who}-{lang}{}.html", path.replace('/', "_")));
                    std::fs::write(file, r.text()).unwrap();
                }
            }
        }
    }
    println!("a11y: {checked} pages; largest {} bytes + {assets} = {} bytes: {}", largest.0, largest.0 + assets, largest.1);
    println!("a11y: slowest render {:.1} ms: {}", slowest.0.as_secs_f64() * 1000.0, slowest.1);
    println!("a11y: looked at {seen:?}");
    // Each role sees its own pages: the workbench, and the hazards it may see;
    // forms, the photo, the charts.
    assert!(checked > 8 * 2 * 15, "only {checked} pages checked");
    assert!(seen.controls > 1000 && seen.images > 0 && seen.charts > 50 && seen.links > 1000, "{seen:?}");
    problems.sort();
    problems.dedup();
    assert!(problems.is_empty(), "{} accessibility problems:\n{}", problems.len(), problems.join("\n"));
}

scenario!(pages_are_accessible => sqlite_pages_are_accessible, postgres_pages_are_accessible);

// --------------------------------------------------------- the style sheet

/// A rule of the style sheet: its selectors and declarations, outside
/// `@media print` (whose colours are the printer's).
#[derive(Debug)]
struct Rule {
    selectors: Vec<String>,
    decls: Vec<(String, String)>,
}

fn stylesheet() -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/app.css")).unwrap()
}

fn rules(css: &str) -> Vec<Rule> {
    // Without comments.
    let mut text = String::new();
    let mut rest = css;
    while let Some(a) = rest.find("/*") {
        text.push_str(&rest[..a]);
        rest = rest[a..].find("*/").map(|b| &rest[a + b + 2..]).unwrap_or("");
    }
    text.push_str(rest);

    let mut out = Vec::new();
    let mut print_depth: Option<usize> = None;
    let mut depth = 0;
    let mut prelude = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '{' => {
                let head = prelude.trim().to_string();
                prelude.clear();
                if head.starts_with('@') {
                    depth += 1;
                    if head.starts_with("@media print") {
                        print_depth = Some(depth);
                    }
                    continue;
                }
                let body: String = chars.by_ref().take_while(|&c| c != '}').collect();
                if print_depth.is_some() {
                    continue;
                }
                let decls = body
                    .split(';')
                    .filter_map(|d| d.split_once(':'))
                    .map(|(k, v)| (k.trim().to_string(), v.trim().trim_end_matches("!important").trim().to_string()))
                    .collect();
                out.push(Rule { selectors: head.split(',').map(|s| s.split_whitespace().collect::<Vec<_>>().join(" ")).collect(), decls });
            }
            '}' => {
                if print_depth == Some(depth) {
                    print_depth = None;
                }
                depth -= 1;
                prelude.clear();
            }
            _ => prelude.push(c),
        }
    }
    out
}

struct Sheet {
    rules: Vec<Rule>,
    vars: HashMap<String, String>,
}

impl Sheet {
    fn load() -> Sheet {
        let rules = rules(&stylesheet());
        let vars = rules
            .iter()
            .filter(|r| r.selectors.iter().any(|s| s == ":root"))
            .flat_map(|r| r.decls.iter().filter(|(k, _)| k.starts_with("--")).cloned())
            .collect();
        Sheet { rules, vars }
    }

    /// The value of `prop` in the last rule for exactly `selector`.
    fn get(&self, selector: &str, prop: &str) -> Option<String> {
        self.rules
            .iter()
            .rev()
            .filter(|r| r.selectors.iter().any(|s| s == selector))
            .find_map(|r| r.decls.iter().rev().find(|(k, _)| k == prop).map(|(_, v)| v.clone()))
    }

    /// The colour of a value (`var(--x)`, `#abc`, `#aabbcc`, or the first of
    /// these in a shorthand), as `#rrggbb`.
    fn color(&self, value: &str) -> Option<String> {
        for token in value.split_whitespace() {
            if let Some(name) = token.strip_prefix("var(").and_then(|t| t.strip_suffix(')')) {
                return self.vars.get(name).and_then(|v| self.color(v));
            }
            if let Some(hex) = token.strip_prefix('#') {
                let hex = hex.trim_end_matches([';', ',']);
                return match hex.len() {
                    3 => Some(format!("#{}", hex.chars().flat_map(|c| [c, c]).collect::<String>().to_ascii_lowercase())),
                    6 => Some(format!("#{}", hex.to_ascii_lowercase())),
                    _ => None,
                };
            }
            if token == "white" {
                return Some("#ffffff".into());
            }
        }
        None
    }

    fn color_of(&self, selector: &str, prop: &str) -> String {
        let value = match prop {
            "background" => self.get(selector, "background").or_else(|| self.get(selector, "background-color")),
            _ => self.get(selector, prop),
        };
        let value = value.unwrap_or_else(|| panic!("app.css: no {prop} for {selector}"));
        self.color(&value).unwrap_or_else(|| panic!("app.css: {selector} {{ {prop}: {value} }} is no colour"))
    }

    fn var(&self, name: &str) -> String {
        self.color(&format!("var({name})")).unwrap_or_else(|| panic!("app.css: no colour {name}"))
    }
}

/// WCAG AA for normal text.
const AA_TEXT: f64 = 4.5;
/// WCAG AA for what is not text: a focus indicator against what is around it (1.4.11).
const AA_NON_TEXT: f64 = 3.0;

#[test]
fn text_colours_meet_wcag_aa() {
    let s = Sheet::load();
    let (ink, muted, bg, card, brand) = (s.var("--ink"), s.var("--muted"), s.var("--bg"), s.var("--card"), s.var("--brand"));
    assert_eq!(s.color_of("body", "color"), ink);
    assert_eq!(s.color_of("body", "background"), bg);
    assert_eq!(s.color_of(".card", "background"), card);
    let link = s.color_of("a", "color");
    // (what, text, background)
    let mut pairs: Vec<(String, String, String)> = vec![
        ("--ink on --bg".into(), ink.clone(), bg.clone()),
        ("--ink on --card".into(), ink.clone(), card.clone()),
        (".muted on --bg".into(), s.color_of(".muted", "color"), bg.clone()),
        (".muted on --card".into(), s.color_of(".muted", "color"), card.clone()),
        ("--muted on --bg".into(), muted.clone(), bg.clone()),
        ("--muted on --card".into(), muted.clone(), card.clone()),
        ("the header".into(), s.color_of(".top", "color"), s.color_of(".top", "background")),
        ("header links".into(), s.color_of(".top a", "color"), brand.clone()),
        ("header buttons".into(), s.color_of(".top .link", "color"), brand.clone()),
        ("buttons".into(), s.color_of("button", "color"), s.color_of("button", "background")),
        ("button links".into(), s.color_of("a.button", "color"), s.color_of("a.button", "background")),
        ("secondary buttons".into(), s.color_of("button.secondary", "color"), s.color_of("button.secondary", "background")),
        ("link buttons on --card".into(), s.color_of("button.link", "color"), card.clone()),
        ("links on --card".into(), link.clone(), card.clone()),
        ("links on --bg".into(), link.clone(), bg.clone()),
        ("links in table headers".into(), link.clone(), s.color_of("th", "background")),
        ("table headers".into(), ink.clone(), s.color_of("th", "background")),
        (".tag".into(), s.color_of(".tag", "color"), s.color_of(".tag", "background")),
        (".badge".into(), s.color_of(".badge", "color"), s.color_of(".badge", "background")),
        (".area-no".into(), s.color_of(".area-no", "color"), s.color_of(".area-no", "background")),
        (".flash".into(), s.color_of(".flash", "color"), s.color_of(".flash", "background")),
        (".flash.error".into(), s.color_of(".flash.error", "color"), s.color_of(".flash.error", "background")),
        (".error-summary".into(), s.color_of(".error-summary", "color"), s.color_of(".error-summary", "background")),
        (".error on --card".into(), s.color_of(".error", "color"), card.clone()),
        (".error on --bg".into(), s.color_of(".error", "color"), bg.clone()),
        ("strong.major on --card".into(), s.color_of("strong.major", "color"), card.clone()),
        ("a.bad on --card".into(), s.color_of("a.bad", "color"), card.clone()),
        (".figures div.bad dd".into(), s.color_of(".figures div.bad dd", "color"), s.color_of(".figures div", "background")),
        (".queue .count".into(), s.color_of(".queue .count", "color"), s.color_of(".queue .count", "background")),
        (".queue .count.zero".into(), s.color_of(".queue .count.zero", "color"), s.color_of(".queue .count.zero", "background")),
        (".queue.urgent .count".into(), s.color_of(".queue .count", "color"), s.color_of(".queue.urgent .count:not(.zero)", "background")),
        (".skip".into(), s.color_of(".skip", "color"), s.color_of(".skip", "background")),
        (".toast".into(), s.color_of(".toast", "color"), s.color_of(".toast", "background")),
        (".toast.error".into(), s.color_of(".toast", "color"), s.color_of(".toast.error", "background")),
        (".toast.ok".into(), s.color_of(".toast", "color"), s.color_of(".toast.ok", "background")),
        ("inputs".into(), s.color_of("input", "color"), s.color_of("input", "background")),
    ];
    for state in ["met", "open", "overdue"] {
        let sel = format!(".status.{state}");
        pairs.push((sel.clone(), s.color_of(&sel, "color"), s.color_of(&sel, "background")));
    }
    // Whatever else sets both a text colour and a background in one rule.
    for r in &s.rules {
        let get = |p: &str| r.decls.iter().rev().find(|(k, _)| k == p).and_then(|(_, v)| s.color(v));
        if let (Some(fg), Some(bgc)) = (get("color"), get("background").or_else(|| get("background-color"))) {
            pairs.push((r.selectors.join(", "), fg, bgc));
        }
    }
    let mut failing = Vec::new();
    for (what, fg, bgc) in &pairs {
        let ratio = contrast_ratio(fg, bgc).unwrap_or_else(|| panic!("{what}: {fg} on {bgc}"));
        println!("contrast: {ratio:>5.2}:1  {fg} on {bgc}  {what}");
        if ratio < AA_TEXT {
            failing.push(format!("{what}: {fg} on {bgc} is {ratio:.2}:1"));
        }
    }
    assert!(failing.is_empty(), "text below WCAG AA ({AA_TEXT}:1):\n{}", failing.join("\n"));
}

/// The colours of a focus indicator: its outline and, when there is one,
/// the ring a box shadow draws between the element and the outline.
fn focus_colours(s: &Sheet, decls: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in decls {
        match k.as_str() {
            "outline" | "outline-color" | "box-shadow" => out.extend(s.color(v)),
            _ => {}
        }
    }
    out
}

/// The declarations that apply to `element` (`a`, `.top a`, …) on keyboard focus.
fn focus_decls(s: &Sheet, element: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for r in &s.rules {
        if r.selectors.iter().any(|sel| [":focus-visible", ":focus"].iter().any(|pseudo| sel.strip_suffix(pseudo) == Some(element))) {
            out.extend(r.decls.iter().cloned());
        }
    }
    out
}

#[test]
fn every_interactive_element_shows_keyboard_focus() {
    let s = Sheet::load();
    let (bg, card, brand) = (s.var("--bg"), s.var("--card"), s.var("--brand"));
    let mut failing = Vec::new();
    // (element, its selectors from the general to the specific, what it sits on)
    type Place<'a> = (&'a str, Vec<&'a str>, Vec<(&'a str, &'a String)>);
    let places: Vec<Place<'_>> = vec![
        ("links", vec!["a"], vec![("--bg", &bg), ("--card", &card)]),
        ("buttons", vec!["button"], vec![("--bg", &bg), ("--card", &card)]),
        ("text fields", vec!["input"], vec![("--card", &card)]),
        ("lists", vec!["select"], vec![("--card", &card)]),
        ("text areas", vec!["textarea"], vec![("--card", &card)]),
        ("disclosures", vec!["summary"], vec![("--bg", &bg), ("--card", &card)]),
        ("header links", vec!["a", ".top a"], vec![("--brand", &brand)]),
        ("header buttons", vec!["button", ".top button", ".top .link"], vec![("--brand", &brand)]),
        ("the skip link over the header", vec!["a", ".skip"], vec![("--brand", &brand), ("--bg", &bg)]),
        ("chart links", vec!["a", ".bh-chart a"], vec![("--card", &card)]),
    ];
    for (what, selectors, around) in places {
        // Later, more specific rules win: take the last colours given.
        let mut decls = Vec::new();
        for sel in &selectors {
            decls.extend(focus_decls(&s, sel));
        }
        let outline = decls.iter().rev().find(|(k, _)| k == "outline").map(|(_, v)| v.clone()).unwrap_or_default();
        if decls.is_empty() || outline.is_empty() || outline.starts_with("none") || outline.starts_with('0') {
            failing.push(format!("{what}: no visible outline on :focus-visible ({selectors:?})"));
            continue;
        }
        let width: f64 = outline.split_whitespace().find_map(|t| t.strip_suffix("px").and_then(|n| n.parse().ok())).unwrap_or(0.0);
        if width < 2.0 {
            failing.push(format!("{what}: the focus outline is {width}px, thinner than 2px"));
        }
        // The last outline colour and the last ring colour given.
        let colours = focus_colours(&s, &decls);
        let outline_colour = decls.iter().rev().find(|(k, _)| k == "outline" || k == "outline-color").and_then(|(_, v)| s.color(v));
        // SVG draws no box shadow: a chart's link has its outline only.
        let ring = decls.iter().rev().find(|(k, _)| k == "box-shadow").and_then(|(_, v)| s.color(v)).filter(|_| what != "chart links");
        assert!(!colours.is_empty(), "{what}: the focus style names no colour");
        for (name, surface) in around {
            let best = [outline_colour.as_ref(), ring.as_ref()].into_iter().flatten().map(|c| (contrast_ratio(c, surface).unwrap(), c.clone())).fold((0.0, String::new()), |a, b| if b.0 > a.0 { b } else { a });
            println!("focus: {:>5.2}:1  {} on {name} {surface}  {what}", best.0, best.1);
            if best.0 < AA_NON_TEXT {
                failing.push(format!("{what}: the focus indicator ({outline_colour:?}, ring {ring:?}) is {:.2}:1 against {name} {surface}", best.0));
            }
        }
    }
    // Nothing takes the outline away without something in its place, except
    // on <main>, which is focused only as the skip link's target.
    for r in &s.rules {
        let removes = r.decls.iter().any(|(k, v)| (k == "outline" || k == "outline-style") && (v.starts_with("none") || v == "0"));
        let replaced = r.decls.iter().any(|(k, v)| (k == "box-shadow" || k.starts_with("border")) && v != "none" && v != "0");
        let allowed = r.selectors.iter().all(|sel| sel == "main:focus");
        if removes && !replaced && !allowed {
            failing.push(format!("{}: the outline is removed with nothing in its place", r.selectors.join(", ")));
        }
    }
    assert!(failing.is_empty(), "focus not visible enough:\n{}", failing.join("\n"));
}
