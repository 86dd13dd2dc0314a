//! The one mapping from a segment URL to a path under the output folder.
