#!/usr/bin/env bash
# Sets up, builds and runs every QuorumKV test: the pure core, storage, transport, HTTP,
# and real clusters of separate processes on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/setup-test-tools.sh  # redis-cli, redis-benchmark, python redis: the RESP tests drive them
./scripts/check-core-purity.sh
swift build --build-tests
swift test --skip-build "$@"
