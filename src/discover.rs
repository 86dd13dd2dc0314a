//! Finding the manifest in a folder, re-planning it, and mapping each fMP4 representation to its local files.
