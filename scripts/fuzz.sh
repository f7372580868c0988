#!/usr/bin/env bash
# Builds the libFuzzer targets of FuzzTesting/ and runs one of them for a while, then
# minimizes its corpus. Not part of CI (CI replays the committed corpora through ordinary
# tests: FuzzCorpusReplayTests); see docs/fuzzing.md.
#
#   scripts/fuzz.sh TARGET [SECONDS] [LIBFUZZER FLAGS...]
#
# TARGET is one of the executables in FuzzTesting/Package.swift (FuzzRESP, FuzzHTTP,
# FuzzPeerFrame, FuzzGossip, FuzzVersionCodecs, FuzzStoredRow, FuzzACLFile). SECONDS defaults to 300.
# New inputs go to FuzzTesting/Corpus/TARGET, which is then merged (-merge=1) down to the
# inputs that keep its coverage, seeds from scripts/fuzz-seeds.py included. A crash, a
# failed check, a timeout or an oversized allocation leaves its input in
# FuzzTesting/.build/artifacts/TARGET/; rerun it with
#   scripts/fuzz.sh TARGET 0 FuzzTesting/.build/artifacts/TARGET/crash-...
# (SECONDS 0 with input files: run just those inputs, no merge).
#
# The whole fuzz package (QuorumKV and NIO included) is built with -sanitize=fuzzer,address:
# coverage feedback for the fuzzer, AddressSanitizer for the C under LZ4 and any unsafe Swift.
set -euo pipefail

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 1 ] || usage
target=$1
seconds=${2:-300}
shift $(( $# >= 2 ? 2 : 1 ))

# -max_len: inputs above it are never tried. Long enough for every decoder's interesting
# shapes (a few members, siblings, pipelined commands), short enough to keep runs fast.
case $target in
    FuzzRESP | FuzzPeerFrame | FuzzGossip | FuzzStoredRow) max_len=4096 ;;
    FuzzHTTP | FuzzVersionCodecs | FuzzACLFile) max_len=2048 ;;
    *) echo "unknown target $target" >&2; usage ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
package=$root/FuzzTesting
build=(swift build -c release --package-path "$package" -Xswiftc -sanitize=fuzzer,address)
"${build[@]}" --product "$target"
binary=$("${build[@]}" --show-bin-path)/$target

corpus=$package/Corpus/$target
seeds=$package/.build/seeds/$target
artifacts=$package/.build/artifacts/$target
mkdir -p "$corpus" "$artifacts"
rm -rf "$seeds"
python3 "$root/scripts/fuzz-seeds.py" "$target" "$seeds"

# Bounds of one run: -rss_limit_mb caps the process, -malloc_limit_mb any one allocation
# (a decoder that allocates 256 MiB for a 4 KiB input trusts a length it should not),
# -timeout one input (seconds: any input taking that long is a hang).
limits=(-max_len="$max_len" -rss_limit_mb=2048 -malloc_limit_mb=256 -timeout=10)

if [ "$seconds" = 0 ] && [ $# -gt 0 ]; then
    exec "$binary" "${limits[@]}" "$@"
fi

"$binary" "$corpus" "$seeds" "${limits[@]}" -max_total_time="$seconds" -artifact_prefix="$artifacts/" \
    -print_final_stats=1 "$@"

# Keep only inputs that add coverage, so the committed corpus stays small.
merged=$package/.build/merged/$target
rm -rf "$merged"
mkdir -p "$merged"
"$binary" -merge=1 "${limits[@]}" "$merged" "$corpus" "$seeds"
rm -rf "$corpus"
mv "$merged" "$corpus"
echo "$target: $(ls "$corpus" | wc -l) inputs in FuzzTesting/Corpus/$target"
