-- POST /api/v1/bookings with a bearer token. Every request asks for a different one-hour slot:
-- request n of thread t takes slot s = n * threads + t, i.e. space ids[s % #ids] at hour
-- floor(s / #ids) after `base`, so no two requests of a run ever overlap and a fresh database
-- answers 201 to each. args = token, base (Unix seconds, UTC), thread count, space ids...

local token, base, nthreads
local spaces = {}
local counter = 0

function init(args)
  token, base, nthreads = args[1], tonumber(args[2]), tonumber(args[3])
  for i = 4, #args do
    table.insert(spaces, tonumber(args[i]))
  end
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
end

local function iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", t)
end

function request()
  local slot = counter * nthreads + id
  counter = counter + 1
  local space = spaces[(slot % #spaces) + 1]
  local start = base + math.floor(slot / #spaces) * 3600
  local body = string.format(
    '{"space_id": %d, "start": "%s", "end": "%s", "purpose": "bench: wrk booking", '
      .. '"attendees": 2}',
    space, iso(start), iso(start + 3600))
  return wrk.format("POST", "/api/v1/bookings", nil, body)
end
