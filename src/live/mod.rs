//! Live presentations (`MPD@type="dynamic"`): the pieces of a recorder that need no network,
//! and the recorder that composes them with the engine.
//!
//! - [`clock`]: synchronising with the manifest's `UTCTiming` (or, failing that, the `Date` of
//!   the manifest's response), with an offset and its uncertainty;
//! - [`availability`]: for a synchronised instant, which segments exist, with their stable
//!   identity and exact availability windows, and whether the presentation has ended;
//! - [`recording`]: the static manifest of what was recorded, written atomically;
//! - [`recorder`]: the recording loop over the engine's client, journal and output folder.
//!
//! The live attributes of a manifest (AST, `publishTime`, `UTCTiming`, offsets) are part of the
//! manifest model ([`crate::mpd::live`]).
//!
//! Instants are integer nanoseconds since the Unix epoch ([`time::UnixNanos`]), media times
//! integer ticks: nothing here is a float.

pub mod availability;
pub mod clock;
pub mod inband;
pub mod recorder;
pub mod recording;
pub use crate::mpd::time;
mod recorded;
mod window;

pub use crate::mpd::live::{AvailabilityOffset, LiveAttributes, UtcTiming};
pub use availability::{
    EndReason, LivePeriod, LivePresentation, LiveRepresentation, LiveSegment, PresentationEnd,
    SegmentId, SegmentKey, Skipped,
};

/// Why a live manifest cannot be followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiveError {
    /// The manifest does not parse.
    #[error(transparent)]
    Parse(#[from] crate::mpd::ParseError),
    /// A dynamic manifest without `availabilityStartTime`: nothing can be placed in time.
    #[error("MPD@type is dynamic but MPD@availabilityStartTime is missing")]
    NoAvailabilityStartTime,
    /// Something at the manifest level that cannot be resolved.
    #[error("{0}")]
    Manifest(String),
    /// A Representation whose addressing cannot be followed live.
    #[error("period {period}, {message}")]
    Representation {
        /// The Period (id or index).
        period: String,
        /// What is wrong, naming the Representation and the attribute at fault.
        message: String,
    },
}

#[cfg(test)]
mod robustness_tests;
