//! The directory: content addressing, idempotence, atomic and concurrent writes, ids, sizes.

use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};

use bihuan_files::{FileError, FileKind, FileStore, Limits};
use sha2::Digest;

use crate::fixtures::*;

fn store() -> (tempfile::TempDir, FileStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path().join("files"), Limits::default()).unwrap();
    (dir, store)
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn open_creates_the_directories() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("a/b");
    FileStore::open(&root, Limits::default()).unwrap();
    assert!(root.join("objects").is_dir() && root.join("thumbs").is_dir());
}

#[test]
fn files_live_under_their_sha256_and_read_back_identical() {
    let (dir, store) = store();
    let photo = jpeg(50, 40);
    let stored = store.put(&photo, Some("隐患照片.jpg")).unwrap();
    let id = sha(&photo);
    assert_eq!(stored.sha256, id);
    assert_eq!(stored.size, photo.len() as u64);
    let root = dir.path().join("files");
    assert_eq!(
        files_under(&root),
        vec![
            root.join(format!("objects/{}/{}/{id}", &id[..2], &id[2..4])),
            root.join(format!("thumbs/{}/{id}.jpg", &id[..2])),
        ]
    );
    let mut back = Vec::new();
    store
        .open_file(&id)
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert_eq!(back, photo);
    assert!(store.exists(&id));
}

#[test]
fn putting_the_same_bytes_twice_stores_once_and_returns_the_same_result() {
    let (dir, store) = store();
    let photo = jpeg(50, 40);
    let first = store.put(&photo, None).unwrap();
    let object = dir.path().join(format!(
        "files/objects/{}/{}/{}",
        &first.sha256[..2],
        &first.sha256[2..4],
        first.sha256
    ));
    let inode = std::fs::metadata(&object).unwrap().ino();
    let second = store.put(&photo, Some("again.jpg")).unwrap();
    assert_eq!(first, second);
    assert_eq!(
        std::fs::metadata(&object).unwrap().ino(),
        inode,
        "not rewritten"
    );
    assert_eq!(files_under(&dir.path().join("files")).len(), 2);
    assert_eq!(
        FileStore::inspect(&photo, None, store.limits()).unwrap(),
        first,
        "inspect agrees with put"
    );
}

#[test]
fn documents_have_no_thumbnail_and_missing_files_are_not_found() {
    let (_dir, store) = store();
    let stored = store.put(&docx(), Some("整改方案.docx")).unwrap();
    assert_eq!(stored.kind, FileKind::Word);
    assert!(!stored.has_thumbnail && stored.image.is_none());
    assert!(store.thumbnail(&stored.sha256).unwrap().is_none());
    let absent = sha(b"never stored");
    assert!(matches!(store.open_file(&absent), Err(FileError::NotFound)));
    assert!(matches!(store.thumbnail(&absent), Err(FileError::NotFound)));
    assert!(!store.exists(&absent));
}

#[test]
fn anything_but_64_lowercase_hex_is_an_invalid_id() {
    let (_dir, store) = store();
    let stored = store.put(&pdf(), None).unwrap();
    let upper = stored.sha256.to_uppercase();
    let bad = [
        "../../../../etc/passwd".to_owned(),
        upper,
        stored.sha256[..63].to_owned(),
        format!("{}0", stored.sha256),
        format!("../{}", &stored.sha256[3..]),
        format!("{}g", &stored.sha256[..63]),
        String::new(),
    ];
    for id in &bad {
        assert!(
            matches!(store.open_file(id), Err(FileError::InvalidId)),
            "{id}"
        );
        assert!(
            matches!(store.thumbnail(id), Err(FileError::InvalidId)),
            "{id}"
        );
        assert!(!store.exists(id), "{id}");
    }
}

#[test]
fn empty_and_oversized_files_are_refused_with_the_limit_in_mb() {
    let (dir, store) = store();
    assert!(matches!(store.put(&[], None), Err(FileError::Empty)));
    let limits = Limits {
        max_bytes: 1_048_576,
        ..Limits::default()
    };
    let small = FileStore::open(dir.path().join("small"), limits).unwrap();
    let big = vec![b'a'; 1_048_577];
    let err = small.put(&big, Some("a.txt")).unwrap_err();
    assert!(
        matches!(
            err,
            FileError::TooLarge {
                size: 1_048_577,
                limit: 1_048_576
            }
        ),
        "{err:?}"
    );
    assert!(
        err.zh().contains("1 MB") && err.en().contains("1 MB"),
        "{} / {}",
        err.zh(),
        err.en()
    );
    assert!(
        small.put(&big[1..], Some("a.txt")).is_ok(),
        "exactly the limit is allowed"
    );
    let err = FileStore::inspect(&[], None, &Limits::default()).unwrap_err();
    assert!(!err.zh().is_empty() && !err.en().is_empty());
}

#[test]
fn concurrent_puts_of_the_same_content_are_safe() {
    let (dir, store) = store();
    let store = Arc::new(store);
    let photo = Arc::new(jpeg(640, 480));
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (store, photo, barrier) = (store.clone(), photo.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                store.put(&photo, None).unwrap()
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(results.windows(2).all(|w| w[0] == w[1]));
    assert!(results[0].has_thumbnail);
    let files = files_under(&dir.path().join("files"));
    assert_eq!(
        files.len(),
        2,
        "one object, one thumbnail, no temporary files left: {files:?}"
    );
    let mut back = Vec::new();
    store
        .open_file(&results[0].sha256)
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert_eq!(back, *photo);
}

#[test]
fn concurrent_puts_of_different_content_in_the_same_directories_are_safe() {
    let (dir, store) = store();
    let store = Arc::new(store);
    let handles: Vec<_> = (0..16u8)
        .map(|i| {
            let store = store.clone();
            std::thread::spawn(move || store.put(format!("第 {i} 行\n").as_bytes(), None).unwrap())
        })
        .collect();
    for handle in handles {
        let stored = handle.join().unwrap();
        assert!(store.exists(&stored.sha256));
    }
    assert_eq!(files_under(&dir.path().join("files")).len(), 16);
}

#[test]
fn leftovers_of_a_crash_never_count_as_stored_and_a_broken_object_is_rewritten() {
    let (dir, store) = store();
    let text = "消防通道堵塞\n".as_bytes();
    let id = sha(text);
    let object_dir = dir
        .path()
        .join(format!("files/objects/{}/{}", &id[..2], &id[2..4]));
    std::fs::create_dir_all(&object_dir).unwrap();
    // A crash after writing half a temporary file.
    std::fs::write(
        object_dir.join(format!(".tmp-{}-0", std::process::id())),
        &text[..3],
    )
    .unwrap();
    assert!(!store.exists(&id));
    assert!(matches!(store.open_file(&id), Err(FileError::NotFound)));
    store.put(text, None).unwrap();
    assert_eq!(
        std::fs::read(object_dir.join(&id)).unwrap(),
        text,
        "temporary name taken by the leftover is skipped"
    );

    // A final file of the wrong size (damaged by something outside the store) is replaced.
    std::fs::write(object_dir.join(&id), b"xx").unwrap();
    store.put(text, None).unwrap();
    assert_eq!(std::fs::read(object_dir.join(&id)).unwrap(), text);
}

#[test]
fn a_missing_thumbnail_is_made_again_on_the_next_put() {
    let (dir, store) = store();
    let photo = jpeg(80, 60);
    let stored = store.put(&photo, None).unwrap();
    let thumb = dir.path().join(format!(
        "files/thumbs/{}/{}.jpg",
        &stored.sha256[..2],
        stored.sha256
    ));
    std::fs::remove_file(&thumb).unwrap();
    assert!(store.thumbnail(&stored.sha256).unwrap().is_none());
    assert_eq!(store.put(&photo, None).unwrap(), stored);
    assert!(thumb.is_file());
}

#[test]
fn refused_files_write_nothing() {
    let (dir, store) = store();
    assert!(
        store
            .put(b"<html><script>x()</script></html>", Some("a.txt"))
            .is_err()
    );
    assert!(
        store
            .put(&zip_of(&[("a.txt", "a")]), Some("a.docx"))
            .is_err()
    );
    assert!(files_under(&dir.path().join("files")).is_empty());
}

/// Sets the modification time of `path` to `ago` before now.
fn age(path: &Path, ago: std::time::Duration) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.set_modified(std::time::SystemTime::now() - ago).unwrap();
}

#[test]
fn garbage_collection_sees_only_old_files_and_spares_ones_put_again() {
    let hour = std::time::Duration::from_secs(3600);
    let (dir, store) = store();
    let old = store.put(&png(8, 8), None).unwrap();
    let young = store.put(b"young text file\n", Some("a.txt")).unwrap();
    let again = store.put(b"put again later\n", Some("b.txt")).unwrap();
    let root = dir.path().join("files");
    let object = |sha: &str| root.join("objects").join(&sha[0..2]).join(&sha[2..4]).join(sha);
    age(&object(&old.sha256), 2 * hour);
    age(&object(&again.sha256), 2 * hour);
    let temp = object(&old.sha256).with_file_name(".tmp-99999-0");
    std::fs::write(&temp, b"half").unwrap();
    age(&temp, 2 * hour);

    let (files, temps) = store.older_than(hour).unwrap();
    let mut expected = vec![old.sha256.clone(), again.sha256.clone()];
    expected.sort();
    assert_eq!(files.iter().map(|f| f.sha256.clone()).collect::<Vec<_>>(), expected);
    assert!(files.iter().all(|f| f.age >= hour && f.size > 0));
    assert_eq!(temps, vec![temp]);

    // The same bytes put again refresh the file: no longer old, not removed.
    store.put(b"put again later\n", Some("b.txt")).unwrap();
    assert!(!store.remove_if_unused(&again.sha256, hour).unwrap());
    assert!(store.exists(&again.sha256));
    assert_eq!(store.older_than(hour).unwrap().0.len(), 1);

    // The old one goes, with its thumbnail; a second removal finds nothing.
    assert!(store.thumbnail(&old.sha256).unwrap().is_some());
    assert!(store.remove_if_unused(&old.sha256, hour).unwrap());
    assert!(!store.exists(&old.sha256));
    assert!(matches!(store.thumbnail(&old.sha256), Err(FileError::NotFound)));
    assert!(!store.remove_if_unused(&old.sha256, hour).unwrap());
    assert!(store.exists(&young.sha256));
    // Put again after removal: stored anew.
    store.put(&png(8, 8), None).unwrap();
    assert!(store.exists(&old.sha256));
}
