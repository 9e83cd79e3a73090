-- wrk script for floor_bench.py: the same POST (JSON body, API key) over and over, every answer checked.
--
--   wrk -t C -c C -d S -s bench/floor/probe.lua URL -- REQUESTS_FILE KEY
--
-- One connection per wrk thread (-t C -c C), as bench/amend/amend.lua; thread i sends line i (modulo the
-- number of lines) of REQUESTS_FILE, "PATH BODY" (one order per connection, as amend.lua's threads own theirs),
-- with `Authorization: Bearer KEY` and `Content-Type: application/json`. Each answer other than 200 is counted
-- (the first 5 printed on stderr). done() prints one JSON line prefixed "PROBE_RESULT ", in the fields of
-- amend.lua's AMEND_RESULT line.

local next_id = 0
local threads = {}

function setup(thread)
   thread:set("tid", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   ok, failed = 0, 0
   local lines = {}
   for line in io.lines(args[1]) do
      table.insert(lines, line)
   end
   local path, body = lines[tid % #lines + 1]:match("^(%S+) (.*)$")
   request_text = wrk.format("POST", path, {
      ["Authorization"] = "Bearer " .. args[2],
      ["Content-Type"] = "application/json",
   }, body)
end

function request()
   return request_text
end

function response(status, headers, body)
   if status == 200 then
      ok = ok + 1
   else
      failed = failed + 1
      if failed <= 5 then
         io.stderr:write("probe answered " .. status .. ": " .. body:sub(1, 300) .. "\n")
      end
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
      'PROBE_RESULT {"ok": %d, "failed": %d, "requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, '
         .. '"p99_us": %d, "max_us": %d, "mean_us": %.1f, "socket_errors": %d, "non_2xx": %d}\n',
      total_ok, total_failed, summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, latency.mean, e.connect + e.read + e.write + e.timeout, e.status))
end
