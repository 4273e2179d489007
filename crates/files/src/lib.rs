//! The attachment store.
