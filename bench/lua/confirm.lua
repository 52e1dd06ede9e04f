-- wrk script for the signing benchmark's confirmations (run by bench/signing.py).
--
-- Each of the -t threads (one connection each) confirms every -t-th token of the token
-- file in turn with GET /petitions/signatures/<token>/confirm/, and stops when its share
-- is done. Arguments: token file, number of threads, a cheap path to send while stopping.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  idle_path = args[3]
  tokens = {}
  local i = 0
  for line in io.lines(file) do
    if i % nthreads == tid then table.insert(tokens, line) end
    i = i + 1
  end
  index, ok, failed, sent = 0, 0, 0, false
  -- wrk calls request() once on thread 0 to check the script, and never sends that one.
  verifying = (tid == 0)
end

function request()
  if verifying then
    verifying = false
    return wrk.format("GET", idle_path)
  end
  index = index + 1
  if index > #tokens then
    -- This thread's share is done: stop, and send something harmless meanwhile.
    wrk.thread:stop()
    sent = false
    return wrk.format("GET", idle_path)
  end
  sent = true
  return wrk.format("GET", "/petitions/signatures/" .. tokens[index] .. "/confirm/")
end

function response(status, headers, body)
  if not sent then return end
  if status == 200 then ok = ok + 1 else failed = failed + 1 end
  sent = false
end

function done(summary, latency, requests)
  local total_ok, total_failed = 0, 0
  for _, t in ipairs(threads) do
    total_ok = total_ok + t:get("ok")
    total_failed = total_failed + t:get("failed")
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d ok=%d failed=%d connect=%d read=%d write=%d "
      .. "status=%d timeout=%d p50_us=%d p95_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, total_ok, total_failed,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max
  ))
end
