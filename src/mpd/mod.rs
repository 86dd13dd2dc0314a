//! A manifest's bytes (read from a file here; fetched by the engine) parsed into a typed model.
//!
//! The model is written for this project rather than taken from `dash-mpd-core`: that crate's
//! serde model types `S@t` as unsigned (so a timeline with a negative `@t`, legal in
//! ISO/IEC 23009-1, fails to parse) and rejects a whole manifest over one malformed attribute
//! anywhere in it. Here only what planning needs is read, with exact integers for times.

pub mod duration;
pub mod live;
mod load;
mod model;
mod parse;
pub mod patch;
pub mod time;

pub use load::{LoadError, LoadedManifest, MAX_MANIFEST_BYTES, file_name_of, is_url, read_file};
pub use model::*;
pub use parse::{ParseError, parse_mpd};
