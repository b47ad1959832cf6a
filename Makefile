# calfsim: the two Quick start commands are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck imports unit bench clean

NPM        ?= npm
NODE_STAMP := node_modules/.package-lock.json
CHROMIUM   ?= /usr/bin/chromium

# mediapipe 0.10.21 (the photo try-on's pose model) is installed without its dependencies: its
# metadata pins numpy<2, but it runs unchanged on numpy 2 (docs/decisions.md, docs/photo.md).
$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "calfsim needs Python >= 3.11; found " + sys.version.split()[0])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,photo]'
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt --no-deps mediapipe==0.10.21
	@touch $(STAMP)

# Node packages from the committed lockfile (three.js for the web viewer, the Khronos glTF
# validator for the tests). Without npm this only warns: the GLB validator tests then skip and
# say why, and the web app's 3D viewer cannot load.
$(NODE_STAMP): package.json package-lock.json
	@if command -v $(NPM) >/dev/null 2>&1; then \
		echo "$(NPM) ci --no-audit --no-fund"; $(NPM) ci --no-audit --no-fund; \
	else \
		echo "warning: npm not found; the glTF validator tests will be skipped (install Node.js >= 18 with npm)" >&2; \
	fi

## Set up and start the web app on http://127.0.0.1:8000 (SQLite results in out/; Ctrl+C stops).
run: $(STAMP) $(NODE_STAMP)
	@mkdir -p out
	$(VENV)/bin/calfsim serve --host 127.0.0.1 --port 8000 --db sqlite:///out/calfsim.sqlite3

## Set up and run the whole suite: lint, types, import layers, tests.
test: $(STAMP) $(NODE_STAMP) $(CHROMIUM) lint typecheck imports unit

# Debian's Chromium for the browser tests (tests/web/browser, driven by Python playwright; never
# `playwright install`). Installed when missing and we are root with apt-get (as in CI);
# otherwise the browser tests skip and say why.
$(CHROMIUM):
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "apt-get install chromium (browser tests)"; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; \
	else \
		echo "warning: $(CHROMIUM) is missing and cannot be installed here (needs root and apt-get); the browser tests will be skipped" >&2; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts

typecheck: $(STAMP)
	$(VENV)/bin/mypy

imports: $(STAMP)
	$(VENV)/bin/lint-imports --no-cache

unit: $(STAMP) $(NODE_STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m pytest benchmarks --benchmark-only --benchmark-columns=min,median,max,rounds -q

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
