//! Dumping whole representations: each segment's box tree, in plan order, to `{rep_id}.dump`/`.json`.
