//! The output tree: part files renamed into place once verified, and the journal of finished files.
