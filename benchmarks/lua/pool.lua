-- One body from a file per request, never reused (refresh tokens and authorization codes are
-- single use). Thread i of n takes lines i, i+n, i+2n... A thread that runs out stops; the
-- run's rate then counts only the time until the last thread stopped (CLOCK_MONOTONIC read
-- through LuaJIT's FFI), and the result says the pool ran out.
-- args: file of bodies (one per line), Authorization header value, number of threads
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1

local function now()
  local ts = ffi.new("bench_timespec")
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local threads = {}
local counter = 0
local started = now()

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
  stopped_at = 0
end

function request()
  local body = bodies[nextBody]
  if body == nil then
    if exhausted == 0 then
      exhausted = 1
      stopped_at = now()
    end
    wrk.thread:stop()
    body = bodies[#bodies] or ""
  end
  nextBody = nextBody + 1
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  local exhausted = 0
  local last_stop = 0
  for _, thread in ipairs(threads) do
    if (thread:get("exhausted") or 0) == 1 then
      exhausted = exhausted + 1
      last_stop = math.max(last_stop, thread:get("stopped_at"))
    end
  end
  local duration = summary.duration
  if exhausted == #threads then
    -- every thread ran out: the load ended when the last one did
    duration = math.floor((last_stop - started) * 1e6)
  end
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},"exhausted":%d}\n',
    summary.requests, duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    exhausted))
end
