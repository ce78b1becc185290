#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, then every test of the workspace.
# Installs nothing the machine lacks silently: what the tests need is installed here.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (install Rust with rustup)" >&2
  exit 1
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true

# The preview page's browser tests drive Debian's headless Chromium.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "== installing chromium (browser tests of the preview page)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

echo "== cargo test"
cargo test --workspace --all-targets 2>&1 | tee /tmp/quarry-test.log
# Doc tests are few; run them too so examples in docs stay true.
cargo test --workspace --doc

# A short run of every fuzz target from the checked-in seeds (installs cargo-fuzz when
# missing): any crash, hang or memory blow-up on the seeds or nearby fails the suite.
echo "== fuzz smoke run"
./scripts/fuzz.sh "${QUARRY_FUZZ_SECONDS:-20}"
