-- wrk script: each connection sends DEPTH requests for "/" in one write (HTTP/1.1 pipelining,
-- as in TechEmpower's plaintext test) and wrk counts every response. Usage: -s pipeline.lua -- DEPTH
init = function(args)
  local depth = tonumber(args[1]) or 16
  local batch = {}
  for i = 1, depth do batch[i] = wrk.format(nil, wrk.path) end
  pipelined = table.concat(batch)
end

request = function()
  return pipelined
end
