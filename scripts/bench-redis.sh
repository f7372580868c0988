#!/usr/bin/env bash
# redis-benchmark SET/GET against a QuorumKV node (RESP) and against redis-server
# (appendfsync everysec), alternating in the same run so the ratios survive a noisy machine.
# Usage: ./scripts/bench-redis.sh [requests] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
for port in 18081 18082 18083 16379 16381 16391; do
    if (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null; then
        echo "error: port $port is in use; stop whatever listens there first" >&2
        exit 1
    fi
done
requests=${1:-100000}
rounds=${2:-2}
./scripts/setup.sh
./scripts/setup-test-tools.sh
command -v redis-server >/dev/null || {
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd=sudo
    $sudo_cmd apt-get install -y -qq redis-server >/dev/null
}
swift build -c release --product quorumkv
binary="$(swift build -c release --show-bin-path)/quorumkv"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

start_cluster() {  # $1 = nodes, $2 = folder, $3 = port offset
    mkdir -p "$work/$2"
    (cd "$work/$2" && exec "$binary" cluster up --nodes "$1" --http-port $((18081 + $3)) --peer-port $((19081 + $3)) \
        --resp-port $((16381 + $3)) > cluster.log 2>&1) &
    for _ in $(seq 1 300); do grep -q "is up" "$work/$2/cluster.log" 2>/dev/null && return; sleep 0.1; done
    cat "$work/$2/cluster.log"; exit 1
}
start_cluster 1 one 0       # one node: n=w=r=1, the like-for-like comparison with redis-server
start_cluster 3 three 10    # three nodes: the default bucket, n=3 with quorum reads and writes
redis-server --port 16379 --save "" --appendonly yes --appendfsync everysec --dir "$work" --daemonize no \
    > "$work/redis.log" 2>&1 &
for _ in $(seq 1 100); do redis-cli -p 16379 ping >/dev/null 2>&1 && break; sleep 0.1; done

bench() {  # $1 = label, $2 = port
    echo "== $1"
    redis-benchmark -p "$2" -t set,get -n "$requests" -c 50 -d 100 -r 100000 -P 1 -q --precision 3 2>&1 \
        | tr '\r' '\n' | grep -E "^(SET|GET):.*requests per second"
}
for round in $(seq 1 "$rounds"); do
    echo "# round $round"
    bench "redis-server (appendfsync everysec)" 16379
    bench "quorumkv, 1 node (n=w=r=1)" 16381
    bench "quorumkv, 3 nodes (n=3, w=r=quorum)" 16391
done
