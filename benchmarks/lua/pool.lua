-- One body from a file per request, never reused (refresh tokens, authorization codes are
-- single use). Thread i of n takes lines i, i+n, i+2n... A thread that runs out stops and says so.
-- args: file of bodies (one per line), Authorization header value, number of threads
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local n = tonumber(args[3])
  bodies = {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % n == id then
      bodies[#bodies + 1] = line
    end
    i = i + 1
  end
  headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = args[2],
    ["Host"] = wrk.headers["Host"],
  }
  path = wrk.path
  nextBody = 1
  exhausted = 0
end

function request()
  local body = bodies[nextBody]
  if body == nil then
    exhausted = 1
    wrk.thread:stop()
    body = bodies[#bodies] or ""
  end
  nextBody = nextBody + 1
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  local exhausted = 0
  for _, thread in ipairs(threads) do
    exhausted = exhausted + (thread:get("exhausted") or 0)
  end
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},"exhausted":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    exhausted))
end
