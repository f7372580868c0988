#!/usr/bin/env bash
# Sets up, builds and runs every QuorumKV test: the pure core, storage, transport, HTTP,
# and real clusters of separate processes on loopback; then the deploy files, the status
# page in headless Chromium, and five nodes in network namespaces (the last two say why
# they skipped where the machine can't run them).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/setup-test-tools.sh  # redis-cli, redis-benchmark, python redis: the RESP tests drive them
./scripts/check-core-purity.sh
swift build --build-tests
swift test --skip-build "$@"
binary="$(swift build --show-bin-path)/quorumkv"
python3 ./scripts/check-deploy.py "$binary"
./scripts/check-status-page.sh "$binary"
./scripts/netns-test.sh "$binary"
