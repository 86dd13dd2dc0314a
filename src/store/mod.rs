//! The output tree: part files renamed into place once verified, and the journal of finished files.

mod sources;
pub use sources::{META_DIR, record_manifest_url, recorded_manifest_url};
