#!/usr/bin/env bash
# Runs Tandem's benchmarks and prints their figures. Release builds; real Chromium; pages
# served on 127.0.0.1. Usage: benches/run.sh [pool]
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"
if [[ "$which" == all || "$which" == pool ]]; then
  cargo bench -q -p browser --bench pool_acquire
fi
