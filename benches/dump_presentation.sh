#!/usr/bin/env bash
# Benchmark: mp4dump on a whole presentation (300 s, 1 s segments, 3 representations, ~900
# segments, made with ffmpeg), text at verbosity 3, in one process; and `mp4dump --check` on
# the same presentation, in the same hyperfine run (the check must not be slower than the dump);
# and `mp4dump --report` (within 2x the check's time, the page under 2 MB).
# Compares with the approach of running one Bento4 `mp4dump` process per segment when
# BENTO4_MP4DUMP names such a binary (not part of this project).
#
# Usage: benches/dump_presentation.sh [WORKDIR]     (needs ffmpeg and hyperfine; apt-get install ffmpeg hyperfine)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-${TMPDIR:-/tmp}/dashget-bench-dump}
mkdir -p "$work/presentation"
cd "$work/presentation"
if [ ! -f manifest.mpd ]; then
  ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc=size=320x240:rate=24:duration=300" \
    -f lavfi -i "sine=frequency=1000:sample_rate=44100:duration=300" \
    -c:v libx264 -preset ultrafast -threads 1 -g 24 -keyint_min 24 -sc_threshold 0 -pix_fmt yuv420p \
    -map 0:v -map 0:v -map 1:a -b:v:0 200k -b:v:1 100k -s:v:1 160x120 -c:a aac -b:a 48k \
    -seg_duration 1 -use_template 1 -use_timeline 0 -f dash manifest.mpd
fi
(cd "$here" && cargo build --release --bin mp4dump >/dev/null 2>&1)
mp4dump="$here/target/release/mp4dump"
segments=$(ls ./*.m4s | wc -l)
echo "presentation: $segments segment files in $work/presentation"
hyperfine --warmup 2 --runs 20 --export-markdown "$work/dashget.md" \
  -n "dump, verbosity 3" "$mp4dump -d . --verbosity 3" \
  -n "check" "$mp4dump -d . --check" \
  -n "report" "$mp4dump -d . --report"
echo "report.html: $(stat -c %s report.html) bytes"
if [ -n "${BENTO4_MP4DUMP:-}" ]; then
  # One process per segment, init first, as a per-segment wrapper would do.
  cat > "$work/per-segment.sh" <<EOS
#!/usr/bin/env bash
for rep in 0 1 2; do
  { "$BENTO4_MP4DUMP" --verbosity 3 init-stream\$rep.m4s; for f in chunk-stream\$rep-*.m4s; do "$BENTO4_MP4DUMP" --verbosity 3 "\$f"; done; } > /dev/null
done
EOS
  chmod +x "$work/per-segment.sh"
  hyperfine --warmup 1 --runs 5 --export-markdown "$work/bento4.md" "$work/per-segment.sh"
fi
for mode in "--verbosity 3" "--check" "--report"; do
  # shellcheck disable=SC2086
  echo "$mode: $(/usr/bin/time -v "$mp4dump" -d . $mode 2>&1 >/dev/null | grep -E "Maximum resident")"
done
