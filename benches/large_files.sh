#!/usr/bin/env bash
# Large files over rate-limited connections: an on-demand presentation of 4 files of 250 MB
# (one per representation, named by BaseURL), served by nginx on 127.0.0.1 with `limit_rate`
# (20 MB/s per connection, as a CDN caps a connection). Tools, taking turns, RUNS rounds:
#   dashget -t 16            (pieces: 4 files x 4 connections)
#   dashget -t 4 --split-size 0   (one connection a file)
#   curl --parallel --parallel-immediate --parallel-max 4   (one connection a file)
#   aria2c -j 4 -x 4 -s 4    (the peer that splits files: 16 connections)
# Median wall time and peak RSS of each; every output checked byte for byte.
#
# Usage: benches/large_files.sh [RUNS] [MB] [RATE]   (defaults 3, 250, 20m)
# Environment: WORK (default target/large-bench), PORT (default 18091).
set -euo pipefail

RUNS=${1:-3}
MB=${2:-250}
RATE=${3:-20m}
here=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-$here/target/large-bench}
PORT=${PORT:-18091}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
need() { command -v "$1" >/dev/null 2>&1; }
need nginx || { apt-get update -qq && apt-get install -y -qq nginx >/dev/null; }
need aria2c || apt-get install -y -qq aria2 >/dev/null
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null

www=$WORK/www/ondemand
mkdir -p "$www"
for i in 1 2 3 4; do
  if [ "$(stat -c %s "$www/rep$i.mp4" 2>/dev/null || echo 0)" != $((MB * 1000000)) ]; then
    head -c $((MB * 1000000)) /dev/urandom > "$www/rep$i.mp4"
  fi
done
cat > "$www/manifest.mpd" <<MPD
<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT600S" minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">
  <Period><AdaptationSet mimeType="video/mp4">
    <Representation id="1" bandwidth="3000000"><BaseURL>rep1.mp4</BaseURL></Representation>
    <Representation id="2" bandwidth="3000000"><BaseURL>rep2.mp4</BaseURL></Representation>
    <Representation id="3" bandwidth="3000000"><BaseURL>rep3.mp4</BaseURL></Representation>
    <Representation id="4" bandwidth="3000000"><BaseURL>rep4.mp4</BaseURL></Representation>
  </AdaptationSet></Period>
</MPD>
MPD

. "$here/benches/nginx.sh"
write_nginx_conf "$WORK/nginx" "$WORK/www" "$PORT"
# Every connection capped, as a CDN does.
sed -i "s|    root $WORK/www;|    root $WORK/www;\n    limit_rate $RATE;|" "$WORK/nginx/nginx.conf"
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
nginx_pid=$!
trap 'kill $nginx_pid 2>/dev/null || true' EXIT
base=http://127.0.0.1:$PORT/ondemand
for _ in $(seq 50); do curl -fso /dev/null "$base/manifest.mpd" && break; sleep 0.1; done

(cd "$here" && cargo build --release --quiet --bin dashget)
dashget=$here/target/release/dashget
out=$WORK/out
for i in 1 2 3 4; do printf 'url = "%s/rep%s.mp4"\noutput = "%s/rep%s.mp4"\n' "$base" "$i" "$out" "$i"; done > "$WORK/curl.cfg"
for i in 1 2 3 4; do printf '%s/rep%s.mp4\n  out=rep%s.mp4\n' "$base" "$i" "$i"; done > "$WORK/aria2.txt"

once() {
  local name=$1; shift
  rm -rf "$out"; mkdir -p "$out"; sync; sleep 1
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >/dev/null
  for i in 1 2 3 4; do cmp -s "$www/rep$i.mp4" "$out/rep$i.mp4" || { echo "$name: rep$i.mp4 differs" >&2; exit 1; }; done
  echo "$(cat "$WORK/time.txt")" >> "$WORK/$name.times"
}
tools=("dashget-t16" "dashget-t4-nosplit" "curl-parallel-4" "aria2c-x4-s4")
rm -f "$WORK"/*.times
for run in $(seq "$RUNS"); do
  # A new order in each round (as in loopback.sh: a rotation keeps each tool behind the same one).
  mapfile -t order < <(printf '%s\n' "${tools[@]}" | shuf --random-source=<(yes "$(echo "large $run" | sha256sum)"))
  for tool in "${order[@]}"; do
    case $tool in
      dashget-t16) once "$tool" "$dashget" -q -t 16 -o "$out" "$base/manifest.mpd" ;;
      dashget-t4-nosplit) once "$tool" "$dashget" -q -t 4 --split-size 0 -o "$out" "$base/manifest.mpd" ;;
      curl-parallel-4) once "$tool" curl -s --no-progress-meter --fail --parallel --parallel-immediate --parallel-max 4 -K "$WORK/curl.cfg" ;;
      aria2c-x4-s4) once "$tool" aria2c -q -j 4 -x 4 -s 4 -k 1M --file-allocation=none --allow-overwrite=true \
          --auto-file-renaming=false --console-log-level=error --summary-interval=0 -d "$out" -i "$WORK/aria2.txt" ;;
    esac
  done
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
curl_med=$(cut -d' ' -f1 "$WORK/curl-parallel-4.times" | median)
aria_med=$(cut -d' ' -f1 "$WORK/aria2c-x4-s4.times" | median)
for tool in "${tools[@]}"; do
  med=$(cut -d' ' -f1 "$WORK/$tool.times" | median)
  rss=$(cut -d' ' -f2 "$WORK/$tool.times" | median)
  printf '%-20s 4 x %s MB at %s/connection: median %6.2f s (%.2fx curl, %.2fx aria2c), peak RSS %5.1f MB, runs: %s\n' \
    "$tool" "$MB" "$RATE" "$med" "$(echo "$med / $curl_med" | bc -l)" "$(echo "$med / $aria_med" | bc -l)" \
    "$(echo "$rss / 1024" | bc -l)" "$(cut -d' ' -f1 "$WORK/$tool.times" | tr '\n' ' ')"
done
