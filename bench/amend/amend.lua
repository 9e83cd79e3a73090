-- wrk script for amend_bench.py: set_quantity amendments, each with the order's current If-Match.
--
--   wrk -t C -c C -d S -s bench/amend/amend.lua URL -- ORDERS_FILE STATE_FILE KEY C [PREFIX]
--
-- One connection per wrk thread (-t C -c C), so each thread has exactly one request in flight and knows which
-- order an answer belongs to. Thread i owns the orders on lines i, i+C, i+2C ... of ORDERS_FILE
-- ("order_id line_id version quantity" per line) and amends them round robin, sending the version from the
-- last ETag. After an answer other than 200 it reads the order back (GET, not counted as an amendment) before
-- amending it again. done() prints one JSON line (prefixed "AMEND_RESULT ") and writes the orders' current
-- versions and quantities to STATE_FILE, in the format of ORDERS_FILE, for the next run. PREFIX is the path
-- before /{id}/amendments: /api/orders (the default), or /bare/orders for bench/bare_app.py.

local next_id = 0
local threads = {}

function setup(thread)
   thread:set("tid", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   orders_file, state_file, key, nthreads = args[1], args[2], args[3], tonumber(args[4])
   prefix = args[5] or "/api/orders"
   orders, turn, ok, failed, current, reading = {}, 0, 0, 0, nil, false
   local n = 0
   for line in io.lines(orders_file) do
      local id, line_id, version, quantity = line:match("(%S+) (%S+) (%d+) (%d+)")
      if id and n % nthreads == tid then
         table.insert(orders, {id = id, line_id = line_id, version = tonumber(version), quantity = tonumber(quantity)})
         _G["o" .. #orders] = id .. " " .. line_id -- for done(), which reads plain globals of each thread
         _G["v" .. #orders], _G["q" .. #orders] = version, quantity
      end
      n = n + 1
   end
   count, auth = #orders, "Bearer " .. key
end

function request()
   if current == nil or not reading then
      turn = turn % #orders + 1
      current = orders[turn]
   end
   if reading then
      return wrk.format("GET", prefix .. "/" .. current.id, {["Authorization"] = auth})
   end
   current.wanted = current.quantity % 5 + 1 -- 1..5, always a change
   local body = '{"operations":[{"op":"set_quantity","line_id":"' .. current.line_id .. '","quantity":'
      .. current.wanted .. '}]}'
   local headers = {
      ["Authorization"] = auth,
      ["Content-Type"] = "application/json",
      ["If-Match"] = '"' .. current.version .. '"',
   }
   return wrk.format("POST", prefix .. "/" .. current.id .. "/amendments", headers, body)
end

local function etag(headers)
   local value = headers["etag"] or headers["ETag"] or headers["Etag"]
   return value and tonumber(value:match("(%d+)"))
end

function response(status, headers, body)
   if reading then
      if status == 200 then
         current.version = etag(headers) or current.version
         current.quantity = tonumber(body:match('"quantity":(%d+)')) or current.quantity
         reading = false
         _G["v" .. turn], _G["q" .. turn] = current.version, current.quantity
      end
      return
   end
   if status == 200 then
      ok = ok + 1
      current.version = etag(headers) or current.version
      current.quantity = current.wanted
      _G["v" .. turn], _G["q" .. turn] = current.version, current.quantity
   else
      failed = failed + 1
      if failed <= 5 then
         io.stderr:write("amendment answered " .. status .. ": " .. body:sub(1, 300) .. "\n")
      end
      reading = true
   end
end

function done(summary, latency, requests)
   local total_ok, total_failed = 0, 0
   for _, thread in ipairs(threads) do
      total_ok = total_ok + thread:get("ok")
      total_failed = total_failed + thread:get("failed")
   end
   local file = io.open(threads[1]:get("state_file"), "w")
   for _, thread in ipairs(threads) do
      for i = 1, thread:get("count") do
         file:write(thread:get("o" .. i) .. " " .. thread:get("v" .. i) .. " " .. thread:get("q" .. i) .. "\n")
      end
   end
   file:close()
   local e = summary.errors
   io.write(string.format(
      'AMEND_RESULT {"ok": %d, "failed": %d, "requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, '
         .. '"p99_us": %d, "max_us": %d, "mean_us": %.1f, "socket_errors": %d, "non_2xx": %d}\n',
      total_ok, total_failed, summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, latency.mean, e.connect + e.read + e.write + e.timeout, e.status))
end
