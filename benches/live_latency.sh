#!/usr/bin/env bash
# Low latency and MPD Patch against the live test origin on 127.0.0.1 (see tests/live_latency.rs):
# the lag behind the live edge with and without low latency (2-s segments of 0.4-s chunks),
# and the manifest bytes per minute of a two-hour SegmentTimeline (one S per segment,
# minimumUpdatePeriod 2 s) refreshed whole and through MPD Patch. Release build; about 100 s.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release --test live_latency -- --ignored --nocapture --test-threads 1 2>&1 |
  grep -E 'low latency:|no-low-latency:|a full manifest|MPD Patch:|full manifests:|test result|panicked'
