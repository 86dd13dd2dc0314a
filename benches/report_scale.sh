#!/usr/bin/env bash
# Benchmark: how `mp4dump --report` grows with the number of segments, against `mp4dump --check`
# on the same presentation: time, peak memory (maximum resident set) and the page's size, for
# 10,000 and 100,000 segments per representation (3 representations). The segments are the
# bundled sample's first segments under every number (symbolic links: the check reads each
# file, and finds every segment after the first at the same decode time, so the findings' caps
# are exercised too).
#
# Usage: benches/report_scale.sh [WORKDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-${TMPDIR:-/tmp}/dashget-bench-report}
(cd "$here" && cargo build --release --bin mp4dump >/dev/null 2>&1)
mp4dump="$here/target/release/mp4dump"
for n in 10000 100000; do
  dir="$work/$n"
  if [ ! -f "$dir/manifest.mpd" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    cp "$here"/tests/fixtures/dash/template-number/* "$dir/"
    (cd "$dir" && for rep in 0 1 2; do
      seq -f "%05g" 3 "$n" | while read -r k; do ln -s "chunk-stream$rep-00001.m4s" "chunk-stream$rep-$k.m4s"; done
    done)
    sed -i "s/mediaPresentationDuration=\"PT2.0S\"/mediaPresentationDuration=\"PT$n.0S\"/" "$dir/manifest.mpd"
  fi
  for mode in --check --report; do
    /usr/bin/time -f "%e s, %M KB peak" -o "$work/time" "$mp4dump" -d "$dir" $mode >/dev/null || true
    echo "$n segments x 3, $mode: $(cat "$work/time")"
  done
  echo "$n segments x 3: report.html $(stat -c %s "$dir/report.html") bytes"
done
