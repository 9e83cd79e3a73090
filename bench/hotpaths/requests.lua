-- wrk script for hotpaths_bench.py: replay prepared requests, round robin (cycle) or each once (once).
--
--   wrk -t C -c C -d S -s bench/hotpaths/requests.lua URL -- REQUESTS_FILE MODE C
--
-- REQUESTS_FILE has one request a line, fields separated by tabs: METHOD, PATH, BODY ("-" for none), then
-- header name and value pairs. One connection per wrk thread (-t C -c C); thread i owns lines i, i+C, ...
-- MODE "cycle" sends them round robin for the whole run; "once" sends each once and stops the thread after
-- its last answer (shipping an order or delivering a parcel twice would measure a refusal, not the path),
-- saying so on stderr: wrk itself runs for its whole -d, so the bench interrupts it when every thread is done.
-- done() prints one JSON line prefixed "HOTPATH_RESULT ".

local next_id = 0
local threads = {}

function setup(thread)
   thread:set("tid", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

local function split(line)
   local fields = {}
   for field in (line .. "\t"):gmatch("([^\t]*)\t") do
      table.insert(fields, field)
   end
   return fields
end

function init(args)
   local file, nthreads = args[1], tonumber(args[3])
   mode = args[2]
   reqs, turn, sent, ok, failed = {}, 0, 0, 0, 0
   local n = 0
   for line in io.lines(file) do
      if n % nthreads == tid then
         local f = split(line)
         local headers = {}
         for i = 4, #f - 1, 2 do
            headers[f[i]] = f[i + 1]
         end
         local body = f[3] ~= "-" and f[3] or nil
         table.insert(reqs, wrk.format(f[1], f[2], headers, body))
      end
      n = n + 1
   end
end

function request()
   turn = turn % #reqs + 1
   sent = sent + 1
   return reqs[turn]
end

function response(status, headers, body)
   if status >= 200 and status < 300 then
      ok = ok + 1
   else
      failed = failed + 1
      if failed <= 3 then
         io.stderr:write("answered " .. status .. ": " .. body:sub(1, 300) .. "\n")
      end
   end
   if mode == "once" and ok + failed == #reqs then
      io.stderr:write("HOTPATH_THREAD_DONE\n") -- the bench ends wrk (SIGINT) once every thread said so
      io.stderr:flush()
      wrk.thread:stop()
   end
end

function done(summary, latency, requests)
   local total_ok, total_failed = 0, 0
   for _, thread in ipairs(threads) do
      total_ok = total_ok + thread:get("ok")
      total_failed = total_failed + thread:get("failed")
   end
   local e = summary.errors
   io.write(string.format(
      'HOTPATH_RESULT {"ok": %d, "failed": %d, "requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, '
         .. '"p99_us": %d, "max_us": %d, "mean_us": %.1f, "socket_errors": %d}\n',
      total_ok, total_failed, summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, latency.mean, e.connect + e.read + e.write + e.timeout))
end
