#!/usr/bin/env bash
# Runs the live-view tests: Playwright (playwright-core, Debian's Chromium) against a real
# `tandem serve`. Builds the binary if needed and installs the npm dependencies from the lock.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
cargo build -q -p tandem
cd "$here"
npm ci --no-audit --no-fund --silent
node --test --test-reporter=spec --test-concurrency=1 test/
