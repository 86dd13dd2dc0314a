//! The box decoders: one per box type, grouped by family, each describing its fields to an inspector.
