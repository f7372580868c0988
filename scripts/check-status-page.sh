#!/usr/bin/env bash
# Loads a node's status page (GET /) in headless Chromium and checks what it shows against
# the node's own /status and /ring: the ring drawn by partition ownership (faded where the
# owner is down), members up and down, hints pending, anti-entropy, recent latency.
#
# Starts four nodes on loopback (n=3, so a stand-in can hold hints), writes and reads some
# keys, stops node4, writes again, then asks Chromium for the rendered DOM and a screenshot.
# Skips, saying why, when Chromium is missing or can't start here.
# Usage: ./scripts/check-status-page.sh [path/to/quorumkv]
set -euo pipefail
cd "$(dirname "$0")/.."

skip() { echo "status-page-check: SKIPPED: $*"; exit 0; }
fail() { echo "status-page-check: FAILED: $*" >&2; exit 1; }

browser=""
for candidate in chromium chromium-browser google-chrome; do
    command -v "$candidate" >/dev/null && { browser=$candidate; break; }
done
[ -n "$browser" ] || skip "Chromium is not installed; ./scripts/setup-test-tools.sh installs Debian's chromium"
# As root Chromium needs --no-sandbox; it is only ever pointed at our own local page here.
chrome=("$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --disable-extensions)
if ! probe=$(timeout 60 "${chrome[@]}" --dump-dom about:blank 2>&1) || ! grep -q "<body>" <<<"$probe"; then
    skip "Chromium did not start here: $(grep -v '^\s*$' <<<"$probe" | tail -n 3 | tr '\n' ' ')"
fi

binary=${1:-}
if [ -z "$binary" ]; then
    swift build --product quorumkv
    binary="$(swift build --show-bin-path)/quorumkv"
fi
[ -x "$binary" ] || fail "no quorumkv binary at $binary; build it (swift build --product quorumkv) or pass its path"

work=$(mktemp -d)
pids=()
cleanup() {
    local status=$?
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    # On failure the page, the screenshot, /status and the node logs stay for a look.
    if [ "$status" -eq 0 ]; then rm -rf "$work"; else echo "status-page-check: kept $work" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Eight ports the kernel reports free (HTTP and peer for four nodes).
read -r -a ports <<<"$(python3 -c '
import socket
socks = [socket.socket() for _ in range(8)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')"
http_port() { echo "${ports[$(($1 - 1))]}"; }
peer_port() { echo "${ports[$(($1 + 3))]}"; }
url() { echo "http://127.0.0.1:$(http_port "$1")"; }
http() { curl --noproxy '*' -s --max-time 5 "$@"; }

members=()
for i in 1 2 3 4; do members+=(--member "node$i=127.0.0.1:$(peer_port "$i")"); done
for i in 1 2 3 4; do
    "$binary" serve --node-id "node$i" --http "127.0.0.1:$(http_port "$i")" --peer "127.0.0.1:$(peer_port "$i")" \
        --data-dir "$work/node$i" --sync normal "${members[@]}" > "$work/node$i.log" 2>&1 &
    pids+=($!)
done

# Waits until "$@" succeeds, polling every 0.2 s, for at most $1 seconds.
wait_for() {
    local seconds=$1 what=$2; shift 2
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        if [ $SECONDS -ge $deadline ]; then
            for i in 1 2 3 4; do echo "--- node$i log (last lines)"; tail -n 5 "$work/node$i.log"; done >&2
            fail "$what did not happen within $seconds s"
        fi
        sleep 0.2
    done
}
node1_sees() {  # $1 = node, $2 = true (up) or false (down)
    http "$(url 1)/status" | python3 -c '
import json, sys
members = {m["node"]: m["reachable"] for m in json.load(sys.stdin)["members"]}
sys.exit(0 if members.get(sys.argv[1]) == (sys.argv[2] == "true") else 1)' "$1" "$2" 2>/dev/null
}
wait_for 30 "node1 seeing node4 up" node1_sees node4 true

for k in $(seq 1 20); do
    http -o /dev/null -X PUT --data-binary "v$k" "$(url 1)/kv/default/k$k?w=all" || fail "write of k$k failed"
    http -o /dev/null "$(url 1)/kv/default/k$k?r=2" || fail "read of k$k failed"
done
kill "${pids[3]}"
wait "${pids[3]}" 2>/dev/null || true
wait_for 20 "node1 seeing node4 down" node1_sees node4 false
for k in $(seq 21 40); do
    code=$(http -o /dev/null -w '%{http_code}' -X PUT --data-binary "v$k" "$(url 1)/kv/default/k$k?w=2")
    [ "$code" = 204 ] || fail "write of k$k with node4 down answered $code"
done

http "$(url 1)/status" > "$work/status.json"
http "$(url 1)/ring" > "$work/ring.json"
timeout 60 "${chrome[@]}" --dump-dom "$(url 1)/" > "$work/page.html" 2> "$work/chromium.log" \
    || fail "Chromium could not load $(url 1)/: $(tail -n 3 "$work/chromium.log")"
timeout 60 "${chrome[@]}" --window-size=1100,1300 --screenshot="$work/page.png" "$(url 1)/" >> "$work/chromium.log" 2>&1 \
    || fail "Chromium could not take a screenshot of $(url 1)/: $(tail -n 3 "$work/chromium.log")"
python3 scripts/check-status-page.py "$work/page.html" "$work/page.png" "$work/status.json" "$work/ring.json" \
    --requests get=20 put=40 --down node4
echo "status-page-check: PASSED: Chromium shows the ring, members up and down, hints, anti-entropy and recent latency as /status has them"
