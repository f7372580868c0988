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
echo "QuorumCore is pure"
