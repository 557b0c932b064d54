#!/usr/bin/env bash
# Runs Tandem's benchmarks and prints their figures. Release builds; real Chromium; pages
# served on 127.0.0.1. Usage: benches/run.sh [pool|sessions|observe|live|proxy]
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"
if [[ "$which" == all || "$which" == pool ]]; then
  cargo bench -q -p browser --bench pool_acquire
fi
# `benches/run.sh proxy`: a browser behind an upstream proxy (relay): launch and page loads.
if [[ "$which" == all || "$which" == proxy ]]; then
  cargo bench -q -p browser --bench proxy_relay
fi
# `benches/run.sh sessions`: POST /sessions p50/p99 with a warm pool, GET /sessions/{id} rate.
if [[ "$which" == all || "$which" == sessions ]]; then
  cargo bench -q -p server --bench sessions
fi
# `benches/run.sh store`: store latency, SQLite vs PostgreSQL (a throwaway local cluster).
if [[ "$which" == all || "$which" == store ]]; then
  cargo bench -q -p store --bench backends
fi
# `benches/run.sh observe`: perception, tandem observe vs browser-use 0.13.14.
if [[ "$which" == all || "$which" == observe ]]; then
  benches/observe/run.sh
fi
# `benches/run.sh live`: live view click-to-frame latency, fps, bytes per frame (release build).
if [[ "$which" == all || "$which" == live ]]; then
  cargo build -q --release -p tandem
  (cd tests/live && npm ci --no-audit --no-fund --silent)
  TANDEM_BIN=target/release/tandem node benches/live_view.mjs
  # The sharp HiDPI setting: browsers at device scale factor 2, a DPR-2 viewer.
  BENCH_DPR=2 TANDEM_BIN=target/release/tandem node benches/live_view.mjs
fi
