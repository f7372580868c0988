-- wrk script: PUT 100-byte values to random keys of a fixed key space.
-- Quorum settings come from the QKV_QUERY environment variable, e.g. "w=2".
local keys = tonumber(os.getenv("QKV_KEYS") or "100000")
local query = os.getenv("QKV_QUERY") or "w=2"
local body = string.rep("v", 100)

request = function()
    local key = math.random(0, keys - 1)
    return wrk.format("PUT", "/kv/bench/key" .. key .. "?" .. query, { ["Content-Type"] = "application/octet-stream" }, body)
end

done = function(summary, latency, requests)
    io.write(string.format("errors: connect %d, read %d, write %d, status %d, timeout %d\n",
        summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
    io.write(string.format("latency_us: p50 %d, p90 %d, p99 %d, max %d\n",
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
