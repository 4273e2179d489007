//! One integration-test binary for the attachment store. The files are generated here.
// Test code: helpers outside #[test] functions may unwrap and panic too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod fixtures;
mod kinds;
mod photos;
mod store;

use bihuan_files::{FileError, FileStore, Limits, StoredFile};

pub fn inspect(bytes: &[u8], name: Option<&str>) -> Result<StoredFile, FileError> {
    FileStore::inspect(bytes, name, &Limits::default())
}

/// The media type an `Unsupported` error names, or a panic.
pub fn refused_as(bytes: &[u8]) -> Option<String> {
    match inspect(bytes, None) {
        Err(FileError::Unsupported { detected }) => detected,
        other => panic!("expected Unsupported, got {other:?}"),
    }
}
