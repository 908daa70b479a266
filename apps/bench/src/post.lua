-- wrk script: every request is a POST carrying SIZE bytes (a fixed ASCII pattern) with its
-- Content-Length, on the connection's keep-alive. Usage: -s post.lua URL -- SIZE
init = function(args)
  local size = tonumber(args[1]) or 65536
  local pattern = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
  wrk.method = "POST"
  wrk.body = string.rep(pattern, math.ceil(size / #pattern)):sub(1, size)
  wrk.headers["Content-Type"] = "application/octet-stream"
end
