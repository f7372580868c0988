#!/usr/bin/env bash
# First load figures: PUT and GET at n=3 w=2 r=2, each beside an n=1 reference, against a fresh local 3-node cluster
# (release build, data in a temporary folder), driven by wrk from another process.
# Usage: ./scripts/bench-wrk.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
for port in 18081 18082 18083 16379 16381 16391; do
    if (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null; then
        echo "error: port $port is in use; stop whatever listens there first" >&2
        exit 1
    fi
done
seconds=${1:-20}
connections=${2:-32}
keys=${QKV_KEYS:-10000}
./scripts/setup.sh
command -v wrk >/dev/null || { sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd=sudo; $sudo_cmd apt-get install -y -qq wrk >/dev/null; }
swift build -c release --product quorumkv
binary="$(swift build -c release --show-bin-path)/quorumkv"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
(cd "$work" && exec "$binary" cluster up --http-port 18081 --peer-port 19081 > cluster.log 2>&1) &
for _ in $(seq 1 300); do
    grep -q "is up" "$work/cluster.log" 2>/dev/null && break
    sleep 0.1
done
grep -q "is up" "$work/cluster.log" || { cat "$work/cluster.log"; exit 1; }
endpoint=http://127.0.0.1:18081
echo "== preload $keys keys (w=3)"
for i in $(seq 0 $((keys - 1))); do echo "key$i"; done \
  | xargs -P 8 -I{} curl -s -o /dev/null -X PUT --data-binary "$(printf 'v%.0s' $(seq 1 100))" "$endpoint/kv/bench/{}?w=3"
# Each quorum setting runs beside the n=1 reference (one replica, no network hop), in
# the same cluster and the same minute, so the ratio survives a noisy machine.
run() {
    echo "== $1 $2, $connections connections, $seconds s, 2 wrk threads, 100-byte values, $keys keys"
    QKV_KEYS=$keys QKV_QUERY="$2" wrk -t2 -c"$connections" -d"${seconds}s" -s "Benchmarks/wrk/$1.lua" "$endpoint"
}
run put "n=1&w=1"
run put "n=3&w=2"
run get "n=1&r=1"
run get "n=3&r=2"
