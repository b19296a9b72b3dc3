# Quick start: `make demo` (export, verify and benchmark the bundled model) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DIST ?= dist

.PHONY: setup demo test lint java browser clean bundled-model

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

# The main job on the bundled model: export every format, prove parity, measure speed.
demo: setup
	$(BIN)/edge-ser export --out $(DIST) --force
	$(BIN)/edge-ser verify $(DIST)
	$(BIN)/edge-ser bench $(DIST) --seconds 60 --markdown $(DIST)/bench.md

# A JDK runs the Java port's golden check; install Debian's where we may (root), else it is skipped.
java:
	@command -v javac >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& (apt-get update -qq && apt-get install -y -qq default-jdk-headless >/dev/null) \
		|| echo "note: no JDK; the Java golden check will be skipped"; }

# What only the tests need: MediaPipe (verify's AudioClassifier row) and, for the web sample's
# browser test, Debian's Chromium (installed where we may, as root) and the page's npm packages.
$(VENV)/.test-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev,mediapipe]"
	touch $@

browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| echo "note: no Chromium; the browser test will be skipped"; }
	@command -v npm >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& (apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null) \
		|| echo "note: no Node.js; the browser test will be skipped"; }
	@command -v npm >/dev/null 2>&1 && (cd web_sample && npm ci --no-audit --no-fund --silent) \
		|| echo "note: web_sample packages not installed; the browser test will be skipped"

test: setup java browser $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# Retrain the bundled default model: the default recipe trained with each seed of SEEDS on every
# speaker of RAVDESS and EMO-DB, joined into one model that averages their probabilities; then
# measure that seed ensemble across speakers and corpora for its model card: each seed's
# 5-fold leave-speakers-out over both corpora and leave-one-corpus-out both ways, scored as the
# ensemble (about 2 hours 10 minutes on 2 CPU cores, most of it the cross-validation).
RAVDESS ?= ../shared/data/ravdess-speech-actors01-20
EMODB ?= ../shared/data/emodb/wav
SEEDS ?= 0 1
CROSS_CORPUS := benchmarks/cross-corpus-bundled-recipe
MEMBERS := runs/bundled-members
RECIPE_CV := $(BIN)/python benchmarks/cross_corpus.py --ravdess $(RAVDESS) --emodb $(EMODB) \
	--methods edge-ser --keep-scores
bundled-model: setup
	mkdir -p $(MEMBERS)
	for seed in $(SEEDS); do \
		$(BIN)/edge-ser train $(RAVDESS) $(EMODB) --val-speakers none --seed $$seed \
			--out $(MEMBERS)/seed$$seed --force || exit 1; \
		$(RECIPE_CV) --protocols joint-cv --set seed=$$seed \
			--json $(MEMBERS)/seed$$seed-joint-cv.json || exit 1; \
		for direction in ravdess2emodb emodb2ravdess; do \
			$(RECIPE_CV) --protocols "$$(echo $$direction | sed 's/2/->/')" --set seed=$$seed \
				--json $(MEMBERS)/seed$$seed-loco-$$direction.json || exit 1; \
		done; \
	done
	$(BIN)/edge-ser ensemble $(foreach seed,$(SEEDS),$(MEMBERS)/seed$(seed)) --out runs/bundled --force
	for part in joint-cv loco-ravdess2emodb loco-emodb2ravdess; do \
		$(BIN)/python benchmarks/cross_corpus.py \
			--ensemble $(foreach seed,$(SEEDS),$(MEMBERS)/seed$(seed)-$$part.json) \
			--json $(CROSS_CORPUS)-$$part.json --markdown $(CROSS_CORPUS)-$$part.md || exit 1; \
	done
	$(BIN)/edge-ser export --model runs/bundled --out runs/bundled-int8 --formats tflite-int8 --force
	$(BIN)/python -m edge_ser.promote runs/bundled --export runs/bundled-int8 --cross-corpus \
		$(foreach part,joint-cv loco-ravdess2emodb loco-emodb2ravdess,$(CROSS_CORPUS)-$(part).json)

clean:
	rm -rf $(DIST) build *.egg-info .pytest_cache .ruff_cache
