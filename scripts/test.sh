#!/usr/bin/env bash
# Install what is missing and run the whole test suite:
#   0. the style gate:        cargo fmt --check, cargo clippy --all-targets -D warnings
#   1. the Rust tests:        cargo nextest run --workspace   (--profile ci when CI=true)
#   2. the Python SDK tests:  pytest -q in tests/sdk/python   (official browser-use-sdk, sync + async),
#                             then the lifecycle, agent and restart ones again on PostgreSQL
#                             (a throwaway cluster from scripts/pg-throwaway.sh)
#   3. the TS SDK tests:      node --test in tests/sdk/ts     (official browser-use-sdk/v3)
#   4. the live-view tests:   tests/live/run.sh               (Playwright driving Debian's Chromium)
# Every part runs even if an earlier one failed; the script fails if any part failed.
# The SDK tests start real `tandem serve` processes from $TANDEM_BIN (default: the debug build).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

./scripts/install-deps.sh --test
# Chromium is required, never optional: tests that need it must fail, not skip, without it.
if [ ! -x /usr/lib/chromium/chromium ]; then
  echo "test: Chromium is missing at /usr/lib/chromium/chromium" >&2
  exit 1
fi

cargo build --bin tandem
export TANDEM_BIN="${TANDEM_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/tandem}"

nextest_args=(--workspace)
if [ "${CI:-}" = "true" ]; then
  nextest_args+=(--profile ci)
fi

failed=()
section() { printf '\n==> %s\n' "$*"; }

section "Style: cargo fmt --check, cargo clippy -D warnings"
{ cargo fmt --all --check && cargo clippy --workspace --all-targets --quiet -- -D warnings; } || failed+=("style")

section "Rust: cargo nextest run ${nextest_args[*]}"
cargo nextest run "${nextest_args[@]}" || failed+=("rust")

section "Python SDK: pytest -q (tests/sdk/python)"
(cd tests/sdk/python && .venv/bin/python -m pytest -q) || failed+=("python-sdk")

section "Python SDK on PostgreSQL: tandem serve --database-url postgres://... (tests/sdk/python)"
if pg="$(./scripts/pg-throwaway.sh start)"; then
  pg_dir="$(sed -n 1p <<<"$pg")"
  (cd tests/sdk/python && TANDEM_TEST_PG_URL="$(sed -n 2p <<<"$pg")" .venv/bin/python -m pytest -q \
    test_lifecycle.py test_agent_flow.py test_restart.py) || failed+=("python-sdk-postgres")
  ./scripts/pg-throwaway.sh stop "$pg_dir"
else
  failed+=("python-sdk-postgres")
fi

section "TypeScript SDK: node --test (tests/sdk/ts)"
(cd tests/sdk/ts && node --test --test-reporter=spec --test-concurrency=1 test/) || failed+=("ts-sdk")

section "Live view: Playwright against tandem serve (tests/live)"
./tests/live/run.sh || failed+=("live-view")

echo
if [ "${#failed[@]}" -gt 0 ]; then
  echo "test: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "test: all suites passed"
