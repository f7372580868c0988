# Set-up shared by the benchmark scripts; source it from the repository's root.

# Exits unless every port given is free on loopback.
require_free_ports() {
    local port
    for port in "$@"; do
        if (echo > /dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
            echo "error: port $port is in use; stop whatever listens there first" >&2
            exit 1
        fi
    done
}

# Installs the Debian packages given as package:command pairs whose command is missing.
install_missing() {
    local pair need=() sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd=sudo
    for pair in "$@"; do
        command -v "${pair#*:}" >/dev/null || need+=("${pair%%:*}")
    done
    [ ${#need[@]} -gt 0 ] || return 0
    mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
    echo "installing: ${need[*]}"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
}

# Sets `binary` to an absolute path of QUORUMKV_BIN, or of a fresh release build.
quorumkv_binary() {
    if [ -n "${QUORUMKV_BIN:-}" ]; then
        binary=$QUORUMKV_BIN
        [ -x "$binary" ] || { echo "error: QUORUMKV_BIN=$binary is not an executable file" >&2; exit 1; }
    else
        ./scripts/setup.sh
        swift build -c release --product quorumkv
        binary="$(swift build -c release --show-bin-path)/quorumkv"
    fi
    binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
}

# Sets `sync_args` from SYNC (full or normal; unset: the node's default, full).
sync_arguments() {
    sync_args=()
    case "${SYNC:-}" in
        "") ;;
        full | normal) sync_args=(--sync "$SYNC") ;;
        *) echo "error: SYNC must be full or normal, got '$SYNC'" >&2; exit 2 ;;
    esac
}
