-- wrk script: step answers through the JSON API. Each thread answers the first step of its own
-- share of prepared applications in turn, with the revision the last answer returned, so that
-- no answer is stale (a 409 would show as a non-2xx response in wrk's summary).
-- Prepared by scripts/load/run.sh: LOTSE_LOAD_IDS names a file with "<id> <revision>" lines.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

local ids, rev, next_i = {}, {}, 1
local tenant = os.getenv("LOTSE_LOAD_TENANT") or "heinsberg"
local body_of = [[{"halter":{"anrede":"Frau","vorname":"Anna","nachname":"Schmitz","geburtsdatum":"1985-04-12"},"anschrift":{"strasse":"Valkenburger Straße","hausnummer":"45","plz":"52525","ort":"Heinsberg"},"kontakt":{"email":"anna@example.org"}}]]

function init(args)
  local n = tonumber(os.getenv("LOTSE_LOAD_THREADS") or "2")
  local k = 0
  for line in io.lines(os.getenv("LOTSE_LOAD_IDS")) do
    local id, r = line:match("^(%x+) (%d+)$")
    if id and k % n == tid then
      table.insert(ids, id)
      rev[id] = tonumber(r)
    end
    k = k + 1
  end
  rejected = 0
end

function request()
  local id = ids[next_i]
  next_i = next_i % #ids + 1
  return wrk.format("PUT", "/api/v1/tenants/" .. tenant .. "/applications/" .. id .. "/steps/halter",
    { ["Content-Type"] = "application/json" },
    '{"revision":' .. rev[id] .. ',"values":' .. body_of .. '}')
end

function response(status, headers, body)
  if status == 200 then
    local id = body:match('"id":"(%x+)"')
    local r = body:match('"revision":(%d+)')
    if id and r then rev[id] = tonumber(r) end
  else
    rejected = rejected + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (t:get("rejected") or 0) end
  io.write(string.format("answers/s: %.0f  p50: %.2f ms  p90: %.2f ms  p99: %.2f ms  non-200: %d  socket errors: %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    bad, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
