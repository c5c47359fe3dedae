-- wrk -t1 -s benchmarks/person.lua URL -- REQUESTS_FILE
-- Sends the raw HTTP requests of REQUESTS_FILE (written by benchmarks/person.py: returning
-- people's page views with their assets, interleaved round-robin) in order, starting again at
-- the top when it runs out. No response() callback: wrk parses nothing more than without one.
local requests = {}
local next_index = 0

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local text = file:read("*a")
  file:close()
  for request in text:gmatch("(.-\r\n\r\n)") do
    requests[#requests + 1] = request
  end
  assert(#requests > 0, "no requests in " .. args[1])
end

function request()
  next_index = next_index % #requests + 1
  return requests[next_index]
end
