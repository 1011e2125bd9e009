#!/usr/bin/env bash
# `loom serve` under load: wrk at 8x --max-concurrent on loopback for 10 s
# (bench/serve_load.lua counts the replies), beside a slow reader (a
# streaming generation whose client never reads) and a silent client (a
# connection that sends nothing). The server must survive; every reply be
# a 200 or a 503 with Retry-After and the JSON error body, some of each; no
# socket errors or timeouts; /v1/health answer 200 within 5 s all along;
# the slow reader be dropped after --write-timeout and the silent client
# after httplib's read timeout, freeing what they held; RSS after the load
# be within 20 MB of RSS after a warm-up; and SIGTERM stop it with exit 0.
# Skips (77) without wrk, curl or python3. ~25-35 s.
#
#   tests/serve/serve_load_test.sh SOURCE_DIR LOOM_BINARY
set -euo pipefail

source_dir=${1:?source dir}
loom=${2:?loom binary}
for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (scripts/install-deps.sh)"; exit 77; }
done

work=$(mktemp -d /tmp/loom-serve-load.XXXXXX)
server=
helpers=()
cleanup() {
  local pid
  for pid in "${helpers[@]}" $server; do
    kill -9 "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- server stderr:" >&2
  tail -20 "$work/serve.err" >&2 || true
  exit 1
}

"$source_dir/tests/serve/train_tiny_run.sh" "$loom" "$work" || fail "the tiny run did not train"

max_concurrent=2
"$loom" serve "$work/runs/tiny" --port 0 --threads 1 --max-concurrent "$max_concurrent" \
  --max-tokens 100000 --write-timeout 3 >"$work/serve.out" 2>"$work/serve.err" &
server=$!
port=
deadline=$((SECONDS + 60))
while [[ -z $port ]] && ((SECONDS < deadline)) && kill -0 "$server" 2>/dev/null; do
  port=$(sed -n 's|.*at http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$work/serve.out")
  [[ -n $port ]] || sleep 0.05
done
[[ -n $port ]] || fail "loom serve printed no address within 60 s"
url="http://127.0.0.1:$port"

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$server/status"; }
load() {
  wrk -t2 -c"$1" -d"$2"s --timeout 10s -s "$source_dir/bench/serve_load.lua" \
    "$url/v1/generate" >"$work/wrk.out" 2>&1 || fail "wrk: $(cat "$work/wrk.out")"
  grep '^requests=' "$work/wrk.out" || fail "wrk printed no summary: $(cat "$work/wrk.out")"
}
value() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

# Warm-up: the first generations on each thread allocate what later ones reuse.
load "$max_concurrent" 3 >/dev/null
rss_before=$(rss_kb)

# 100,000 tokens streamed to a client with a 4 KB receive buffer that reads
# nothing for 12 s: once the buffers are full the server's write blocks,
# and after --write-timeout (3 s) it drops the client and frees the slot.
"$source_dir/tests/serve/misbehaving_client.py" slow-reader "$port" 12 >"$work/slow.txt" 2>&1 &
helpers+=($!)
slow=$!
# A connection that sends nothing: httplib's read timeout (5 s) ends it.
"$source_dir/tests/serve/misbehaving_client.py" silent "$port" 15 >"$work/silent.txt" 2>&1 &
helpers+=($!)
silent=$!
# /v1/health every 0.2 s through the load: "STATUS SECONDS" per probe.
(
  while true; do
    curl -s -o /dev/null --max-time 5 -w '%{http_code} %{time_total}\n' "$url/v1/health" || true
    sleep 0.2
  done
) >"$work/health.txt" &
helpers+=($!)
prober=$!

result=$(load $((8 * max_concurrent)) 10)
echo "8x --max-concurrent for 10 s: $result"
kill "$prober"
wait "$slow" "$silent" || true
kill -0 "$server" 2>/dev/null || fail "the server died under load"

[[ $(value ok "$result") -gt 0 ]] || fail "no 200 under load: $result"
[[ $(value busy "$result") -gt 0 ]] || fail "no 503 beyond the limit: $result"
[[ $(value busy_malformed "$result") -eq 0 ]] || fail "503s without Retry-After or JSON: $result"
[[ $(value other "$result") -eq 0 ]] || fail "statuses other than 200 and 503: $result"
for errors in connect_errors read_errors write_errors timeouts; do
  [[ $(value "$errors" "$result") -eq 0 ]] || fail "$errors under load: $result"
done
probes=$(wc -l <"$work/health.txt")
[[ $probes -ge 10 ]] || fail "only $probes health probes in 10 s"
awk '$1 != 200 { exit 1 }' "$work/health.txt" ||
  fail "/v1/health did not answer 200 within 5 s under load: $(grep -v '^200' "$work/health.txt" | head -3)"
echo "/v1/health under load: $probes probes, slowest $(sort -k2 -n "$work/health.txt" | tail -1 | cut -d' ' -f2) s"
grep -q 'dropped=1' "$work/slow.txt" || fail "the slow reader was not dropped: $(cat "$work/slow.txt")"
grep -q 'dropped=1' "$work/silent.txt" || fail "the silent client was not dropped: $(cat "$work/silent.txt")"

rss_after=$(rss_kb)
growth=$(((rss_after - rss_before) / 1024))
echo "RSS after warm-up $((rss_before / 1024)) MB, after the load $((rss_after / 1024)) MB"
((growth < 20)) || fail "RSS grew by $growth MB under load"

# Everything the load held is given back.
health=
deadline=$((SECONDS + 10))
while ((SECONDS < deadline)); do
  health=$(curl -s --max-time 5 "$url/v1/health" || true)
  [[ $health = '{"generations_running":0,"max_concurrent":2,"status":"ok"}' ]] && break
  sleep 0.1
done
[[ $health = '{"generations_running":0,"max_concurrent":2,"status":"ok"}' ]] ||
  fail "/v1/health after the load: '$health'"

kill -TERM "$server"
status=0
wait "$server" || status=$?
server=
[[ $status -eq 0 ]] || fail "loom serve ended with $status on SIGTERM"
echo "PASS"
