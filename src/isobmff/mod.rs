//! Reading ISO-BMFF box headers and walking the box tree from any `Read + Seek`, within bounds.
