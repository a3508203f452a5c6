#!/usr/bin/env bash
# Train the Rasa model only when its inputs changed; print the model's path last.
# The model is named by a hash of config.yml, nlu/ and the engine's lock file, so an
# unchanged project reuses models/nlu-<hash>.tar.gz without starting Rasa at all.
set -euo pipefail
cd "$(dirname "$0")/.."
hash=$(cat config.yml requirements/rasa.lock $(find nlu -type f \( -name '*.yml' -o -name '*.py' \) | sort) | sha256sum | cut -c1-12)
model="models/nlu-$hash.tar.gz"
if [ ! -f "$model" ]; then
  echo "==> training the Rasa model ($model)" >&2
  mkdir -p models
  PYTHONPATH=. RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 \
    .venv-rasa/bin/rasa train --config config.yml --domain nlu/domain.yml \
    --data nlu/nlu nlu/rules.yml nlu/stories.yml --out models --fixed-model-name "nlu-$hash" >&2
fi
echo "$model"
