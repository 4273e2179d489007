//! LibreOffice lays a docx out as an office would see it: `soffice --headless
//! --convert-to pdf`, read back with poppler's `pdftotext` and `pdfinfo`.
//!
//! The layout tests run whenever `soffice` and `pdftotext` are on PATH and
//! print that they were skipped otherwise (to stderr, past the test
//! harness's capture). With `BIHUAN_REQUIRE_SOFFICE` set, as `.ci/run` sets
//! it after installing them, a missing tool fails the test instead.
//!
//! Each conversion has its own directory and LibreOffice profile
//! (`-env:UserInstallation`), so tests running in parallel do not share a
//! profile lock, and nothing is written to the user's own profile.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A conversion that takes longer than this is killed and fails the test.
const CONVERT_TIMEOUT: Duration = Duration::from_secs(300);

/// Whether `program` is an executable file in a directory of PATH.
fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(program)).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// Whether the tools are there; prints the skip (or fails under
/// `BIHUAN_REQUIRE_SOFFICE`) when they are not.
pub fn available(test: &str) -> bool {
    let missing: Vec<&str> = ["soffice", "pdftotext", "pdfinfo"].into_iter().filter(|p| !on_path(p)).collect();
    if missing.is_empty() {
        return true;
    }
    let why =
        format!("{} not on PATH (install Debian's libreoffice-writer-nogui and poppler-utils)", missing.join(", "));
    assert!(std::env::var_os("BIHUAN_REQUIRE_SOFFICE").is_none(), "{test}: {why}, and BIHUAN_REQUIRE_SOFFICE is set");
    let _ = writeln!(std::io::stderr(), "{test}: skipped, {why}");
    false
}

/// A PDF made by LibreOffice in a directory of its own, removed on drop.
pub struct Pdf {
    dir: PathBuf,
    pub path: PathBuf,
}

impl Drop for Pdf {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Converts `docx` to PDF with LibreOffice, or returns `None` (having said
/// so) when the tools are missing. `test` names the directory and the
/// messages.
pub fn to_pdf(test: &str, docx: &[u8]) -> Option<Pdf> {
    if !available(test) {
        return None;
    }
    let dir = std::env::temp_dir().join(format!("bihuan-soffice-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join(format!("{test}.docx"));
    std::fs::write(&input, docx).unwrap();
    let profile = dir.join("profile");
    let started = Instant::now();
    let mut child = Command::new("soffice")
        .arg(format!("-env:UserInstallation=file://{}", profile.display()))
        .args(["--headless", "--norestore", "--convert-to", "pdf", "--outdir"])
        .arg(&dir)
        .arg(&input)
        // Whatever LibreOffice keeps outside its profile stays in the
        // directory too.
        .env("HOME", &dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > CONVERT_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{test}: soffice did not finish in {CONVERT_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = started.elapsed();
    let out = child.wait_with_output().unwrap();
    let path = dir.join(format!("{test}.pdf"));
    assert!(
        status.success() && path.is_file(),
        "{test}: soffice failed ({status}): {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = writeln!(std::io::stderr(), "{test}: soffice converted the docx to PDF in {:.1} s", took.as_secs_f64());
    Some(Pdf { dir, path })
}

impl Pdf {
    /// Number of pages, from `pdfinfo`.
    pub fn pages(&self) -> u32 {
        let out = Command::new("pdfinfo").arg(&self.path).output().unwrap();
        assert!(out.status.success(), "pdfinfo failed");
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .map(|n| n.trim().parse().unwrap())
            .unwrap()
    }

    /// The text of pages `first..=last` (all when `None`), laid out as on
    /// the page.
    pub fn text(&self, pages: Option<(u32, u32)>) -> String {
        text(&self.path, pages)
    }
}

fn text(pdf: &Path, pages: Option<(u32, u32)>) -> String {
    let mut cmd = Command::new("pdftotext");
    cmd.arg("-layout");
    if let Some((first, last)) = pages {
        cmd.args(["-f", &first.to_string(), "-l", &last.to_string()]);
    }
    let out = cmd.arg(pdf).arg("-").output().unwrap();
    assert!(out.status.success(), "pdftotext failed");
    String::from_utf8(out.stdout).unwrap()
}

/// The lines of a page's text without spaces, blank lines and page numbers.
pub fn body_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.chars().filter(|c| !c.is_whitespace()).collect::<String>())
        .filter(|l| !l.is_empty() && !l.starts_with('—'))
        .collect()
}
