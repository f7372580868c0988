#!/usr/bin/env bash
# Multi-host test on one machine: five network namespaces, each with its own address on a
# bridge and one QuorumKV node. It cuts node 5 off by taking its link down, checks that
# writes needing three acknowledgements still succeed (sloppy quorum: stand-ins keep hints),
# brings the link back, and checks that hinted handoff and anti-entropy make every replica
# of every partition equal again and every key readable with its latest value from its
# primaries.
#
# The nodes run secured, as deploy/ runs them: a CA and a certificate per node from
# `quorumkv cert` (DNS:<node id>, which peers check, and the node's IP, which curl checks),
# users from `quorumkv user`, TLS on every port (mutual between nodes). curl logs in with
# --cacert and --netrc-file: the password is never on a command line.
#
# Needs root (or passwordless sudo) and a kernel that allows `ip netns add`; where it can't
# create namespaces it says why and exits 0, so CI on a restricted machine passes with the
# reason in its log. Usage: ./scripts/netns-test.sh [path/to/quorumkv]
set -euo pipefail
cd "$(dirname "$0")/.."

skip() { echo "netns-test: SKIPPED: $*"; exit 0; }
fail() { echo "netns-test: FAILED: $*" >&2; exit 1; }

[ "$(uname -s)" = Linux ] || skip "network namespaces are Linux-only"
command -v ip >/dev/null || skip "the ip command (iproute2) is missing; apt-get install iproute2"
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then
    sudo -n true 2>/dev/null || skip "creating namespaces needs root or passwordless sudo"
    sudo_cmd="sudo -n"
fi
probe="qkvprobe$$"
reason=$($sudo_cmd ip netns add "$probe" 2>&1) \
    || skip "'ip netns add' is not permitted here ($reason); containers need CAP_SYS_ADMIN and CAP_NET_ADMIN"
$sudo_cmd ip netns del "$probe"

binary=${1:-}
if [ -z "$binary" ]; then
    swift build --product quorumkv
    binary="$(swift build --show-bin-path)/quorumkv"
fi
[ -x "$binary" ] || fail "no quorumkv binary at $binary; build it (swift build --product quorumkv) or pass its path"
command -v curl >/dev/null || fail "curl is missing; run ./scripts/setup.sh"
command -v python3 >/dev/null || fail "python3 is missing; run ./scripts/setup-test-tools.sh"

# A /24 no route uses yet, so runs beside other networks (or another run) don't collide.
tag=$$
subnet=""
for third in $(seq $((tag % 200 + 20)) 250) $(seq 20 250); do
    ip route | grep -q "^10\.213\.$third\." || { subnet="10.213.$third"; break; }
done
[ -n "$subnet" ] || fail "no free 10.213.x.0/24 subnet for the test bridge"
bridge="qkvbr$tag"
nodes=5
work=$(mktemp -d)
pids=()

cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    # A node stops within a second or two on SIGTERM; past 10 s it is killed.
    local deadline=$((SECONDS + 10))
    for pid in "${pids[@]}"; do
        while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    # Deleting the host ends removes the pairs now; a namespace may outlive `ip netns del`
    # for a while (sockets still closing), and its veth with it.
    for i in $(seq 1 $nodes); do
        $sudo_cmd ip link del "qkv$tag-h$i" 2>/dev/null || true
        $sudo_cmd ip netns del "qkv$tag-$i" 2>/dev/null || true
    done
    $sudo_cmd ip link del "$bridge" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

address() { echo "$subnet.$1"; }
url() { echo "https://$(address "$1"):8081"; }
http() { curl --noproxy '*' -s --max-time "${TIMEOUT:-5}" --cacert "$work/tls/ca.pem" --netrc-file "$work/netrc" "$@"; }

# Secrets: a CA, each node's certificate and key, an ACL with one admin user whose random
# password lives in a 0600 file, and a netrc with it for curl (printf is a shell builtin,
# so the password is in no process's arguments).
umask 077
"$binary" cert init --dir "$work/tls" --common-name "QuorumKV netns-test CA" >/dev/null
for i in $(seq 1 $nodes); do
    "$binary" cert issue --ca-dir "$work/tls" --node "n$i" --ip "$(address "$i")" --out "$work/tls" >/dev/null
done
head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$work/admin.pw"
"$binary" user add admin --acl "$work/acl.txt" --grant 'read,write,delete,list,admin:*' --password-file "$work/admin.pw" >/dev/null
"$binary" user add default --acl "$work/acl.txt" --disabled >/dev/null
for i in $(seq 1 $nodes); do
    printf 'machine %s login admin password %s\n' "$(address "$i")" "$(cat "$work/admin.pw")"
done > "$work/netrc"

# Bridged traffic must not go through the host's iptables (Docker's FORWARD DROP, say).
$sudo_cmd ip link add name "$bridge" type bridge nf_call_iptables 0 2>/dev/null \
    || $sudo_cmd ip link add name "$bridge" type bridge
$sudo_cmd ip addr add "$subnet.254/24" dev "$bridge"
$sudo_cmd ip link set "$bridge" up
members=()
for i in $(seq 1 $nodes); do members+=(--member "n$i=$(address "$i"):9081"); done
for i in $(seq 1 $nodes); do
    ns="qkv$tag-$i"
    $sudo_cmd ip netns add "$ns"
    $sudo_cmd ip link add "qkv$tag-h$i" type veth peer name eth0 netns "$ns"
    $sudo_cmd ip link set "qkv$tag-h$i" master "$bridge" up
    $sudo_cmd ip -n "$ns" addr add "$(address "$i")/24" dev eth0
    $sudo_cmd ip -n "$ns" link set eth0 up
    $sudo_cmd ip -n "$ns" link set lo up
    # Small ring and fast anti-entropy, so a full pass takes seconds.
    $sudo_cmd ip netns exec "$ns" "$binary" serve --node-id "n$i" --http "$(address "$i"):8081" \
        --peer "$(address "$i"):9081" --data-dir "$work/n$i" --partitions 16 --sync normal \
        --anti-entropy-interval 100 "${members[@]}" --acl "$work/acl.txt" \
        --tls-cert "$work/tls/n$i.pem" --tls-key "$work/tls/n$i-key.pem" --tls-ca "$work/tls/ca.pem" \
        > "$work/n$i.log" 2>&1 &
    pids+=($!)
done
echo "netns-test: $nodes secured nodes (users, TLS, mutual TLS between them) in namespaces qkv$tag-1..$nodes on $subnet.0/24 (bridge $bridge)"

# Waits until "$@" succeeds, polling every 0.2 s, for at most $1 seconds.
wait_for() {
    local seconds=$1 what=$2; shift 2
    local deadline=$((SECONDS + seconds))
    until "$@"; do
        if [ $SECONDS -ge $deadline ]; then
            for i in $(seq 1 $nodes); do echo "--- n$i log (last lines)"; tail -n 5 "$work/n$i.log"; done >&2
            fail "$what did not happen within $seconds s"
        fi
        sleep 0.2
    done
}

# Reads /status of each node given and evaluates a Python expression over them (`s` is the
# list of documents); succeeds when it is true.
statuses_satisfy() {
    local expression=$1; shift
    local documents=()
    for i in "$@"; do documents+=("$(TIMEOUT=2 http "$(url "$i")/status" || echo null)"); done
    printf '%s\n' "${documents[@]}" | python3 -c '
import json, sys
s = [json.loads(line) if line.strip() not in ("", "null") else None for line in sys.stdin]
sys.exit(0 if None not in s and ('"$expression"') else 1)'
}
all_nodes=$(seq 1 $nodes)
every_node_sees_all_up='all(all(m["reachable"] for m in d["members"]) and len(d["members"]) == '$nodes' for d in s)'
wait_for 30 "every node answering and seeing all $nodes members up" statuses_satisfy "$every_node_sees_all_up" $all_nodes

put() {  # $1 node, $2 key, $3 value, $4 query; prints the HTTP status
    http -o /dev/null -w '%{http_code}' -X PUT --data-binary "$3" "$(url "$1")/kv/default/$2?$4"
}
keys=40
for k in $(seq 1 $keys); do
    code=$(put 1 "k$k" "before-$k" "w=all")
    [ "$code" = 204 ] || fail "write k$k with every node up answered $code"
done
echo "netns-test: wrote $keys keys with w=all"

echo "netns-test: cutting n5 off (link qkv$tag-h5 down)"
$sudo_cmd ip link set "qkv$tag-h5" down
TIMEOUT=2 http "$(url 5)/health" >/dev/null && fail "n5 still answers after its link went down"
wait_for 20 "n1..n4 seeing n5 down" statuses_satisfy \
    'all(not next(m for m in d["members"] if m["node"] == "n5")["reachable"] for d in s)' 1 2 3 4

# w=3 needs three acks out of n=3: a key with n5 among its primaries succeeds only through
# a stand-in holding a hint. Coordinators rotate over the nodes still up.
for k in $(seq 1 $keys); do
    code=$(put $((k % 4 + 1)) "k$k" "during-$k" "w=3")
    [ "$code" = 204 ] || fail "overwrite of k$k with w=3 while n5 was cut off answered $code (sloppy quorum should take it)"
    code=$(put $((k % 4 + 1)) "new$k" "new-$k" "w=3")
    [ "$code" = 204 ] || fail "write of new$k with w=3 while n5 was cut off answered $code"
done
hints=$(for i in 1 2 3 4; do http "$(url "$i")/status"; echo; done \
    | python3 -c 'import json,sys; print(sum(json.loads(l)["hints"]["pending"] for l in sys.stdin if l.strip()))')
[ "$hints" -gt 0 ] || fail "no hints pending after writes while n5 was cut off; stand-ins should hold hints for it"
echo "netns-test: $((2 * keys)) writes with w=3 succeeded while n5 was cut off; $hints hints pending"

echo "netns-test: link back up"
$sudo_cmd ip link set "qkv$tag-h5" up
wait_for 30 "every node seeing all members up again" statuses_satisfy "$every_node_sees_all_up" $all_nodes
wait_for 60 "hints delivered (none pending)" statuses_satisfy 'sum(d["hints"]["pending"] for d in s) == 0' $all_nodes
# Replicas agree when every node holding a partition reports the same Merkle root for it.
roots_agree='all(len({d["anti_entropy"]["roots"][p] for d in s if p in d["anti_entropy"]["roots"]}) == 1 for p in {p for d in s for p in d["anti_entropy"]["roots"]})'
wait_for 60 "every partition's replicas having equal Merkle roots" statuses_satisfy "$roots_agree" $all_nodes
echo "netns-test: hints delivered and every partition's replicas agree"

# pr=3: all three primaries must answer, n5 included where it is one.
for k in $(seq 1 $keys); do
    value=$(http -f "$(url 5)/kv/default/k$k?r=3&pr=3") || fail "read of k$k with pr=3 through n5 failed"
    [ "$value" = "during-$k" ] || fail "k$k reads '$value' from its primaries, expected during-$k"
    value=$(http -f "$(url 5)/kv/default/new$k?r=3&pr=3") || fail "read of new$k with pr=3 through n5 failed"
    [ "$value" = "new-$k" ] || fail "new$k reads '$value' from its primaries, expected new-$k"
done
anonymous=$(curl --noproxy '*' -s --max-time 5 --cacert "$work/tls/ca.pem" -o /dev/null -w '%{http_code}' "$(url 1)/kv/default/k1")
[ "$anonymous" = 401 ] || fail "a read without credentials answered $anonymous, expected 401"
echo "netns-test: PASSED: sloppy quorum kept w=3 writes succeeding with n5 cut off; after the link returned every replica converged"
