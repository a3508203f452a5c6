#!/usr/bin/env bash
# Cross-validated intent metrics of the NLU pipeline, repeated (Rasa shuffles the folds at
# random each run); writes docs/nlu-report.md and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
folds=${FOLDS:-5}
repeats=${REPEATS:-3}
rm -rf results/nlu results/nlu-* && mkdir -p results
runs=()
for run in $(seq 1 "$repeats"); do
  out="results/nlu-$run"
  PYTHONPATH=. RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 \
    .venv-rasa/bin/rasa test nlu --nlu nlu/nlu --config config.yml --domain nlu/domain.yml \
    --cross-validation --folds "$folds" --out "$out" >"results/nlu-$run.log" 2>&1 ||
    { tail -40 "results/nlu-$run.log" >&2; exit 1; }
  runs+=("$out")
done
.venv/bin/python scripts/nlu_report.py "$folds" "${runs[@]}" | tee docs/nlu-report.md
