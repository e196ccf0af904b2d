-- wrk script: complete applications through the JSON API. Every connection takes an application
-- from start through every step of the dog-tax assistant to the submit (durable, with the signed
-- receipt), then starts the next one. wrk measures each request; the application's own duration
-- (start to submit) comes from the server's timestamps in the submit answer.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

local tenant = os.getenv("LOTSE_LOAD_TENANT") or "heinsberg"
local base = "/api/v1/tenants/" .. tenant
local json = { ["Content-Type"] = "application/json" }
local answers = {
  halter = [[{"halter":{"anrede":"Frau","vorname":"Anna","nachname":"Schmitz","geburtsdatum":"1985-04-12"},"anschrift":{"strasse":"Valkenburger Straße","hausnummer":"45","plz":"52525","ort":"Heinsberg"},"kontakt":{"email":"anna@example.org"}}]],
  hunde = [[{"hunde":[{"name":"Bello","rasse":"Labrador","geburtsdatum":"2022-03-01","kategorie":"normal"}]}]],
  beginn = [[{"haltungsbeginn":"2026-11-01","zuzug":"nein"}]],
  ermaessigung = [[{"ermaessigung":"nein"}]],
  zahlung = [[{"lastschrift":"nein"}]],
}
-- Applications whose last answer has arrived: { id, revision, step or "review" }.
local ready = {}

function init(args)
  completed, failed, durations = 0, 0, {}
end

local function secs(ts)
  local h, m, s = ts:match("T(%d+):(%d+):([%d%.]+)")
  return tonumber(h) * 3600 + tonumber(m) * 60 + tonumber(s)
end

function request()
  local app = table.remove(ready)
  if not app then
    return wrk.format("POST", base .. "/services/hundesteuer-anmeldung/applications", json, "{}")
  end
  local path = base .. "/applications/" .. app.id
  if app.at == "review" then
    return wrk.format("POST", path .. "/submit", json,
      '{"revision":' .. app.rev .. ',"declaration":["richtig"]}')
  end
  return wrk.format("PUT", path .. "/steps/" .. app.at, json,
    '{"revision":' .. app.rev .. ',"values":' .. answers[app.at] .. '}')
end

function response(status, headers, body)
  if status == 201 and body:find('"reference"', 1, true) then
    completed = completed + 1
    local started, submitted = body:match('"started":"([^"]+)"'), body:match('"submitted":"([^"]+)"')
    if started and submitted then
      table.insert(durations, (secs(submitted) - secs(started)) * 1000)
    end
    return
  end
  if status ~= 200 and status ~= 201 then
    failed = failed + 1
    return
  end
  local id = body:match('"id":"(%x+)"')
  local rev = tonumber(body:match('"revision":(%d+)'))
  local at = body:match('"position":"review"') and "review" or body:match('"step":{"id":"([^"]+)"')
  if id and rev and at then table.insert(ready, { id = id, rev = rev, at = at }) end
end

function done(summary, latency, requests)
  local total, bad, all = 0, 0, {}
  for _, t in ipairs(threads) do
    total = total + t:get("completed")
    bad = bad + t:get("failed")
    local d = t:get("durations")
    for i = 1, #d do table.insert(all, d[i]) end
  end
  table.sort(all)
  local function pct(p) if #all == 0 then return 0 end return all[math.max(1, math.ceil(#all * p / 100))] end
  local secs_run = summary.duration / 1e6
  io.write(string.format("applications/s: %.0f  (%d complete in %.1f s)  requests/s: %.0f\n",
    total / secs_run, total, secs_run, summary.requests / secs_run))
  io.write(string.format("per request: p50 %.2f ms  p90 %.2f ms  p99 %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000))
  io.write(string.format("per application (start to submit): p50 %.1f ms  p99 %.1f ms\n", pct(50), pct(99)))
  io.write(string.format("failed requests: %d  socket errors: %d\n", bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
