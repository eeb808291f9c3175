-- GET a path for a random space id: args = first id, last id, path with %d (e.g.
-- /api/v1/spaces/%d/availability).

local first, last, path

function init(args)
  first, last, path = tonumber(args[1]), tonumber(args[2]), args[3]
  math.randomseed(os.time() * 1000 + id)
end

function request()
  return wrk.format("GET", string.format(path, math.random(first, last)))
end
