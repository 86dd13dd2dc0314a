//! The download engine: concurrency, connection reuse, retries, timeouts, resume, size verification, progress events.
