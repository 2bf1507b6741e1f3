-- wrk script for bench/run. Configured through the environment, so one script serves
-- every scenario:
--   BENCH_METHOD    GET (default) or POST
--   BENCH_HEADERS   "Name: value" lines separated by "\n"
--   BENCH_BODY      request body (optional)
--   BENCH_KEYS_FILE one API key per line; each request sends the next one as X-API-Key
--                   (used to defeat the server's key cache and reach the database)
--   BENCH_PATH      path + query, needed with BENCH_KEYS_FILE
-- done() prints one machine-readable line, BENCH_RESULT k=v ..., that bench.py parses.

wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
if body and body ~= "" then wrk.body = body end
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then wrk.headers[name] = value end
end

local keys_file = os.getenv("BENCH_KEYS_FILE")
if keys_file and keys_file ~= "" then
  local keys = {}
  for key in io.lines(keys_file) do
    if key ~= "" then keys[#keys + 1] = key end
  end
  local path = os.getenv("BENCH_PATH") or "/"
  local next_index = 1
  local counter = 0

  function setup(thread)
    counter = counter + 1
    thread:set("thread_no", counter)
  end

  function init(args)
    -- threads start at different offsets so they do not send the same key at once
    next_index = ((thread_no or 1) - 1) * math.floor(#keys / 2) % #keys + 1
  end

  function request()
    local key = keys[next_index]
    next_index = next_index % #keys + 1
    return wrk.format(nil, path, { ["X-API-Key"] = key })
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
