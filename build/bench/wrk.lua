-- wrk script for `make bench`'s POST scenarios:
--   wrk -s wrk.lua URL -- BODY_FILE
-- The request is set once, in init(): wrk.method, wrk.body and wrk.headers.
-- No request() or response() function is defined, so wrk sends its
-- pre-built request without calling Lua for each one, as plain wrk does
-- (a per-request request() capped wrk itself near 10k requests/s on this
-- kind of machine). The static ceiling is driven by plain wrk, with no
-- script at all (bench.sh). done() prints one machine-readable line:
--   RESULT answers non2xx sockerr rps p50_us p99_us connect/read/write/timeout

function init(args)
    local f = assert(io.open(args[1], "rb"))
    wrk.body = f:read("*a")
    f:close()
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("RESULT %d %d %d %.1f %d %d %d/%d/%d/%d\n",
        summary.requests, e.status,
        e.connect + e.read + e.write + e.timeout,
        summary.requests / (summary.duration / 1e6),
        latency:percentile(50), latency:percentile(99),
        e.connect, e.read, e.write, e.timeout))
end
