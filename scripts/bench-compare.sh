#!/usr/bin/env bash
# Compares two quorumkv binaries on the same bench settings, alternating runs so a noisy
# machine skews both alike: one node reads (C) and writes (W) at n=w=r=1, three nodes
# workload A at n=3, w=r=2. Prints throughput, p99 and the nodes' CPU per run.
# Usage: ./scripts/bench-compare.sh OLD_BINARY NEW_BINARY [rounds]
set -euo pipefail
old=$1 new=$2 rounds=${3:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() {  # $1 label, $2 binary, $3.. bench args
    local label=$1 bin=$2
    shift 2
    "$bin" bench "$@" --duration 5 --warmup 1.5 --no-progress --json > "$out/run.json"
    python3 - "$label" "$out/run.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[2]))["results"]:
    cpu = sum(n["cpuCores"] for n in r["nodeUsage"])
    print(f"{sys.argv[1]} {r['workload']} w{r['w']}r{r['r']} {r['throughput']:.0f} ops/s  "
          f"p99 {r['latency']['p99']} ms  node CPU {cpu:.2f} cores")
PY
}
for _ in $(seq 1 "$rounds"); do
    for label in old new; do
        bin=$old
        [ "$label" = new ] && bin=$new
        run "$label" "$bin" --nodes 1 --n 1 --setting 1,1 --workload C --workload W
        run "$label" "$bin" --nodes 3 --n 3 --setting 2,2 --workload A
    done
done
