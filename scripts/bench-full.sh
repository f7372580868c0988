#!/usr/bin/env bash
# The full benchmark behind docs/benchmarks.md: builds the release binary, then runs
# `quorumkv bench` seven times, each against a fresh local cluster it starts and stops itself,
# writing report.json, report.csv, report.txt and SVG plots under the output folder:
#   one-node/   1 node, n=w=r=1, 50 connections: SET (workload W), GET (C) and A, beside redis-server
#   cache/      1 node, n=w=r=1: 90% GET, 10% SET with EX (a quarter of them 2 s), beside redis-server
#   one-node-sync-normal/   the same with the node's SQLite at synchronous=NORMAL (no fsync per
#               commit: like redis-server's appendfsync everysec, it survives a crash of the
#               process but may lose the last writes on power loss)
#   sweep/      3 nodes, n=3, the seven (w, r) settings, workloads A B C F, keys "latest",
#               again with one node paused (SIGSTOP), and redis-server beside each workload
#   scale-1/, scale-3/, scale-5/   workload C (r=1) on 1, 3 and 5 nodes, with each node's CPU
#   memory/     1 node holding 1 000 000 values of 100 bytes: its resident memory
# Usage: ./scripts/bench-full.sh [output folder, default docs/bench] [seconds per setting, default 6]
# QUORUMKV_BIN=path uses an already built binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/bench}
seconds=${2:-6}
./scripts/setup.sh
command -v redis-server >/dev/null || {
    sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd=sudo
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq redis-server >/dev/null
}
if [ -n "${QUORUMKV_BIN:-}" ]; then
    bin=$QUORUMKV_BIN
else
    swift build -c release --product quorumkv
    bin="$(swift build -c release --show-bin-path)/quorumkv"
fi
common=(--no-progress --duration "$seconds" --warmup 1.5)

"$bin" bench "${common[@]}" --nodes 1 --n 1 --setting 1,1 --workload W --workload C --workload A \
    --connections 50 --records 100000 --reference redis --output "$out/one-node"
"$bin" bench "${common[@]}" --nodes 1 --n 1 --setting 1,1 --workload W --workload C --workload A \
    --connections 50 --records 100000 --reference redis --sync normal --output "$out/one-node-sync-normal"
"$bin" bench --no-progress --duration 6 --warmup 5 --nodes 1 --n 1 --setting 1,1 --workload cache --short-ttl 2 \
    --connections 50 --records 10000 --reference redis --output "$out/cache"
"$bin" bench "${common[@]}" --nodes 3 --n 3 --workload A --workload B --workload C --workload F \
    --distribution latest --connections 50 --records 100000 --pause-node --timeout 1000 \
    --reference redis --output "$out/sweep"
for nodes in 1 3 5; do
    n=$(( nodes < 3 ? nodes : 3 ))
    "$bin" bench "${common[@]}" --nodes "$nodes" --n "$n" --setting 1,1 --workload C \
        --connections 50 --records 100000 --output "$out/scale-$nodes"
done
"$bin" bench --no-progress --duration 5 --warmup 1 --nodes 1 --n 1 --setting 1,1 --workload C \
    --connections 50 --records 1000000 --output "$out/memory"
