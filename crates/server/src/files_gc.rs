//! `bihuan files gc`: the stored files no attachment refers to.

use anyhow::Result;
use bihuan_service::Service;

fn size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 { format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0)) } else { format!("{:.1} KB", bytes as f64 / 1024.0) }
}

/// Lists (and with `apply` deletes) the orphans, one line each, then a summary.
pub async fn run(svc: &Service, apply: bool) -> Result<()> {
    eprintln!(
        "正在检查附件目录 {} / scanning the attachment store {}…",
        svc.settings.files_dir.display(),
        svc.settings.files_dir.display()
    );
    let gc = svc.collect_orphan_files(apply).await?;
    for o in &gc.orphans {
        let what = match (apply, o.removed) {
            (false, _) => "无引用 / unreferenced",
            (true, true) => "已删除 / deleted",
            (true, false) => "刚被再次使用，保留 / just used again, kept",
        };
        println!("{}\t{}\t{} h\t{what}", o.sha256, size(o.size), o.age_seconds / 3600);
    }
    for t in &gc.temporaries {
        println!("{}\t{}", t.display(), if apply { "临时文件，已删除 / leftover temporary file, deleted" } else { "临时文件 / leftover temporary file" });
    }
    let bytes: u64 = gc.orphans.iter().filter(|o| !apply || o.removed).map(|o| o.size).sum();
    let count = gc.orphans.iter().filter(|o| !apply || o.removed).count();
    if apply {
        println!("已删除 {count} 个无引用文件（{}）和 {} 个临时文件 / deleted {count} unreferenced files ({}) and {} temporary files", size(bytes), gc.temporaries.len(), size(bytes), gc.temporaries.len());
    } else {
        println!(
            "{count} 个无引用文件（{}）和 {} 个临时文件可删除；加 --apply 删除 / {count} unreferenced files ({}) and {} temporary files can go; add --apply to delete them",
            size(bytes),
            gc.temporaries.len(),
            size(bytes),
            gc.temporaries.len()
        );
    }
    Ok(())
}
