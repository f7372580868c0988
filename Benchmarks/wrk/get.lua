-- wrk script: GET random keys of a fixed key space (preloaded by scripts/bench-wrk.sh).
local keys = tonumber(os.getenv("QKV_KEYS") or "100000")
local query = os.getenv("QKV_QUERY") or "r=2"

request = function()
    local key = math.random(0, keys - 1)
    return wrk.format("GET", "/kv/bench/key" .. key .. "?" .. query)
end

done = function(summary, latency, requests)
    io.write(string.format("errors: connect %d, read %d, write %d, status %d, timeout %d\n",
        summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
    io.write(string.format("latency_us: p50 %d, p90 %d, p99 %d, max %d\n",
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
