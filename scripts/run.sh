#!/usr/bin/env bash
# Sets up, builds and starts a local QuorumKV cluster (3 nodes on loopback, data in ./data).
# Extra arguments go to `quorumkv cluster up`, e.g. ./scripts/run.sh --nodes 5
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift build -c release --product quorumkv
exec "$(swift build -c release --show-bin-path)/quorumkv" cluster up "$@"
