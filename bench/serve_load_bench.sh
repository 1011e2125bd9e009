#!/usr/bin/env bash
# `loom serve` under load: wrk POSTs /v1/generate on loopback at several
# times --max-concurrent for a bounded time, and the script records
# requests/s, latency percentiles, replies by status (200; 503 with
# Retry-After and the JSON error body; anything else), the server's RSS
# (VmRSS, polled), how long /v1/health takes to answer meanwhile, and
# whether the server is alive and healthy after. The last case adds a slow
# reader (a streaming generation whose client never reads) and a silent
# client (a connection that sends nothing) beside the load.
#
#   bench/serve_load_bench.sh [BUILD_DIR] [MULTIPLE...]      default: build 4 16
#
# Settings from the environment: MAX_CONCURRENT (2), LOAD_SECONDS (25),
# WARMUP_SECONDS (5), TOKENS (16 per request), WRITE_TIMEOUT (5 s, the
# server's --write-timeout), WRK_THREADS (2). The tiny run it serves (a
# 2-layer, 32-wide GPT trained for 12 steps, a few seconds) and the logs go
# to $LOOM_BENCH_DIR/serve-load (default /tmp/loom-bench/serve-load).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-build}
shift || true
[[ $build = /* ]] || build="$repo/$build"
multiples=("$@")
((${#multiples[@]})) || multiples=(4 16)
max_concurrent=${MAX_CONCURRENT:-2}
load_seconds=${LOAD_SECONDS:-25}
warmup_seconds=${WARMUP_SECONDS:-5}
tokens=${TOKENS:-16}
write_timeout=${WRITE_TIMEOUT:-5}
wrk_threads=${WRK_THREADS:-2}
loom="$build/src/loom"
work=${LOOM_BENCH_DIR:-/tmp/loom-bench}/serve-load
[[ -x $loom ]] || { echo "bench: $loom is missing (build the loom target)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench: curl is missing" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"

server=
background=()
cleanup() {
  local pid
  for pid in "${background[@]}" $server; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT

"$repo/tests/serve/train_tiny_run.sh" "$loom" "$work"

"$loom" serve "$work/runs/tiny" --port 0 --threads 1 --max-concurrent "$max_concurrent" \
  --max-tokens 100000 --write-timeout "$write_timeout" >"$work/serve.out" 2>"$work/serve.err" &
server=$!
port=
for _ in $(seq 600); do
  port=$(sed -n 's|.*at http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$work/serve.out")
  [[ -n $port ]] && break
  kill -0 "$server" 2>/dev/null || break
  sleep 0.1
done
[[ -n $port ]] || { echo "bench: loom serve did not start:" >&2; cat "$work/serve.err" >&2; exit 1; }
url="http://127.0.0.1:$port"
body="{\"prompt\": \"the king\", \"max_tokens\": $tokens}"

rss_mb() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$server/status"; }

# Polls the server's RSS every 0.5 s into $1 until killed.
poll_rss() {
  while kill -0 "$server" 2>/dev/null; do
    rss_mb >>"$1"
    echo >>"$1"
    sleep 0.5
  done
}

# Asks /v1/health every 0.5 s until killed; one line per answer:
# "HTTP-STATUS SECONDS" (000 when none came within 10 s).
poll_health() {
  while true; do
    curl -s -o /dev/null --max-time 10 -w '%{http_code} %{time_total}\n' "$url/v1/health" >>"$1" ||
      true
    sleep 0.5
  done
}

# A streaming generation whose client reads nothing for $1 seconds, and a
# connection that sends nothing for $1 seconds (tests/serve/misbehaving_client.py).
# Its key=value pairs come back prefixed: slow_reader_dropped=1, ...
slow_reader() {
  "$repo/tests/serve/misbehaving_client.py" slow-reader "$port" "$1" | sed 's/\([a-z]*=\)/slow_reader_\1/g'
}
silent_client() {
  "$repo/tests/serve/misbehaving_client.py" silent "$port" "$1" | sed 's/\([a-z]*=\)/silent_client_\1/g'
}

# One wrk run at `connections` for `seconds`; its key=value line on stdout.
load() {
  LOOM_LOAD_BODY=$body wrk -t"$wrk_threads" -c"$1" -d"$2"s --timeout 10s \
    -s "$repo/bench/serve_load.lua" "$url/v1/generate" | grep '^requests='
}

value() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

echo "machine: $(nproc) cores, $(uname -r); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "loom serve --max-concurrent $max_concurrent --threads 1 --write-timeout $write_timeout;" \
  "each request $tokens tokens; wrk -t$wrk_threads, ${load_seconds} s a case"
load "$max_concurrent" "$warmup_seconds" >"$work/warmup.txt"
rss_before=$(rss_mb)

rows=()
cases=()
for multiple in "${multiples[@]}"; do cases+=("$multiple:"); done
cases+=("${multiples[-1]}:slow")
for entry in "${cases[@]}"; do
  multiple=${entry%%:*}
  extra=${entry#*:}
  connections=$((multiple * max_concurrent))
  : >"$work/rss.txt"
  : >"$work/health.txt"
  poll_rss "$work/rss.txt" &
  rss_pid=$!
  poll_health "$work/health.txt" &
  health_pid=$!
  background+=("$rss_pid" "$health_pid")
  side=
  if [[ $extra = slow ]]; then
    slow_reader "$load_seconds" >"$work/slow.txt" &
    slow_pid=$!
    silent_client "$load_seconds" >"$work/silent.txt" &
    silent_pid=$!
    background+=("$slow_pid" "$silent_pid")
    sleep 1  # both in place before the load starts
  fi
  result=$(load "$connections" "$load_seconds")
  if [[ $extra = slow ]]; then
    # Each ends on its own, a few seconds after the load.
    wait "$slow_pid" "$silent_pid" || true
    side="$(cat "$work/slow.txt") $(cat "$work/silent.txt")"
  fi
  kill "$rss_pid" "$health_pid" 2>/dev/null || true
  wait "$rss_pid" "$health_pid" 2>/dev/null || true
  mapfile -t rss < <(grep . "$work/rss.txt")
  health_max=$(awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { printf "%.2f", m }' "$work/health.txt")
  health_bad=$(awk '$1 != 200 { n++ } END { print n + 0 }' "$work/health.txt")
  label="${multiple}x ($connections conns)"
  [[ $extra = slow ]] && label="$label + slow reader + silent client"
  errors=$(($(value connect_errors "$result") + $(value read_errors "$result") + \
    $(value write_errors "$result") + $(value timeouts "$result")))
  rows+=("$(printf '%-46s %8s %7s %7s %6s %7s %7s %8s %7s %11s %22s' "$label" \
    "$(value rps "$result")" "$(value ok "$result")" "$(value busy "$result")" \
    "$(($(value busy_malformed "$result") + $(value other "$result")))" \
    "$(value p50_ms "$result")" "$(value p99_ms "$result")" "$(value max_ms "$result")" \
    "$errors" "$health_max/$health_bad" \
    "${rss[0]:-?} ${rss[${#rss[@]} / 2]:-?} ${rss[-1]:-?}")")
  [[ -z $side ]] || rows+=("    $side")
done

printf '%-46s %8s %7s %7s %6s %7s %7s %8s %7s %11s %22s\n' case "req/s" 200 "503" wrong \
  "p50 ms" "p99 ms" "max ms" "sockerr" "health s/bad" "RSS MB start mid end"
printf '%s\n' "${rows[@]}"
health=$(curl -s --max-time 10 "$url/v1/health" || echo "no answer")
alive=no
kill -0 "$server" 2>/dev/null && alive=yes
echo "RSS after warm-up ${rss_before} MB, at the end $(rss_mb) MB; server alive: $alive;" \
  "/v1/health after: $health"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
