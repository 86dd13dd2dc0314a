//! Inspectors that render the box tree: text in Bento4's layout (plus offsets), and JSON.
