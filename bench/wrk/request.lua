-- wrk script for bench/http_load.sh: one request shape per run, chosen by environment variables,
-- and a machine-readable summary line at the end (parsed by http_load.sh).
--
--   BENCH_METHOD     GET (default) or POST
--   BENCH_BODY_FILE  file whose content is the request body (POST), sent as application/json
--   BENCH_TOKEN      a bearer token (the VC-API's issue endpoint)

local method = os.getenv("BENCH_METHOD") or "GET"
wrk.method = method

local body_file = os.getenv("BENCH_BODY_FILE")
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "application/json"
end

local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

function done(summary, latency, requests)
  local errors = summary.errors
  local socket_errors = errors.connect + errors.read + errors.write + errors.timeout
  -- One line, "BENCH_RESULT key=value ...": latencies in microseconds.
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "non_2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    errors.status, socket_errors))
end
