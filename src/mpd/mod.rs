//! Reading a manifest (URL or file) and parsing it into a typed model.
