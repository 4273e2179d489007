//! Operator commands over the data: the hazard ledger out and in, the
//! holiday calendar in, and the attachment store's orphans. Each is a thin
//! shell around a service function, so the command line checks and writes
//! exactly what the web application would.

use anyhow::{bail, Context, Result};
use bihuan_service::ledger::{ImportMode, ImportReport, LedgerFormat, RowStatus};
use bihuan_service::{Ctx, Service};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The filters of `bihuan hazards export`, as the list page and the API take them.
#[derive(clap::Args, Debug, Default)]
pub struct ExportFilters {
    /// Only hazards of units at or below this unit (its id, or its exact name).
    #[arg(long)]
    pub within: Option<String>,
    /// `general`, `major` (comma-separated for several).
    #[arg(long)]
    pub level: Option<String>,
    /// `reported`, `assigned`, `rectifying`, `submitted`, `closed`, `dismissed`, or `open`.
    #[arg(long)]
    pub state: Option<String>,
    /// `self_inspection`, `inspection`, `unannounced`, `public_report`, `assigned`, `transferred`.
    #[arg(long)]
    pub source: Option<String>,
    /// The rectification area (id).
    #[arg(long)]
    pub area_id: Option<String>,
    /// Only hazards past their deadline today.
    #[arg(long)]
    pub overdue: bool,
    /// Only hazards under listed supervision (挂牌督办) now.
    #[arg(long)]
    pub listed: bool,
    /// Found on or after (YYYY-MM-DD).
    #[arg(long)]
    pub found_from: Option<String>,
    /// Found on or before (YYYY-MM-DD).
    #[arg(long)]
    pub found_to: Option<String>,
    /// Substring of the code, name, description, location or unit name.
    #[arg(long)]
    pub q: Option<String>,
}

/// Rows were invalid: the report was printed; the process exits with 2.
#[derive(Debug)]
pub struct InvalidRows(pub usize);

impl std::fmt::Display for InvalidRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} 行有错误 / {} row(s) are invalid", self.0, self.0)
    }
}

impl std::error::Error for InvalidRows {}

/// Acts as the named user (their scope and name on what is written), or
/// as the system when none is named.
pub async fn acting(svc: &Service, username: Option<&str>) -> Result<Ctx> {
    let Some(name) = username else { return Ok(Ctx::system("cli")) };
    let user = svc.user_by_name(name).await?.with_context(|| format!("没有用户 {name} / no user {name}"))?;
    if !user.active {
        bail!("用户 {name} 已停用 / the user {name} is deactivated");
    }
    let mut tx = svc.db.read().await?;
    let actor = svc.actor_for(&mut tx, &user).await?;
    tx.commit().await?;
    Ok(Ctx::user(actor, None))
}

/// Counts the lines written through it and reports them on stderr every
/// `every` lines: progress for a CSV export, where a line is a hazard.
struct LineProgress<W: Write> {
    inner: W,
    lines: u64,
    every: u64,
    total: u64,
}

impl<W: Write> Write for LineProgress<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        for _ in buf.iter().take(n).filter(|b| **b == b'\n') {
            self.lines += 1;
            if self.lines.is_multiple_of(self.every) {
                eprintln!("  … {} / {}", self.lines.saturating_sub(1), self.total);
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// `bihuan hazards export`: the ledger of the filtered hazards, written to
/// a temporary file beside `out` and renamed into place when complete, so a
/// failed export never leaves half a ledger under the name asked for.
pub async fn export_hazards(svc: &Service, ctx: &Ctx, format: &str, out: &Path, f: &ExportFilters) -> Result<()> {
    let format = LedgerFormat::parse(format).with_context(|| format!("导出格式“{format}”应为 xlsx 或 csv / the format '{format}' must be xlsx or csv"))?;
    let within = match &f.within {
        Some(w) => Some(crate::resolve_unit(svc, w).await?.to_string()),
        None => None,
    };
    let q = bihuan_web::api_hazards::HazardQuery {
        within,
        level: f.level.clone(),
        state: f.state.clone(),
        source: f.source.clone(),
        area_id: f.area_id.clone(),
        overdue: f.overdue.then_some(true),
        listed: f.listed.then_some(true),
        found_from: f.found_from.clone(),
        found_to: f.found_to.clone(),
        q: f.q.clone(),
        ..Default::default()
    };
    let state = bihuan_web::AppState { svc: svc.clone(), config: Default::default() };
    let filter = q.filter(&state, ctx).await?;
    let total = svc.hazard_stats(ctx, &filter, None).await?.total.tally.total;
    let total = u64::try_from(total).unwrap_or(0);
    eprintln!("正在导出 {total} 条隐患 / exporting {total} hazards → {}", out.display());
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = dir.join(format!(".{}.tmp-{}", out.file_name().and_then(|n| n.to_str()).unwrap_or("ledger"), std::process::id()));
    let file = std::fs::File::create(&tmp).with_context(|| format!("无法创建 {} / cannot create {}", tmp.display(), tmp.display()))?;
    let writer = LineProgress { inner: std::io::BufWriter::new(file), lines: 0, every: 10_000, total };
    let result = svc.export_hazard_ledger(ctx, &filter, format, writer).await;
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.into());
        }
    };
    std::fs::rename(&tmp, out).with_context(|| format!("无法写入 {} / cannot write {}", out.display(), out.display()))?;
    println!(
        "已导出 {} 条隐患{} → {} / exported {} hazards{} to {}",
        summary.hazards,
        if summary.events > 0 { format!("、{} 条整改过程记录", summary.events) } else { String::new() },
        out.display(),
        summary.hazards,
        if summary.events > 0 { format!(" and {} timeline rows", summary.events) } else { String::new() },
        out.display()
    );
    Ok(())
}

fn status_words(s: RowStatus) -> &'static str {
    match s {
        RowStatus::Valid => "可导入 / valid",
        RowStatus::Created => "已导入 / created",
        RowStatus::AlreadyImported => "已存在，跳过 / already there",
        RowStatus::Invalid => "有错误 / invalid",
        RowStatus::Skipped => "空行，跳过 / empty, skipped",
    }
}

/// The import report, row by row, as text.
pub fn report_text(r: &ImportReport) -> String {
    let mut out = format!("{}（工作表 / sheet “{}”，表头在第 {} 行 / header on row {}）\n", r.file_name, r.sheet, r.header_row, r.header_row);
    if !r.unknown_headers.is_empty() {
        out.push_str(&format!("未使用的列 / columns not used: {}\n", r.unknown_headers.join("、")));
    }
    for row in &r.rows {
        let what: Vec<&str> = [row.code.as_deref(), row.name.as_deref(), row.unit.as_deref()].into_iter().flatten().collect();
        out.push_str(&format!("第 {} 行 / row {}\t{}\t{}\n", row.line, row.line, status_words(row.status), what.join("  ")));
        for (kind, problems) in [("错误 / error", &row.errors), ("提示 / note", &row.warnings)] {
            for p in problems {
                let column = if p.column.is_empty() { String::new() } else { format!("[{}] ", p.column) };
                out.push_str(&format!("    {kind}: {column}{} / {}\n", p.zh, p.en));
            }
        }
    }
    out.push_str(&format!("{}\n{}\n", r.message_zh, r.message_en));
    out
}

/// `bihuan hazards import`: checks (and with `apply`, writes) a ledger as
/// the user named; prints the row-by-row report. Invalid rows end in
/// [`InvalidRows`] (exit code 2), also in a dry run.
pub async fn import_hazards(svc: &Service, ctx: &Ctx, file: &Path, apply: Option<&str>) -> Result<()> {
    let mode = match apply {
        None => ImportMode::DryRun,
        Some("valid") => ImportMode::ApplyValid,
        Some("all-or-nothing") => ImportMode::AllOrNothing,
        Some(other) => bail!("--apply 应为 valid 或 all-or-nothing（得到 {other}）/ --apply must be valid or all-or-nothing (got {other})"),
    };
    let bytes = std::fs::read(file).with_context(|| format!("无法读取 {} / cannot read {}", file.display(), file.display()))?;
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("ledger").to_string();
    eprintln!(
        "正在{}台账 {}（{} KB）/ {} the ledger {} ({} KB)…",
        if mode == ImportMode::DryRun { "检查" } else { "导入" },
        file.display(),
        bytes.len() / 1024,
        if mode == ImportMode::DryRun { "checking" } else { "importing" },
        file.display(),
        bytes.len() / 1024
    );
    let report = svc.import_hazard_ledger(ctx, &bytes, &name, mode).await?;
    print!("{}", report_text(&report));
    if mode == ImportMode::DryRun {
        println!("（试导入，未写入任何数据；加 --apply valid 或 --apply all-or-nothing 导入 / dry run, nothing written; add --apply valid or --apply all-or-nothing to import）");
    }
    if report.invalid > 0 {
        return Err(InvalidRows(report.invalid).into());
    }
    Ok(())
}

/// `bihuan calendar import`: the notices of a holiday file (the format of
/// `calendars/cn-public-holidays.toml`), every one checked before any is
/// written; each replaces its year.
pub async fn import_calendar(svc: &Service, file: &Path, year: Option<i32>, check: bool) -> Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("无法读取 {} / cannot read {}", file.display(), file.display()))?;
    let notices = bihuan_domain::calendar::parse_notices(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let chosen: Vec<_> = notices.into_iter().filter(|n| year.is_none_or(|y| n.year == y)).collect();
    if chosen.is_empty() {
        match year {
            Some(y) => bail!("{} 中没有 {y} 年的安排 / {} has no notice for {y}", file.display(), file.display()),
            None => bail!("{} 中没有任何 [[notice]] / {} has no [[notice]]", file.display(), file.display()),
        }
    }
    let ctx = Ctx::system("cli");
    for n in &chosen {
        let status = match n.status {
            bihuan_domain::calendar::NoticeStatus::Official => "official",
            bihuan_domain::calendar::NoticeStatus::Provisional => "provisional",
        };
        if check {
            println!("{} 年：有效 / {}: valid ({status}, {} holidays, {} make-up days)", n.year, n.year, n.holidays.len(), n.workdays.len());
        } else {
            svc.put_calendar_notice(&ctx, n).await?;
            println!(
                "已替换 {} 年的节假日安排 / replaced the holiday notice of {} ({status}, {} holidays, {} make-up days)",
                n.year,
                n.year,
                n.holidays.len(),
                n.workdays.len()
            );
        }
    }
    Ok(())
}
