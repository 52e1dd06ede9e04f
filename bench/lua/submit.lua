-- wrk script for the signing benchmark's submissions (run by bench/signing.py).
--
-- wrk -t C -c C: one connection per thread, so each response answers the request the
-- thread sent last; the thread logs its email to <outdir>/<tag>-<thread>.log as accepted
-- ("+ email") or not ("<status> email"). A request still unanswered when wrk stops (or
-- when its connection broke) is reported as unknown: the server may or may not have
-- stored it. Arguments: tag, path, csrf secret, outdir.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- French postcodes over every metropolitan département and four overseas ones.
local departements = {}
for d = 1, 95 do
  if d ~= 20 then table.insert(departements, string.format("%02d", d)) end
end
for _, d in ipairs({ "971", "972", "973", "974" }) do table.insert(departements, d) end

local function postcode(n)
  local d = departements[(tid * 7919 + n) % #departements + 1]
  if #d == 2 then return d .. string.format("%03d", (n * 37) % 1000) end
  return d .. string.format("%02d", (n * 37) % 100)
end

function init(args)
  tag, path, csrf, outdir = args[1], args[2], args[3], args[4]
  n, accepted, refused, unknown = 0, 0, 0, 0
  sent = nil
  -- wrk calls request() once on thread 0 to check the script, and never sends that one.
  verifying = (tid == 0)
  log = io.open(string.format("%s/%s-%d.log", outdir, tag, tid), "w")
  log:setvbuf("full")
  headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. csrf,
  }
end

function request()
  if verifying then
    verifying = false
    return wrk.format("POST", path, headers, "")
  end
  if sent ~= nil then
    -- The previous request got no response (its connection broke): outcome unknown.
    unknown = unknown + 1
    log:write("? ", sent, "\n")
  end
  n = n + 1
  sent = string.format("bench-%s-%d-%d@example.org", tag, tid, n)
  local body = string.format(
    "name=Bench+Signer+%d-%d&email=%s&country=FR&postcode=%s&declaration=on%s%s"
      .. "&csrfmiddlewaretoken=%s",
    tid, n, (sent:gsub("@", "%%40")), postcode(n),
    (n % 3 == 0) and "&wants_updates=on" or "",
    (n % 2 == 0) and "&listed_publicly=on" or "",
    csrf
  )
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  if sent == nil then return end
  if status == 303 then
    accepted = accepted + 1
    log:write("+ ", sent, "\n")
  else
    refused = refused + 1
    log:write(status, " ", sent, "\n")
  end
  sent = nil
  if (accepted + refused) % 200 == 0 then log:flush() end
end

function done(summary, latency, requests)
  local acc, ref, unk = 0, 0, 0
  local pending = {}
  for _, t in ipairs(threads) do
    acc = acc + t:get("accepted")
    ref = ref + t:get("refused")
    unk = unk + t:get("unknown")
    local last = t:get("sent")
    if last ~= nil then table.insert(pending, last) end
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d accepted=%d refused=%d unknown=%d in_flight=%d "
      .. "connect=%d read=%d write=%d status=%d timeout=%d "
      .. "p50_us=%d p95_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, acc, ref, unk, #pending,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max
  ))
  for _, email in ipairs(pending) do io.write("BENCH_IN_FLIGHT ", email, "\n") end
end
