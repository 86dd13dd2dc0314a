//! DashGet: download MPEG-DASH presentations segment by segment, dump the ISO-BMFF box tree
//! of their representations, and check their conformance.
//!
//! Data flows one way through the modules:
//! `mpd` (parse) → `plan` (every segment, with its URL and local path from `layout`) →
//! `fetch` (HTTP, retries, resume) → `store` (part files, journal); and for the dumper
//! `discover` (manifest → local files) → `isobmff` (box reader) → `boxes` (decoders) →
//! `render` (text and JSON inspectors and documents, behind one walk interface), driven by
//! `dump` (one file or representation) and `dump_folder` (a whole presentation); `check`
//! (`mp4dump --check`) is a third consumer of the same walk.
#![deny(clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod boxes;
pub mod check;
pub mod cli;
pub mod discover;
pub mod dump;
pub mod dump_folder;
pub mod fetch;
pub mod isobmff;
pub mod layout;
pub mod live;
pub mod mpd;
pub mod plan;
pub mod render;
pub mod report;
pub mod store;
