#!/usr/bin/env bash
# Measures how long a node takes to join a 3-node cluster that holds N keys: starts three
# nodes on loopback, loads N keys of 100 bytes through RESP (redis-benchmark, n=3 w=2),
# starts a fourth node with --join, and reports the time until it is `up`, with the keys it
# received and the anti-entropy traffic; then how long the old members take to clear the
# copies the join left them. Then node 4 leaves again (copying its partitions back) and that
# is timed too.
#
#   ./scripts/measure-join.sh [KEYS] [BINARY]     (defaults: 100000, the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
keys="${1:-100000}"
binary="${2:-}"
if [ -z "$binary" ]; then
    swift build -c release --product quorumkv >/dev/null
    binary="$(swift build -c release --show-bin-path)/quorumkv"
fi
command -v redis-benchmark >/dev/null || ./scripts/setup-test-tools.sh
base=18600
for port in $(seq $base $((base + 3))) $(seq $((base + 100)) $((base + 103))) $((base + 200)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "error: port $port is in use; stop what listens there or edit base in $0" >&2
        exit 1
    fi
done
work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

members=()
for i in 1 2 3; do members+=(--member "node$i=127.0.0.1:$((base + 100 + i))"); done
start_node() {  # id index extra-args...
    local i="$1"
    shift
    "$binary" serve --node-id "node$i" --http "127.0.0.1:$((base + i))" --peer "127.0.0.1:$((base + 100 + i))" \
        --data-dir "$work/node$i" --log-level warning "$@" 2>>"$work/node$i.log" &
    pids+=($!)
}
status() { curl -s "http://127.0.0.1:$((base + $1))/status"; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
wait_for() {  # seconds description command...
    local limit="$1" what="$2"
    shift 2
    local deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        if [ $SECONDS -ge $deadline ]; then echo "error: timed out after ${limit}s waiting for $what" >&2; exit 1; fi
        sleep 0.2
    done
}

start_node 1 --resp "127.0.0.1:$((base + 200))" "${members[@]}"
start_node 2 "${members[@]}"
start_node 3 "${members[@]}"
for i in 1 2 3; do wait_for 30 "node$i" curl -sf "http://127.0.0.1:$((base + i))/health"; done

echo "loading $keys keys of 100 bytes (n=3, w=2) ..."
redis-benchmark -p $((base + 200)) -t set -n "$keys" -r 1000000000 -d 100 -c 50 -P 1 -q >/dev/null
held=$(status 1 | field "d['storage']['keys']")
echo "node1 holds $held keys"

before=$(date +%s.%N)
start_node 4 --join "127.0.0.1:$((base + 101))"
joined() { [ "$(status 1 | field "[m['status'] for m in d['members'] if m['node']=='node4'][0]")" = up ]; }
wait_for 3600 "node4 to be up" joined
after=$(date +%s.%N)
shipped=0
for i in 1 2 3 4; do shipped=$((shipped + $(status $i | field "d['anti_entropy']['bytes_shipped']"))); done
status 4 | field "'join: node4 up after %.1f s holding %d keys, after %d partition transfers; %d LZ4 repair bytes shipped in all' % ($after - $before, d['storage']['keys'], d['anti_entropy']['transfers_done'], $shipped)"

# The old members then clear their copies of the partitions that moved (a page of keys per
# anti-entropy tick): done when the four nodes hold each key three times in all.
before=$(date +%s.%N)
cleared() {
    local total=0
    for i in 1 2 3 4; do total=$((total + $(status $i | field "d['storage']['keys']"))); done
    [ "$total" -eq $((3 * held)) ]
}
wait_for 3600 "the old members to clear their copies" cleared
after=$(date +%s.%N)
removed=0
for i in 1 2 3; do removed=$((removed + $(status $i | field "d['anti_entropy']['stray_copies_removed']"))); done
python3 -c "print('stray copies: %d removed from the old members in %.1f s after the join' % ($removed, $after - $before))"

before=$(date +%s.%N)
"$binary" cluster leave --node "http://127.0.0.1:$((base + 4))" --timeout 3600 >/dev/null
after=$(date +%s.%N)
python3 -c "print('leave: node4 handed off and left after %.1f s' % ($after - $before))"
