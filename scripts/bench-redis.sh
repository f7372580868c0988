#!/usr/bin/env bash
# redis-benchmark SET/GET against redis-server (appendonly yes, appendfsync everysec), one
# QuorumKV node (n=w=r=1) and three QuorumKV nodes (`W 2` / `R 2`), alternating in every
# round so the ratios survive a noisy machine. Per run it prints throughput, p50 and p99
# (redis-benchmark --csv) and the server CPU per request: the change in utime+stime
# (/proc/PID/stat fields 14 and 15, over `getconf CLK_TCK`) of the server processes (for
# a cluster every `quorumkv serve` process of it) across the run, divided by the requests.
# The summary gives each round's ratios to redis-server of the same round, and the three
# nodes' CPU per request over one node's.
#
# Usage: ./scripts/bench-redis.sh [requests] [rounds]
#   QUORUMKV_BIN=path  use this quorumkv binary instead of building one
#   SYNC=normal        start the QuorumKV nodes with `--sync normal` (default: full)
set -euo pipefail
cd "$(dirname "$0")/.."

requests=${1:-100000}
rounds=${2:-2}
case "$requests$rounds" in
    *[!0-9]*) echo "usage: $0 [requests] [rounds]" >&2; exit 2 ;;
esac
[ "$requests" -gt 0 ] && [ "$rounds" -gt 0 ] || { echo "usage: $0 [requests] [rounds]" >&2; exit 2; }

source scripts/bench-common.sh
# Ports: redis-server; one node (HTTP, peer, RESP); three nodes (HTTP, peer, RESP, counting up).
redis_port=16379
one_http=18081 one_peer=19081 one_resp=16381
three_http=18091 three_peer=19091 three_resp=16391
require_free_ports $redis_port $one_http $one_peer $one_resp \
    $three_http $((three_http + 1)) $((three_http + 2)) \
    $three_peer $((three_peer + 1)) $((three_peer + 2)) \
    $three_resp $((three_resp + 1)) $((three_resp + 2))
install_missing redis-server:redis-server redis-tools:redis-benchmark redis-tools:redis-cli
quorumkv_binary
sync_arguments
sync_label=${SYNC:-full}

work=$(mktemp -d)
server_pids=()   # every process this script started: redis-server, the two `cluster up`
benchmark_pid=""
cleanup() {
    local pids=() pid child
    [ -n "$benchmark_pid" ] && kill -TERM "$benchmark_pid" 2>/dev/null || true
    for pid in "${server_pids[@]}"; do
        pids+=("$pid")
        # The cluster's nodes, in case their supervisor is gone before it could stop them.
        for child in $(pgrep -P "$pid" 2>/dev/null || true); do pids+=("$child"); done
    done
    [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 1 100); do
        local alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ "$alive" -eq 0 ] && break
        sleep 0.1
    done
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

clock_ticks=$(getconf CLK_TCK)
value=$(printf '%0100d' 0 | tr 0 x)   # 100 bytes, as redis-benchmark -d 100

start_cluster() {  # $1 = nodes, $2 = folder, $3 = HTTP port, $4 = peer port, $5 = RESP port; sets cluster_pid
    mkdir -p "$work/$2"
    (cd "$work/$2" && exec "$binary" cluster up --nodes "$1" --http-port "$3" --peer-port "$4" \
        --resp-port "$5" "${sync_args[@]}" > cluster.log 2>&1) &
    cluster_pid=$!
    server_pids+=("$cluster_pid")
    for _ in $(seq 1 300); do
        grep -q "is up" "$work/$2/cluster.log" 2>/dev/null && return
        kill -0 "$cluster_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "error: the $1-node cluster did not start:" >&2
    cat "$work/$2/cluster.log" >&2
    exit 1
}

find_nodes() {  # $1 = pid of `cluster up`, $2 = nodes expected; sets node_pids to its `serve` children
    node_pids=$(pgrep -P "$1" -f ' serve --node-id ' | tr '\n' ' ' || true)
    if [ "$(echo $node_pids | wc -w)" -ne "$2" ]; then
        echo "error: expected $2 'quorumkv serve' processes under pid $1, found: ${node_pids:-none}" >&2
        exit 1
    fi
}

start_cluster 1 one $one_http $one_peer $one_resp
find_nodes "$cluster_pid" 1
one_pids=$node_pids
start_cluster 3 three $three_http $three_peer $three_resp
find_nodes "$cluster_pid" 3
three_pids=$node_pids
redis-server --port $redis_port --save "" --appendonly yes --appendfsync everysec --dir "$work" \
    --daemonize no > "$work/redis.log" 2>&1 &
redis_pid=$!
server_pids+=("$redis_pid")
for _ in $(seq 1 100); do redis-cli -p $redis_port ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p $redis_port ping >/dev/null 2>&1 || { cat "$work/redis.log" >&2; exit 1; }

# The servers: label, RESP port, processes whose CPU counts, options after SET's and GET's arguments.
labels=("redis-server (AOF everysec)" "quorumkv 1 node (n=w=r=1)" "quorumkv 3 nodes (W 2 / R 2)")
ports=($redis_port $one_resp $three_resp)
pids=("$redis_pid" "$one_pids" "$three_pids")
set_options=("" "" "W 2")
get_options=("" "" "R 2")

# Every command line once before measuring: redis-benchmark stops at the first error reply.
for i in 0 1 2; do
    reply=$(redis-cli -p "${ports[$i]}" SET key:check "$value" ${set_options[$i]})
    [ "$reply" = OK ] || { echo "error: SET on ${labels[$i]} answered: $reply" >&2; exit 1; }
    reply=$(redis-cli -p "${ports[$i]}" GET key:check ${get_options[$i]})
    [ "$reply" = "$value" ] || { echo "error: GET on ${labels[$i]} answered: $reply" >&2; exit 1; }
done

cpu_ticks() {  # the summed utime+stime, in clock ticks, of the given pids
    local total=0 pid ticks
    for pid in "$@"; do
        # Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
        ticks=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')
        total=$((total + ticks))
    done
    echo "$total"
}

results="$work/results"
: > "$results"
run() {  # $1 = round, $2 = server index, $3 = SET or GET
    local i=$2 op=$3 before after line rps p50 p99 cpu
    local cmd=(SET "key:__rand_int__" "$value" ${set_options[$i]})
    [ "$op" = GET ] && cmd=(GET "key:__rand_int__" ${get_options[$i]})
    before=$(cpu_ticks ${pids[$i]})
    # In the background so that a signal to this script stops it at once (see cleanup).
    redis-benchmark -h 127.0.0.1 -p "${ports[$i]}" -c 50 -n "$requests" -r 100000 -P 1 \
        --precision 3 --csv "${cmd[@]}" > "$work/benchmark.out" 2>&1 &
    benchmark_pid=$!
    wait "$benchmark_pid" || true
    benchmark_pid=""
    after=$(cpu_ticks ${pids[$i]})
    line=$(tr '\r' '\n' < "$work/benchmark.out" | grep '^"' | grep -v '^"test"' | tail -1 || true)
    if [ -z "$line" ]; then
        echo "error: redis-benchmark $op against ${labels[$i]} printed no result:" >&2
        cat "$work/benchmark.out" >&2
        exit 1
    fi
    # "command","rps","avg","min","p50","p95","p99","max"; the command holds no commas.
    read -r rps p50 p99 < <(echo "$line" | awk -F, '{gsub(/"/, ""); print $(NF-6), $(NF-3), $(NF-1)}')
    cpu=$(awk -v t=$((after - before)) -v hz="$clock_ticks" -v n="$requests" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$i" "$op" "$rps" "$p50" "$p99" "$cpu" >> "$results"
    printf '%-30s %-4s %12.0f %9.3f %9.3f %13s\n' "${labels[$i]}" "$op" "$rps" "$p50" "$p99" "$cpu"
}

echo "redis-benchmark -c 50 -n $requests -r 100000 -P 1, 100-byte values; QuorumKV sync=$sync_label;" \
    "CPU = server utime+stime per request"
for round in $(seq 1 "$rounds"); do
    echo
    echo "# round $round"
    printf '%-30s %-4s %12s %9s %9s %13s\n' server op "requests/s" "p50 ms" "p99 ms" "CPU µs/op"
    for op in SET GET; do
        for i in 0 1 2; do run "$round" "$i" "$op"; done
    done
done

echo
echo "# summary: ratios to redis-server in the same round (QuorumKV sync=$sync_label)"
awk -F'\t' -v labels="${labels[1]}|${labels[2]}" '
    BEGIN { split(labels, name, "|") }
    { rps[$1, $2, $3] = $4; p99[$1, $2, $3] = $6; cpu[$1, $2, $3] = $7; if ($1 > last) last = $1 }
    function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "n/a" }
    END {
        printf "%-5s %-4s %-30s %11s %10s %13s\n", "round", "op", "server", "throughput", "p99", "CPU per op"
        for (r = 1; r <= last; r++)
            for (o = 1; o <= 2; o++) {
                op = o == 1 ? "SET" : "GET"
                for (i = 1; i <= 2; i++)
                    printf "%-5s %-4s %-30s %11s %10s %13s\n", r, op, name[i],
                        ratio(rps[r, i, op], rps[r, 0, op]), ratio(p99[r, i, op], p99[r, 0, op]),
                        ratio(cpu[r, i, op], cpu[r, 0, op])
            }
        print ""
        print "3 nodes (all nodes together) over 1 node, CPU per request:"
        for (r = 1; r <= last; r++)
            printf "  round %d: SET %s (%s / %s µs), GET %s (%s / %s µs)\n", r,
                ratio(cpu[r, 2, "SET"], cpu[r, 1, "SET"]), cpu[r, 2, "SET"], cpu[r, 1, "SET"],
                ratio(cpu[r, 2, "GET"], cpu[r, 1, "GET"]), cpu[r, 2, "GET"], cpu[r, 1, "GET"]
    }' "$results"
