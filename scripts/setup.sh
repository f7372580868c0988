#!/usr/bin/env bash
# Installs what QuorumKV needs to build on Debian, only when it is missing.
set -euo pipefail

need=()
for package in liblz4-dev libsqlite3-dev pkg-config curl; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || need+=("$package")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "error: swift is not on PATH; install the Swift 6 toolchain first" >&2; exit 1; }
