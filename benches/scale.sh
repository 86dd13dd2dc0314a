#!/usr/bin/env bash
# Scale benchmark: cost against the size of the presentation, dashget beside curl.
#
# Makes, in a scratch folder:
#   p200k: 2 representations x 100,000 media segments of 200 B (+ an init segment each), one
#          SegmentTimeline (`<S t="0" d="1" r="99999"/>`): 200,002 files;
#   p2m:   a manifest of 2 x 1,000,000 segments (planned and listed only).
# serves them with its own nginx on 127.0.0.1 (a free port, its own config in the scratch
# folder), and prints, as a table: time and peak RSS of `dashget -t N` and of
# `curl --parallel --parallel-max N` on the same URLs (the plan's, from `dashget --list --json`),
# each into a fresh folder; the no-op re-run of dashget on the complete folder (time, RSS,
# requests counted in nginx's access log); `dashget --list --json` of the 2M manifest; and the
# journal's size. The last mirror of each tool is compared with the origin, file for file.
#
# Usage: benches/scale.sh [N] [RUNS]     (N = requests in flight, default 4; RUNS default 3)
# Environment: WORK (scratch folder, default a new one under target/), DASHGET (binary; default
# a release build of this tree), H2=1 also runs dashget over HTTPS/HTTP/2 (a self-signed
# certificate made here, trusted with --ca-cert) and curl --http2 against the same nginx.
# FRESH_EXT4=1 (root) puts the content and the outputs on a new ext4 file system made for the
# run in a RAM-backed image (/dev/shm), so that a busy shared disk does not decide the figures.
set -euo pipefail

N=${1:-4}
RUNS=${2:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-$(mktemp -d "$here/target/scale-bench.XXXXXX")}
mkdir -p "$WORK"
chmod 755 "$WORK"   # mktemp makes it 0700; nginx's workers must reach the content
WORK=$(cd "$WORK" && pwd)
www=$WORK/www
out=$WORK/out
cleanup=()
trap 'for c in "${cleanup[@]}"; do eval "$c"; done' EXIT
if [ "${FRESH_EXT4:-0}" = 1 ]; then
  img=/dev/shm/dashget-scale.$$.img
  truncate -s 5G "$img"
  mkfs.ext4 -q -F -i 4096 "$img"   # one inode per 4 KiB: 200k files of the origin + a mirror
  mkdir -p "$WORK/fs"
  mount -o loop "$img" "$WORK/fs"
  cleanup+=("umount '$WORK/fs'; rm -f '$img'")
  www=$WORK/fs/www
  out=$WORK/fs/out
fi

command -v nginx >/dev/null || { echo "nginx is required (apt-get install nginx)" >&2; exit 2; }
command -v curl >/dev/null || { echo "curl is required" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is required (apt-get install time)" >&2; exit 2; }

# --- content -----------------------------------------------------------------------------------
if [ ! -f "$www/p200k/manifest.mpd" ]; then
  echo "making p200k (200,002 files of 200 B) and the 2M manifest" >&2
  python3 - "$www" <<'PY'
import os, sys
www = sys.argv[1]
def manifest(count):
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" profiles="urn:mpeg:dash:profile:isoff-live:2011"
     minBufferTime="PT2S" mediaPresentationDuration="PT{count}S">
  <Period id="0" start="PT0S">
    <AdaptationSet id="0" contentType="video" mimeType="video/mp4" segmentAlignment="true">
      <SegmentTemplate timescale="1" initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/$Time$.m4s">
        <SegmentTimeline><S t="0" d="1" r="{count - 1}"/></SegmentTimeline>
      </SegmentTemplate>
      <Representation id="v1" bandwidth="1600" codecs="avc1.64001e" width="320" height="240"/>
      <Representation id="v2" bandwidth="1600" codecs="avc1.64001e" width="320" height="240"/>
    </AdaptationSet>
  </Period>
</MPD>
'''
p = os.path.join(www, "p200k")
for rep in ("v1", "v2"):
    d = os.path.join(p, rep)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "init.mp4"), "wb") as f:
        f.write(os.urandom(200))
    for t in range(100_000):
        with open(os.path.join(d, f"{t}.m4s"), "wb") as f:
            f.write(os.urandom(200))
with open(os.path.join(p, "manifest.mpd"), "w") as f:
    f.write(manifest(100_000))
os.makedirs(os.path.join(www, "p2m"), exist_ok=True)
with open(os.path.join(www, "p2m", "manifest.mpd"), "w") as f:
    f.write(manifest(1_000_000))
PY
fi

# --- nginx on a free port ----------------------------------------------------------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TLS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$WORK/nginx/logs" "$WORK/nginx/tmp"
if [ ! -f "$WORK/nginx/cert.pem" ]; then
  # A CA of the benchmark's own (cert.pem, given to --ca-cert / --cacert) and nginx's
  # certificate for 127.0.0.1 signed by it.
  (cd "$WORK/nginx" &&
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=scale bench CA" \
      -keyout ca-key.pem -out cert.pem &&
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout key.pem -out server.csr &&
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > server.ext &&
    openssl x509 -req -in server.csr -CA cert.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
      -extfile server.ext -out server.pem) 2>/dev/null
fi
. "$here/benches/nginx.sh"
write_nginx_conf "$WORK/nginx" "$www" "$PORT" "  server {
    listen 127.0.0.1:$TLS_PORT ssl http2;
    ssl_certificate $WORK/nginx/server.pem;
    ssl_certificate_key $WORK/nginx/key.pem;
    root $www;
  }"
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
nginx_pid=$!
cleanup=("kill $nginx_pid 2>/dev/null || true; sleep 0.5" "${cleanup[@]}")
for _ in $(seq 50); do curl -fso /dev/null "http://127.0.0.1:$PORT/p200k/manifest.mpd" && break; sleep 0.1; done
requests() { wc -l < "$WORK/nginx/logs/access.log"; }

# --- dashget -------------------------------------------------------------------------------------
if [ -z "${DASHGET:-}" ]; then
  (cd "$here" && cargo build --release --quiet --bin dashget)
  DASHGET=$here/target/release/dashget
fi

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
results=$WORK/results.txt
: > "$results"
row() { printf '| %-58s | %8s | %8s | %s\n' "$@" | tee -a "$results"; }

# once KEY CMD...: one run into a fresh $out; appends "seconds rss_kb" to $WORK/runs/KEY.
once() {
  local key=$1; shift
  rm -rf "$out"; mkdir -p "$out" "$WORK/runs"; sync; sleep 1
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/stderr.txt" \
    || { echo "$key failed:" >&2; tail -3 "$WORK/stderr.txt" >&2; }
  cat "$WORK/time.txt" >> "$WORK/runs/$key"
}

# report KEY NAME: a row with the median time and median peak RSS of KEY's runs.
report() {
  local file=$WORK/runs/$1
  row "$2" "$(cut -d' ' -f1 "$file" | median) s" \
    "$(echo "$(cut -d' ' -f2 "$file" | median) / 1024" | bc -l | xargs printf '%.1f') MB" \
    "runs: $(cut -d' ' -f1 "$file" | tr '\n' ' ')"
}

same_tree() {
  if diff -rq --exclude=.dashget --exclude='*.mpd' "$www/p200k" "$out" >/dev/null; then
    echo "  $1: every file identical to the origin" | tee -a "$results"
  else
    echo "  $1: DIFFERS from the origin" | tee -a "$results"
  fi
}

base=http://127.0.0.1:$PORT/p200k
"$DASHGET" --list --json "$base/manifest.mpd" | python3 -c '
import json, sys
for line in sys.stdin:
    s = json.loads(line)
    print(s["url"], s["path"])
' > "$WORK/p200k.urls"
awk -v o="$out" '{print "url = \"" $1 "\"\noutput = \"" o "/" $2 "\""}' "$WORK/p200k.urls" > "$WORK/p200k.curl"

echo "| work (N=$N, median of $RUNS) | time | peak RSS | |" | tee -a "$results"
echo "|---|---:|---:|---|" | tee -a "$results"
rm -rf "$WORK/runs"
# The tools take turns, run by run, so that a change of load on the machine hits both alike.
for run in $(seq "$RUNS"); do
  once dashget "$DASHGET" -q -t "$N" -o "$out" "$base/manifest.mpd"
  [ "$run" = "$RUNS" ] && same_tree dashget
  once curl curl -s --fail --create-dirs --parallel --parallel-max "$N" -K "$WORK/p200k.curl"
done
report dashget "dashget -t $N: 200,002 files of 200 B"
report curl "curl --parallel --parallel-max $N: the same URLs"
same_tree curl

# No-op re-run on the complete folder: the manifest is fetched again, nothing else.
rm -rf "$out"; mkdir -p "$out"
"$DASHGET" -q -t "$N" -o "$out" "$base/manifest.mpd"
noop=() noop_rss=()
before=$(requests)
for _ in $(seq "$RUNS"); do
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$DASHGET" -q -t "$N" -o "$out" "$base/manifest.mpd"
  read -r t m < "$WORK/time.txt"; noop+=("$t"); noop_rss+=("$m")
done
sleep 0.3
after=$(requests)
row "no-op re-run of the 200k download" "$(printf '%s\n' "${noop[@]}" | median) s" \
  "$(echo "$(printf '%s\n' "${noop_rss[@]}" | median) / 1024" | bc -l | xargs printf '%.1f') MB" \
  "requests at nginx: $((after - before)) in $RUNS runs (the manifest only)"
journal=$(stat -c %s "$out/.dashget/journal.bin")
echo "  journal: $journal bytes, $(echo "$journal / 200002" | bc -l | xargs printf '%.1f') B a file" | tee -a "$results"

lists=() list_rss=()
for _ in $(seq "$RUNS"); do
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$DASHGET" --list --json "http://127.0.0.1:$PORT/p2m/manifest.mpd" > "$WORK/list.out"
  read -r t m < "$WORK/time.txt"; lists+=("$t"); list_rss+=("$m")
done
row "--list --json of 2,000,002 segments" "$(printf '%s\n' "${lists[@]}" | median) s" \
  "$(echo "$(printf '%s\n' "${list_rss[@]}" | median) / 1024" | bc -l | xargs printf '%.1f') MB" \
  "$(wc -l < "$WORK/list.out") lines"

if [ "${H2:-0}" = 1 ]; then
  tls=https://127.0.0.1:$TLS_PORT/p200k
  sed "s#http://127.0.0.1:$PORT#https://127.0.0.1:$TLS_PORT#" "$WORK/p200k.curl" > "$WORK/p200k-tls.curl"
  ca=$WORK/nginx/cert.pem
  for _ in $(seq "$RUNS"); do
    once h2-dashget "$DASHGET" -q -t "$N" --ca-cert "$ca" -o "$out" "$tls/manifest.mpd"
    once h2-dashget-1 "$DASHGET" -q -t 1 --ca-cert "$ca" -o "$out" "$tls/manifest.mpd"
    once h2-curl curl -s --fail --http2 --cacert "$ca" --create-dirs --parallel --parallel-max "$N" -K "$WORK/p200k-tls.curl"
  done
  report h2-dashget "dashget -t $N over HTTPS (HTTP/2)"
  report h2-dashget-1 "dashget -t 1 over HTTPS (HTTP/2)"
  report h2-curl "curl --http2 --parallel --parallel-max $N over HTTPS"
fi
echo "results in $results" >&2
