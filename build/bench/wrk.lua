-- wrk script for `make bench`: wrk -s wrk.lua URL -- METHOD [BODY_FILE]
-- Every request is the same (a GET, or a POST of BODY_FILE as JSON).
-- request() counts what each thread sent, because wrk stops with requests
-- in flight: the server may store up to one more row per connection than
-- wrk saw answers. done() prints one machine-readable line:
--   RESULT answers sent non2xx sockerr rps p50_us p99_us connect/read/write/timeout
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

local req
sent = 0

function init(args)
    local method = args[1] or "GET"
    local body = nil
    if args[2] then
        local f = assert(io.open(args[2], "rb"))
        body = f:read("*a")
        f:close()
    end
    local headers = {}
    if body then
        headers["Content-Type"] = "application/json"
    end
    req = wrk.format(method, nil, headers, body)
end

function request()
    sent = sent + 1
    return req
end

function done(summary, latency, requests)
    local total = 0
    for _, t in ipairs(threads) do
        total = total + t:get("sent")
    end
    local e = summary.errors
    io.write(string.format("RESULT %d %d %d %d %.1f %d %d %d/%d/%d/%d\n",
        summary.requests, total, e.status,
        e.connect + e.read + e.write + e.timeout,
        summary.requests / (summary.duration / 1e6),
        latency:percentile(50), latency:percentile(99),
        e.connect, e.read, e.write, e.timeout))
end
