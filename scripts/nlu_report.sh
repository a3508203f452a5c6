#!/usr/bin/env bash
# Cross-validated intent metrics of the NLU pipeline; writes docs/nlu-report.md and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
folds=${FOLDS:-5}
rm -rf results/nlu && mkdir -p results
PYTHONPATH=. RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 \
  .venv-rasa/bin/rasa test nlu --nlu nlu/nlu --config config.yml --domain nlu/domain.yml \
  --cross-validation --folds "$folds" --out results/nlu >results/nlu.log 2>&1 ||
  { tail -40 results/nlu.log >&2; exit 1; }
.venv/bin/python scripts/nlu_report.py results/nlu "$folds" | tee docs/nlu-report.md
