#!/usr/bin/env bash
# Instructions per request, counted by valgrind's callgrind, for redis-server (appendonly yes,
# appendfsync everysec) and for one QuorumKV node (`quorumkv serve`, itself its only member).
# Unlike time and CPU figures these don't drift with the machine's load.
#
# Each server runs under callgrind (one count for all of its threads). After a warmup of
# WARMUP SETs and WARMUP GETs, the counters are zeroed (callgrind_control -z), exactly
# REQUESTS SETs run (redis-benchmark -c 50 -r 100000, 100-byte values), the counters are
# dumped (callgrind_control -d) and the dump's total Ir is divided by REQUESTS; then the
# same for GETs. Where callgrind_control does not work (or with IR_METHOD=runs) each figure
# comes from two fresh runs instead, one of REQUESTS requests and one of 2 x REQUESTS, both
# counted to the end: (Ir of the longer - Ir of the shorter) / REQUESTS.
# Callgrind counts user-space instructions only: the kernel's work (socket reads and writes,
# epoll, fsync) is not in these figures.
#
# Usage: ./scripts/bench-instructions.sh [requests] [warmup]      (default 20000 5000)
#   QUORUMKV_BIN=path     use this quorumkv binary instead of building one
#   SYNC=normal           start the node with `--sync normal` (default: full)
#   IR_METHOD=runs        use the two-runs method even when callgrind_control works
set -euo pipefail
cd "$(dirname "$0")/.."

requests=${1:-20000}
warmup=${2:-5000}
case "$requests$warmup" in
    *[!0-9]*) echo "usage: $0 [requests] [warmup]" >&2; exit 2 ;;
esac
[ "$requests" -gt 0 ] || { echo "usage: $0 [requests] [warmup]" >&2; exit 2; }
method=${IR_METHOD:-control}
case "$method" in
    control | runs) ;;
    *) echo "error: IR_METHOD must be control or runs, got '$method'" >&2; exit 2 ;;
esac

source scripts/bench-common.sh
redis_port=16479
node_http=18181 node_peer=19181 node_resp=16481
require_free_ports $redis_port $node_http $node_peer $node_resp
install_missing valgrind:valgrind valgrind:callgrind_control redis-server:redis-server \
    redis-tools:redis-benchmark redis-tools:redis-cli
quorumkv_binary
sync_arguments

work=$(mktemp -d)
server_pid=""
benchmark_pid=""
cleanup() {
    [ -n "$benchmark_pid" ] && kill -TERM "$benchmark_pid" 2>/dev/null || true
    [ -n "$server_pid" ] && stop_server || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Two things valgrind 3.19 (Debian 12) can't take from a Swift binary as built:
# - its DWARF 5 debug information ("unhandled dwarf2 abbrev form", then it gives up), so the
#   node runs from a copy without debug information; the code, and so the count, is the same;
# - libdispatch's sigsuspend() with a signal mask in read-only memory: valgrind writes into
#   the mask it is given and dies of SIGSEGV. A preloaded sigsuspend() passes a copy.
node_binary="$work/quorumkv"
strip --strip-debug -o "$node_binary" "$binary" 2>/dev/null \
    || objcopy --strip-debug "$binary" "$node_binary" 2>/dev/null \
    || cp "$binary" "$node_binary"
node_preload=""
cat > "$work/sigsuspend.c" <<'C'
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, _NSIG / 8);
}
C
for compiler in "${CC:-cc}" gcc clang; do
    if command -v "$compiler" >/dev/null \
        && "$compiler" -O2 -shared -fPIC -o "$work/sigsuspend.so" "$work/sigsuspend.c" 2>/dev/null; then
        node_preload="$work/sigsuspend.so"
        break
    fi
done
[ -n "$node_preload" ] || echo "warning: no C compiler; the node may not run under this valgrind" >&2

value=$(printf '%0100d' 0 | tr 0 x)   # 100 bytes, as redis-benchmark -d 100

start_server() {  # $1 = redis or quorumkv, $2 = callgrind output file; sets server_pid and port
    local name=$1 out=$2
    if [ "$name" = redis ]; then
        port=$redis_port
        rm -rf "$work/redis" && mkdir -p "$work/redis"
        valgrind --tool=callgrind --callgrind-out-file="$out" \
            redis-server --port "$port" --save "" --appendonly yes --appendfsync everysec \
            --dir "$work/redis" --daemonize no > "$work/server.log" 2>&1 &
    else
        port=$node_resp
        rm -rf "$work/node1"
        LD_PRELOAD="$node_preload" valgrind --tool=callgrind --callgrind-out-file="$out" \
            "$node_binary" serve --node-id node1 --http "127.0.0.1:$node_http" \
            --peer "127.0.0.1:$node_peer" --resp "127.0.0.1:$port" --data-dir "$work/node1" \
            --member "node1=127.0.0.1:$node_peer" "${sync_args[@]}" > "$work/server.log" 2>&1 &
    fi
    server_pid=$!
    for _ in $(seq 1 1200); do   # up to 2 minutes: startup is slow under callgrind
        redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && return
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "error: $name did not start under callgrind:" >&2
    tail -40 "$work/server.log" >&2
    exit 1
}

stop_server() {  # SIGTERM, so that the server exits cleanly and callgrind writes its counts
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 600); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

load() {  # $1 = SET or GET, $2 = requests; every reply must be a success
    local cmd=(SET "key:__rand_int__" "$value")
    [ "$1" = GET ] && cmd=(GET "key:__rand_int__")
    [ "$2" -gt 0 ] || return 0
    redis-benchmark -h 127.0.0.1 -p "$port" -c 50 -n "$2" -r 100000 -P 1 --csv "${cmd[@]}" \
        > "$work/benchmark.out" 2>&1 &
    benchmark_pid=$!
    wait "$benchmark_pid" || true
    benchmark_pid=""
    if ! tr '\r' '\n' < "$work/benchmark.out" | grep '^"' | grep -qv '^"test"' \
        || grep -qE "Error|Could not connect" "$work/benchmark.out"; then
        echo "error: redis-benchmark $1 failed:" >&2
        cat "$work/benchmark.out" >&2
        exit 1
    fi
}

total_ir() {  # $1 = callgrind output file; prints its total instruction count
    local line
    for _ in $(seq 1 300); do
        [ -s "$1" ] && grep -q '^totals:' "$1" && break
        sleep 0.1
    done
    line=$(grep -m1 '^summary:' "$1" || grep -m1 '^totals:' "$1") \
        || { echo "error: no total in callgrind output $1" >&2; exit 1; }
    echo "${line#*: }" | awk '{print $1}'
}

control() {  # $1 = -z or -d
    callgrind_control "$1" "$server_pid" > "$work/control.out" 2>&1 && grep -q OK "$work/control.out"
}
control_or_fail() {  # $1 = -z or -d
    control "$1" || { echo "error: callgrind_control $1 failed:" >&2; cat "$work/control.out" >&2; exit 1; }
}

# Results: ir[name,op] per request; idle[name] Ir per second with no requests.
declare -A ir idle

measure_with_control() {  # $1 = redis or quorumkv
    local name=$1 out="$work/$1.callgrind" dumps=0 op
    start_server "$name" "$out"
    load SET "$warmup"
    load GET "$warmup"
    for op in SET GET; do
        control_or_fail -z
        load "$op" "$requests"
        control_or_fail -d
        dumps=$((dumps + 1))
        ir[$name,$op]=$(( $(total_ir "$out.$dumps") / requests ))
    done
    control_or_fail -z
    sleep 5
    control_or_fail -d
    dumps=$((dumps + 1))
    idle[$name]=$(( $(total_ir "$out.$dumps") / 5 ))
    stop_server
}

measure_with_runs() {  # $1 = redis or quorumkv
    local name=$1 op count totals
    for op in SET GET; do
        totals=()
        for count in "$requests" $((2 * requests)); do
            start_server "$name" "$work/$name.$op.$count.callgrind"
            load SET "$warmup"
            load GET "$warmup"
            load "$op" "$count"
            stop_server
            totals+=("$(total_ir "$work/$name.$op.$count.callgrind")")
        done
        ir[$name,$op]=$(( (totals[1] - totals[0]) / requests ))
    done
    idle[$name]="n/a"
}

if [ "$method" = control ]; then
    # Does callgrind_control reach a process here (it drives valgrind's gdbserver through vgdb)?
    start_server redis "$work/probe.callgrind"
    if ! control -z; then
        echo "note: callgrind_control does not work here ($(head -1 "$work/control.out")); using two runs per figure" >&2
        method=runs
    fi
    stop_server
fi

echo "Instructions (Ir) per request under callgrind: $requests SETs, then $requests GETs, after a warmup of" \
    "$warmup of each; redis-benchmark -c 50 -r 100000 -P 1, 100-byte values"
echo "method: $([ "$method" = control ] && echo "callgrind_control, zeroed before and dumped after each run" \
    || echo "two runs per figure, (Ir of 2N requests - Ir of N) / N")"
for name in redis quorumkv; do
    "measure_with_$method" "$name"
done

echo
printf '%-34s %13s %13s %14s\n' server "Ir per SET" "Ir per GET" "Ir/s idle"
printf '%-34s %13s %13s %14s\n' "redis-server (AOF everysec)" "${ir[redis,SET]}" "${ir[redis,GET]}" "${idle[redis]}"
printf '%-34s %13s %13s %14s\n' "quorumkv, one node (serve)" "${ir[quorumkv,SET]}" "${ir[quorumkv,GET]}" "${idle[quorumkv]}"
printf '%-34s %13s %13s\n' "ratio quorumkv / redis-server" \
    "$(awk -v a="${ir[quorumkv,SET]}" -v b="${ir[redis,SET]}" 'BEGIN {printf "%.2f", a / b}')" \
    "$(awk -v a="${ir[quorumkv,GET]}" -v b="${ir[redis,GET]}" 'BEGIN {printf "%.2f", a / b}')"
