#!/usr/bin/env bash
# Benchmark: how `mp4dump --report` grows with the number of segments, against `mp4dump --check`
# and a dump (`--verbosity 0`) of the same presentation: time, peak memory (maximum resident set)
# and the page's size, for 10,000 and 100,000 segments. The presentation is clean: the bundled
# sample's audio representation (AAC, 44.1 kHz, 45,056-tick segments), its first media segment
# copied N times with its sidx, mfhd and tfdt rewritten to its place in the sequence, and a
# SegmentTimeline that names them all.
#
# Usage: benches/report_scale.sh [WORKDIR]      (needs python3; 100,000 segments take 660 MB)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-${TMPDIR:-/tmp}/dashget-bench-report}
(cd "$here" && cargo build --release --bin mp4dump >/dev/null 2>&1)
mp4dump="$here/target/release/mp4dump"
sample="$here/tests/fixtures/dash/template-number"
for n in 10000 100000; do
  dir="$work/clean-$n"
  if [ ! -f "$dir/manifest.mpd" ]; then
    rm -rf "$dir" && mkdir -p "$dir"
    cp "$sample/init-stream2.m4s" "$dir/"
    python3 - "$sample/chunk-stream2-00001.m4s" "$dir" "$n" <<'PY'
import struct, sys
source, folder, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = bytearray(open(source, "rb").read())
def find(box):
    at = data.find(box)
    assert at > 4, box
    return at - 4
sidx, mfhd, tfdt = find(b"sidx"), find(b"mfhd"), find(b"tfdt")
assert data[sidx + 8] == 1 and data[tfdt + 8] == 1  # version 1: 64-bit times
duration = 44 * 1024
for k in range(n):
    struct.pack_into(">Q", data, sidx + 20, k * duration)   # earliest_presentation_time
    struct.pack_into(">I", data, mfhd + 12, k + 1)          # sequence_number
    struct.pack_into(">Q", data, tfdt + 12, k * duration)   # baseMediaDecodeTime
    open(f"{folder}/seg-{k + 1:06d}.m4s", "wb").write(data)
seconds = n * duration / 44100
open(f"{folder}/manifest.mpd", "w").write(f'''<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static" mediaPresentationDuration="PT{seconds:.6f}S" minBufferTime="PT2S">
  <Period id="0" start="PT0S">
    <AdaptationSet id="0" contentType="audio" segmentAlignment="true" startWithSAP="1">
      <Representation id="audio" mimeType="audio/mp4" codecs="mp4a.40.2" bandwidth="64000" audioSamplingRate="44100">
        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="1"/>
        <SegmentTemplate timescale="44100" initialization="init-stream2.m4s" media="seg-$Number%06d$.m4s" startNumber="1">
          <SegmentTimeline><S t="0" d="{duration}" r="{n - 1}"/></SegmentTimeline>
        </SegmentTemplate>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
''')
PY
  fi
  for mode in "--verbosity 0" --check --report; do
    # shellcheck disable=SC2086
    /usr/bin/time -f "%e s, %M KB peak" -o "$work/time" "$mp4dump" -d "$dir" $mode >/dev/null
    echo "$n segments, $mode: $(cat "$work/time")"
  done
  echo "$n segments: report.html $(stat -c %s "$dir/report.html") bytes"
done
