-- wrk script for `loom serve` under load (bench/serve_load_bench.sh and
-- tests/serve/serve_load_test.sh): every connection POSTs the same
-- /v1/generate body, and the replies are counted by status. A 503 counts
-- as "busy" only when it carries Retry-After and the JSON error body the
-- API documents; any other 503, and any status but 200 and 503, count as
-- wrong. The body comes from LOOM_LOAD_BODY when set.
--
-- At the end it prints one line of key=value pairs, read by the scripts:
--   requests= seconds= rps= ok= busy= busy_malformed= other= p50_ms= p90_ms=
--   p99_ms= max_ms= connect_errors= read_errors= write_errors= timeouts=
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("LOOM_LOAD_BODY") or '{"prompt": "the king", "max_tokens": 16}'

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok, busy, busy_malformed, other = 0, 0, 0, 0
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  elseif status == 503 then
    local retry = headers["Retry-After"] or headers["retry-after"]
    if retry ~= nil and body:find('^{"error":') ~= nil then
      busy = busy + 1
    else
      busy_malformed = busy_malformed + 1
    end
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local totals = { ok = 0, busy = 0, busy_malformed = 0, other = 0 }
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do
      totals[key] = totals[key] + thread:get(key)
    end
  end
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    "requests=%d seconds=%.1f rps=%.1f ok=%d busy=%d busy_malformed=%d other=%d " ..
    "p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f " ..
    "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
    summary.requests, seconds, summary.requests / seconds, totals.ok, totals.busy,
    totals.busy_malformed, totals.other, latency:percentile(50) / 1e3,
    latency:percentile(90) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
    errors.connect, errors.read, errors.write, errors.timeout))
end
