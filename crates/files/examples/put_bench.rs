//! How long a phone photo takes to store, thumbnail included, and how much memory it needs.
//!
//! ```text
//! cargo run --release -p bihuan-files --example put_bench -- [COUNT] [WIDTH] [HEIGHT]
//! ```
//!
//! Generates COUNT (default 200) distinct WIDTH×HEIGHT (default 3000×4000, a 12-megapixel phone
//! photo in portrait) JPEG photos into a temporary directory first, then resets the peak-RSS
//! counter and times `FileStore::put` on each (reading the file into memory as an upload handler
//! would). Prints per-put times and the peak resident memory of the put phase.

use std::error::Error;
use std::time::{Duration, Instant};

use bihuan_files::{FileStore, Limits};
use image::{ImageEncoder, RgbImage};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u32>());
    let count = args.next().transpose()?.unwrap_or(200);
    let width = args.next().transpose()?.unwrap_or(3000);
    let height = args.next().transpose()?.unwrap_or(4000);

    let work = tempfile::tempdir()?;
    let sources = work.path().join("sources");
    std::fs::create_dir_all(&sources)?;
    let started = Instant::now();
    let mut source_bytes = 0u64;
    for i in 0..count {
        let jpeg = photo(width, height, i)?;
        source_bytes += jpeg.len() as u64;
        std::fs::write(sources.join(format!("{i}.jpg")), jpeg)?;
    }
    println!(
        "generated {count} photos of {width}×{height} in {:.1} s, mean {:.2} MB",
        started.elapsed().as_secs_f64(),
        source_bytes as f64 / f64::from(count.max(1)) / 1_048_576.0
    );
    println!("peak RSS while generating: {} MB", peak_rss_kb()? / 1024);

    // Forget the generator's peak so the figure below is the put phase alone.
    std::fs::write("/proc/self/clear_refs", "5")?;
    let store = FileStore::open(work.path().join("store"), Limits::default())?;
    let mut times = Vec::new();
    for i in 0..count {
        let bytes = std::fs::read(sources.join(format!("{i}.jpg")))?;
        let put_started = Instant::now();
        let stored = store.put(&bytes, Some("photo.jpg"))?;
        times.push(put_started.elapsed());
        if !stored.has_thumbnail {
            return Err("no thumbnail was made".into());
        }
    }
    times.sort();
    let total: Duration = times.iter().sum();
    let at = |q: f64| {
        times
            .get(((times.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    println!(
        "put with thumbnail: mean {:.0} ms, median {:.0} ms, p95 {:.0} ms, max {:.0} ms ({} puts, {:.1} s)",
        ms(total / count.max(1)),
        ms(at(0.5)),
        ms(at(0.95)),
        ms(at(1.0)),
        count,
        total.as_secs_f64()
    );
    println!("peak RSS during puts: {} MB", peak_rss_kb()? / 1024);

    // Where the time goes: `inspect` reads, checks and decodes but neither encodes the thumbnail
    // nor writes.
    let sample = count.min(20);
    let mut inspect_total = Duration::ZERO;
    for i in 0..sample {
        let bytes = std::fs::read(sources.join(format!("{i}.jpg")))?;
        let inspect_started = Instant::now();
        FileStore::inspect(&bytes, None, store.limits())?;
        inspect_total += inspect_started.elapsed();
    }
    println!(
        "inspect (hash, sniff, EXIF, full decode; no thumbnail, no write): mean {:.0} ms over {sample}",
        ms(inspect_total / sample.max(1))
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A photo-like picture: smooth light over the frame, a few shapes, and sensor noise, different
/// for every `seed`. Quality 90 gives files of phone-photo size.
fn photo(width: u32, height: u32, seed: u32) -> Result<Vec<u8>, Box<dyn Error>> {
    let mut state = u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let (cx, cy) = (width / 3 + seed * 37 % (width / 3).max(1), height / 2);
    let image = RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let noise = (state % 24) as i32 - 12;
        let dx = i64::from(x) - i64::from(cx);
        let dy = i64::from(y) - i64::from(cy);
        let disc = dx * dx + dy * dy < i64::from(width / 5).pow(2);
        let base = [
            (x * 200 / width) as i32 + if disc { 40 } else { 0 },
            (y * 180 / height) as i32 + (seed % 50) as i32,
            ((x + y) % 256) as i32 / 2 + if (x / 64 + y / 64) % 2 == 0 { 30 } else { 0 },
        ];
        image::Rgb(base.map(|c| (c + noise).clamp(0, 255) as u8))
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).write_image(
        image.as_raw(),
        width,
        height,
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(out)
}

/// `VmHWM` of this process, in kB.
fn peak_rss_kb() -> Result<u64, Box<dyn Error>> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .ok_or("no VmHWM in /proc/self/status")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .ok_or("malformed VmHWM")?
        .parse()?)
}
