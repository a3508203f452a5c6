# giaitrinh: the commands a developer types. Every target sets up what it needs.
SHELL := /bin/bash
VENV := .venv/bin
export PYTHONPATH := $(CURDIR)

.PHONY: setup system-deps db demo train run cluster test lint nlu-report bench bench-broadcast bench-faults bench-load bench-search bench-reports eval screenshots clean

setup:
	@bash scripts/setup.sh

# Debian packages the test suite needs (headless Chromium for the browser tests).
system-deps:
	@bash scripts/system-deps.sh

db: setup
	@$(VENV)/giaitrinh db upgrade

demo: db
	@$(VENV)/giaitrinh demo load

train: setup
	@bash scripts/train.sh >/dev/null

# Web chat on http://127.0.0.1:8080/ with the engine on 127.0.0.1:5005; Ctrl-C stops both.
run: demo
	@$(VENV)/giaitrinh up --model "$$(bash scripts/train.sh)"

# The production layout on this host (docs/operations.md): PostgreSQL, Redis, 2 engines,
# 2 gateways, a dispatcher and nginx on http://127.0.0.1:8080/, with the demo data; Ctrl-C stops it.
cluster: setup system-deps
	@$(VENV)/giaitrinh cluster --model "$$(bash scripts/train.sh)" --demo

test: setup system-deps
	@bash scripts/train.sh >/dev/null
	@$(VENV)/ruff check bot connectors actions nlu tests bench scripts
	@$(VENV)/mypy
	@$(VENV)/mypy --strict bot
	@$(VENV)/pytest -q -ra

lint: setup
	@$(VENV)/ruff check bot connectors actions nlu tests bench scripts
	@$(VENV)/ruff format --check bot connectors actions nlu tests bench scripts
	@$(VENV)/mypy
	@$(VENV)/mypy --strict bot

# Cross-validated intent metrics (5 folds); the report lands in docs/nlu-report.md.
nlu-report: setup
	@bash scripts/nlu_report.sh

bench: setup
	@$(VENV)/python -m bench.gateway_vs_rasa --model "$$(bash scripts/train.sh)"

# Broadcasts: fan-out planning (100k and 1M subscribers) against a bare INSERT ... SELECT,
# on SQLite and then on a throw-away PostgreSQL (bench/servers.py),
# then dispatch capacity, limit use and crash safety against a fake Telegram Bot API process
# and a fake Zalo OA process (promotions on the monthly quota; --channel to run one).
bench-broadcast: setup
	@$(VENV)/python -m bench.broadcast_fanout --sizes 100000,1000000
	@$(VENV)/python -m bench.broadcast_fanout --sizes 100000,1000000 --postgres
	@$(VENV)/python -m bench.broadcast_dispatch

# Faults on the production layout (bench/faults.py, all on 127.0.0.1, each bounded): an engine
# and a gateway SIGKILLed while citizens chat, PostgreSQL restarted under webhooks, 5,000 webhooks
# in 10 s, the dispatcher SIGKILLed mid-broadcast (PostgreSQL).
bench-faults: setup system-deps
	@$(VENV)/python -m bench.faults --model "$$(bash scripts/train.sh)"

# A gateway process following publications at 10,000 explanations (SQLite and PostgreSQL).
# Report queries on 1,000,000 cases in a throw-away PostgreSQL (bench/reports.py; issue 16's
# goal: each under 200 ms). Figures in docs/benchmarks.md.
bench-reports: setup
	@$(VENV)/python -m bench.reports --cases 1000000

bench-search: setup
	@$(VENV)/python -m bench.search_follow

# Scaling out: web-chat conversations at 1-2 engines x 1-2 gateways in the production layout
# (PostgreSQL, Redis lock store), vs raw Rasa REST; CPU per process type and a projection.
bench-load: setup
	@$(VENV)/python -m bench.load --model "$$(bash scripts/train.sh)"

# Answer quality on the tune and test parts of tests/data/qa/questions.yaml (zones, top-1/3,
# "I don't know", excerpts) and search speed, then the whole-path cost of
# searching (real answer action vs a no-op one on the same engine).
eval: setup
	@$(VENV)/python -m bench.eval_search
	@$(VENV)/python -m bench.answer_path --model "$$(bash scripts/train.sh)"
	@# Intents on tests/data/nlu/messages.yaml (tune, test), holdout.yaml (dev, final) and third.yaml, long and short.
	@.venv-rasa/bin/python scripts/eval_intents.py --model "$$(bash scripts/train.sh)"

# The console's pictures (and the public scoreboard's) in docs/console/ and the README, taken by
# their browser tests.
screenshots: setup system-deps
	@bash scripts/train.sh >/dev/null
	@mkdir -p docs/console
	@GIAITRINH_SCREENSHOTS=docs/console $(VENV)/pytest -q tests/e2e/test_handoff_browser.py tests/e2e/test_console_browser.py tests/e2e/test_publish_browser.py tests/e2e/test_report_browser.py tests/e2e/test_scoreboard_browser.py

clean:
	rm -rf .venv .venv-rasa models var results
