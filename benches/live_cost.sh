#!/usr/bin/env bash
# What a live recording writes besides its media per segment, after 300 s and 1,800 s of
# recording (the live test origin on 127.0.0.1; see tests/live_cost.rs). Release build.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release --test live_cost -- --ignored --nocapture 2>&1 | grep -E 'held|test result|panicked'
