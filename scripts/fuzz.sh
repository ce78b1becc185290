#!/usr/bin/env bash
# Runs Quarry's cargo-fuzz targets (fuzz/fuzz_targets) one after the other.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Default: 20 seconds for each of the three targets (the smoke run of scripts/test.sh). For a
# real campaign give minutes: `scripts/fuzz.sh 900 filter_parser`. Each target starts from the
# checked-in seeds (fuzz/seeds/<target>) and the corpus it grew before (fuzz/corpus/<target>,
# not checked in). A crash, a hang (>10 s for one input) or an input using more than 2 GB
# stops the run with a non-zero status and leaves the input in fuzz/artifacts/<target>/;
# replay it with `scripts/fuzz.sh replay <target> <file>`.
#
# cargo-fuzz needs nightly-only flags: with a stable toolchain, RUSTC_BOOTSTRAP=1 allows them.
# Builds are instrumented for coverage without a sanitizer (`-s none`): the workspace forbids
# `unsafe`, so what there is to find is panics, overflows (debug assertions are on), runaway
# recursion, hangs and memory blow-ups, all of which libFuzzer catches on its own.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1
BUILD=(-s none --debug-assertions)
ALL_TARGETS=(filter_parser document_payload search_request)

if [ "${1:-}" = "replay" ]; then
  target="$2"
  shift 2
  exec cargo fuzz run "${BUILD[@]}" "$target" "$@"
fi

seconds="${1:-20}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${ALL_TARGETS[@]}")

echo "== building fuzz targets"
cargo fuzz build "${BUILD[@]}"
for target in "${targets[@]}"; do
  echo "== fuzzing $target for ${seconds}s"
  mkdir -p "corpus/$target"
  cargo fuzz run "${BUILD[@]}" "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
done
