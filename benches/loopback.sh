#!/usr/bin/env bash
# Loopback download benchmark: dashget against curl --parallel and aria2c (and yt-dlp,
# dash-mpd-cli where installed), same URLs, same number of requests in flight, served by nginx
# on 127.0.0.1.
#
# Two presentations are generated with ffmpeg (cheaply: a short clip encoded once, then looped
# with `-c copy` into the DASH muxer):
#   small: ~2,000 segments of ~40 KB (320x240 H.264 at ~320 kb/s, 1 s segments)
#   big:   ~100 segments of ~4 MB (640x360 noise, near-incompressible, 1 s segments)
#
# For each tool and presentation: RUNS timed runs into a fresh folder, median wall time, peak
# RSS (/usr/bin/time), segments/s and MB/s. The tools take turns (in a new order in each
# round) and the file system settles after each deletion. Then dashget's no-op re-run of the small one (time
# and requests counted in nginx's access log), and the cost of an fsync before each rename
# (DASHGET_FSYNC=1; compare with curl followed by `sync`, which gives the same durability).
#
# Usage: benches/loopback.sh [N] [RUNS]      (N = requests in flight, default 4; RUNS default 5)
# Environment: WORK (default target/loopback-bench), PORT (default 18090), FRESH_EXT4=1 (root:
# the outputs on a new ext4 made for the run in a RAM-backed image), PRESENTATIONS (default
# "small big": which to time; the no-op re-run needs small).
set -euo pipefail

N=${1:-4}
RUNS=${2:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-$here/target/loopback-bench}
PORT=${PORT:-18090}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

need() { command -v "$1" >/dev/null 2>&1; }
if ! need nginx; then
  echo "installing nginx" >&2
  apt-get update -qq && apt-get install -y -qq nginx >/dev/null
fi
need ffmpeg || { echo "ffmpeg is required (apt-get install ffmpeg)" >&2; exit 2; }
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null

# --- content ---------------------------------------------------------------------------------
ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
www=$WORK/www
if [ ! -f "$www/small/manifest.mpd" ]; then
  echo "generating small (2,000 x ~40 KB)" >&2
  mkdir -p "$www/small"
  ff -f lavfi -i "testsrc=size=320x240:rate=24:duration=10" -c:v libx264 -preset ultrafast \
    -threads 1 -g 24 -keyint_min 24 -sc_threshold 0 -b:v 320k -maxrate 320k -bufsize 320k \
    -pix_fmt yuv420p "$WORK/small-clip.mp4"
  (cd "$www/small" && ff -stream_loop -1 -i "$WORK/small-clip.mp4" -t 2000 -map 0:v -c copy \
    -f dash -seg_duration 1 -use_template 1 -use_timeline 0 manifest.mpd)
fi
if [ ! -f "$www/big/manifest.mpd" ]; then
  echo "generating big (100 x ~4 MB)" >&2
  mkdir -p "$www/big"
  ff -f lavfi -i "nullsrc=s=640x360:r=24,geq=lum='random(1)*255':cb=128:cr=128" -t 4 \
    -c:v libx264 -preset ultrafast -threads 2 -g 24 -keyint_min 24 -sc_threshold 0 -qp 22 \
    -pix_fmt yuv420p "$WORK/big-clip.mp4"
  (cd "$www/big" && ff -stream_loop -1 -i "$WORK/big-clip.mp4" -t 100 -map 0:v -c copy \
    -f dash -seg_duration 1 -use_template 1 -use_timeline 0 manifest.mpd)
fi

# --- nginx -----------------------------------------------------------------------------------
. "$here/benches/nginx.sh"
write_nginx_conf "$WORK/nginx" "$www" "$PORT"
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
nginx_pid=$!
trap 'kill $nginx_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fso /dev/null "http://127.0.0.1:$PORT/small/manifest.mpd" && break; sleep 0.1; done
requests() { wc -l < "$WORK/nginx/logs/access.log"; }

# --- dashget ---------------------------------------------------------------------------------
(cd "$here" && cargo build --release --quiet --bin dashget)
dashget=$here/target/release/dashget

# --- timing and reporting ----------------------------------------------------------------
out=$WORK/out
if [ "${FRESH_EXT4:-0}" = 1 ]; then
  # The outputs on a new ext4 (with its journal) made for the run in a RAM-backed image: what
  # creating and renaming files costs on a journalled file system, without a busy disk's noise.
  img=/dev/shm/dashget-loopback.$$.img
  truncate -s 4G "$img"
  mkfs.ext4 -q -F "$img"
  mkdir -p "$WORK/fs"
  mount -o loop "$img" "$WORK/fs"
  trap 'kill $nginx_pid 2>/dev/null || true; sleep 0.5; umount "$WORK/fs"; rm -f "$img"' EXIT
  out=$WORK/fs/out
fi
results=$WORK/results.txt
: > "$results"
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# One timed run of a tool into a fresh $out; appends "seconds rss_kb" to $WORK/runs/NAME.
# Tools take turns run by run, so that a load change on the machine hits all of them alike.
once() {
  local name=$1 pres=$2 check=$3; shift 3
  # Deleting the previous mirror makes the file system busy for a moment (journal commits,
  # discards): let it settle so that the next tool does not pay for it.
  rm -rf "$out"; mkdir -p "$out" "$WORK/runs"; sync; sleep 1; sync
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/stderr.txt" \
    || { echo "$name failed:" >&2; tail -5 "$WORK/stderr.txt" >&2; }
  cat "$WORK/time.txt" >> "$WORK/runs/$pres-${name// /_}"
  if [ "$check" = yes ]; then
    for f in "$www/$pres"/*.m4s; do
      cmp -s "$f" "$out/${f##*/}" || { echo "$name $pres: ${f##*/} differs from the origin" >&2; break; }
    done
  fi
}

# report NAME PRESENTATION: median time, rates and median peak RSS of its runs.
report() {
  local name=$1 pres=$2 file="$WORK/runs/$2-${1// /_}"
  local segs bytes med medrss
  segs=$(ls "$www/$pres" | grep -c -v '\.mpd$')
  bytes=$(du -sb --exclude='*.mpd' "$www/$pres" | cut -f1)
  med=$(cut -d' ' -f1 "$file" | median)
  medrss=$(cut -d' ' -f2 "$file" | median)
  printf '%-24s %-5s N=%-2s median %6.2f s %7.0f seg/s %6.0f MB/s  peak RSS %5.1f MB  runs(s): %s\n' \
    "$name" "$pres" "$N" "$med" "$(echo "$segs / $med" | bc -l)" "$(echo "$bytes / 1000000 / $med" | bc -l)" \
    "$(echo "$medrss / 1024" | bc -l)" "$(cut -d' ' -f1 "$file" | tr '\n' ' ')" | tee -a "$results"
}

rm -rf "$WORK/runs"
for pres in ${PRESENTATIONS:-small big}; do
  base=http://127.0.0.1:$PORT/$pres
  # The same URL list for every tool: the plan's segments.
  "$dashget" --list --json "$base/manifest.mpd" | python3 -c '
import json, sys
seen = set()
for line in sys.stdin:
    s = json.loads(line)
    if s["url"] not in seen:
        seen.add(s["url"]); print(s["url"], s["path"])
' > "$WORK/$pres.urls"
  awk -v o="$out" '{print "url = \"" $1 "\"\noutput = \"" o "/" $2 "\""}' "$WORK/$pres.urls" > "$WORK/$pres.curl"
  awk '{print $1 "\n  out=" $2}' "$WORK/$pres.urls" > "$WORK/$pres.aria2"
  tools=("dashget -t $N" "dashget -t $N, --check" "dashget -t $N, fsync" "curl --parallel" "curl --parallel; sync" "aria2c -j $N")
  need yt-dlp && tools+=("yt-dlp -N $N")
  need dash-mpd-cli && tools+=("dash-mpd-cli")
  for run in $(seq "$RUNS"); do
    check=no; [ "$run" = "$RUNS" ] && check=yes
    # A new order in each round (shuffled, the same shuffles in every run of the script): a
    # rotation keeps each tool behind the same one in every round, and a tool's time depends
    # on what the one before it left the machine to do (rotated, dashget always ran right
    # after aria2c's long run: its median on big was 0.45 s and 0.52 s in two runs of 15
    # rounds, against 0.38 s shuffled, curl's alike in all three; BENCHMARKS.md).
    mapfile -t order < <(printf '%s\n' "${tools[@]}" \
      | shuf --random-source=<(yes "$(echo "$pres $run" | sha256sum)"))
    for tool in "${order[@]}"; do
      case $tool in
        "dashget -t $N") once "$tool" "$pres" $check "$dashget" -q -t "$N" -o "$out" "$base/manifest.mpd" ;;
        "dashget -t $N, --check") once "$tool" "$pres" $check "$dashget" -q --check -t "$N" -o "$out" "$base/manifest.mpd" ;;
        "dashget -t $N, fsync") once "$tool" "$pres" $check env DASHGET_FSYNC=1 "$dashget" -q -t "$N" -o "$out" "$base/manifest.mpd" ;;
        "curl --parallel") once "$tool" "$pres" $check curl -s --fail --parallel --parallel-max "$N" -K "$WORK/$pres.curl" ;;
        "curl --parallel; sync") once "$tool" "$pres" $check sh -c 'curl -s --fail --parallel --parallel-max "$1" -K "$2" && sync' sh "$N" "$WORK/$pres.curl" ;;
        "aria2c -j $N") once "$tool" "$pres" $check aria2c -q -j "$N" -x 1 --file-allocation=none --allow-overwrite=true \
            --auto-file-renaming=false --console-log-level=error --summary-interval=0 -d "$out" -i "$WORK/$pres.aria2" ;;
        "yt-dlp -N $N") once "$tool" "$pres" no yt-dlp -q -N "$N" --allow-unplayable-formats -o "$out/out.%(ext)s" "$base/manifest.mpd" ;;
        "dash-mpd-cli") once "$tool" "$pres" no dash-mpd-cli --quiet --keep-video -o "$out/out.mp4" "$base/manifest.mpd" ;;
      esac
    done
  done
  for tool in "${tools[@]}"; do report "$tool" "$pres"; done
done

# --- no-op re-run of the small presentation --------------------------------------------------
rm -rf "$out"; mkdir -p "$out"
"$dashget" -q -t "$N" -o "$out" "http://127.0.0.1:$PORT/small/manifest.mpd"
noop_times=()
before=$(requests)
for run in $(seq "$RUNS"); do
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$dashget" -q -t "$N" -o "$out" "http://127.0.0.1:$PORT/small/manifest.mpd"
  read -r t m < "$WORK/time.txt"; noop_times+=("$t")
done
sleep 0.2
after=$(requests)
printf 'no-op re-run (small, manifest by URL)   median %.3f s  runs: %s  requests at nginx: %d in %d runs (the manifest only)\n' \
  "$(printf '%s\n' "${noop_times[@]}" | median)" "${noop_times[*]}" "$((after - before))" "$RUNS" | tee -a "$results"
noop_times=()
before=$(requests)
for run in $(seq "$RUNS"); do
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$dashget" -q -t "$N" -o "$out" "$out/manifest.mpd" \
    --base-url "http://127.0.0.1:$PORT/small/manifest.mpd"
  read -r t m < "$WORK/time.txt"; noop_times+=("$t")
done
sleep 0.2
after=$(requests)
printf 'no-op re-run (small, saved manifest)    median %.3f s  runs: %s  requests at nginx: %d in %d runs\n' \
  "$(printf '%s\n' "${noop_times[@]}" | median)" "${noop_times[*]}" "$((after - before))" "$RUNS" | tee -a "$results"

echo "results in $results" >&2
