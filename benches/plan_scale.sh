#!/bin/sh
# Planning at scale: `dashget --list --json` of 2,000,002 segments (two representations of
# 1,000,000 media segments each in one SegmentTimeline, plus their init segments), and a
# one-year manifest of 4-second segments in two representations (15.8 M segments, over the
# 10 M cap: refused). Prints wall time, CPU time and peak RSS of each (GNU time); on a busy
# machine the CPU time is the steadier figure.
#
#   sh benches/plan_scale.sh            # builds the release binary first
#   DASHGET=path/to/dashget sh benches/plan_scale.sh
set -eu
cd "$(dirname "$0")/.."
if [ -z "${DASHGET:-}" ]; then
    cargo build --release --quiet --bin dashget
    DASHGET=target/release/dashget
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/two-million.mpd" <<'MPD'
<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT1000000S">
 <Period id="0"><AdaptationSet mimeType="video/mp4">
  <SegmentTemplate timescale="1000" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/$Time%012d$.m4s">
   <SegmentTimeline><S t="0" d="1000" r="999999"/></SegmentTimeline>
  </SegmentTemplate>
  <Representation id="v1" bandwidth="1000000"/><Representation id="v2" bandwidth="2000000"/>
 </AdaptationSet></Period>
</MPD>
MPD

cat > "$work/one-year.mpd" <<'MPD'
<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="P365D">
 <Period id="0"><AdaptationSet mimeType="video/mp4">
  <SegmentTemplate timescale="1" duration="4" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/$Number$.m4s"/>
  <Representation id="v1" bandwidth="1000000"/><Representation id="v2" bandwidth="2000000"/>
 </AdaptationSet></Period>
</MPD>
MPD

measure() {
    name=$1
    shift
    /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" > "$work/out" 2> "$work/err" || true
    read -r seconds user system kib <<TIME
$(tail -n 1 "$work/time")
TIME
    lines=$(wc -l < "$work/out")
    printf '%-40s %6s s (user %s s, sys %s s) %5s MB  %8s lines  %s\n' "$name" "$seconds" \
        "$user" "$system" "$((kib / 1024))" "$lines" "$(head -c 100 "$work/err")"
}

base=https://cdn.example/show/manifest.mpd
measure "--list --json, 2,000,002 segments" \
    "$DASHGET" --list --json --base-url "$base" "$work/two-million.mpd"
measure "--list (text), 2,000,002 segments" \
    "$DASHGET" --list --base-url "$base" "$work/two-million.mpd"
measure "--list, one year of 4 s x 2 (refused)" \
    "$DASHGET" --list --base-url "$base" "$work/one-year.mpd"
