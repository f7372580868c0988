#!/usr/bin/env bash
# QuorumCore holds the protocol logic and must stay pure: no IO, clocks or randomness,
# so tests and the simulator can drive it. This fails on any import that would bring them.
set -euo pipefail
cd "$(dirname "$0")/.."
if grep -rnE '^\s*import\s+(Foundation|FoundationEssentials|Dispatch|NIO[A-Za-z]*|CSQLite|CLZ4|Glibc|Darwin|QuorumStorage|QuorumNode)\b' Sources/QuorumCore; then
    echo "error: QuorumCore must import the standard library only (see docs/architecture.md)" >&2
    exit 1
fi
if grep -rnE '\b(Date\(\)|\.random\(|SystemRandomNumberGenerator|hashValue|Hasher\()' Sources/QuorumCore; then
    echo "error: QuorumCore must not read clocks, draw random numbers or use the per-process Hasher" >&2
    exit 1
fi
# QuorumServices is the node's driving code: it runs on an executor its world supplies (the
# node's event loops, the simulator's agenda), so it imports only the core and holds no
# thread, lock, clock or random generator of its own.
if grep -rnE '^\s*import\s+' Sources/QuorumServices | grep -vE 'import\s+QuorumCore\s*$'; then
    echo "error: QuorumServices may import QuorumCore only (see docs/architecture.md)" >&2
    exit 1
fi
if grep -rnE '\b(Task \{|DispatchQueue|Mutex|Atomic<|Date\(\)|\.random\(|SystemRandomNumberGenerator|hashValue|Hasher\()' Sources/QuorumServices; then
    echo "error: QuorumServices must not start tasks, take locks, read clocks or draw random numbers itself" >&2
    exit 1
fi
echo "QuorumCore is pure; QuorumServices reaches the world only through its interfaces"
