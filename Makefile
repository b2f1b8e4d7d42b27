# Every target bootstraps .venv itself: on a fresh Debian/Ubuntu machine with Python 3.11+ and the Qt runtime
# libraries (see README), `make run` and `make test` are all anyone types.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.osler-installed
PO := $(wildcard locales/*/LC_MESSAGES/osler.po)
MO := $(PO:.po=.mo)
PYTEST_ARGS ?=
# The suite runs in parallel, one worker per core, each test file on one worker (its module fixtures built once),
# the longest files first (tests/conftest.py orders them by what each took last time, kept in pytest's cache), so
# no long file starts while the other worker runs out of work; `make test WORKERS=0` runs it in one process.
WORKERS ?= auto
XDIST := $(if $(filter 0,$(WORKERS)),,-n $(WORKERS) --dist loadfile --no-loadscope-reorder)

PACKAGE_STAMP := $(VENV)/.osler-package-installed
APP ?=

.PHONY: run test bench i18n i18n-report catalogs check-qt lint screenshots package package-check clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "Osler needs Python 3.11 or newer as '$(PYTHON)'; install it or run: make PYTHON=python3.12 ..."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "Could not create $(VENV). On Debian/Ubuntu: sudo apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

$(PACKAGE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,package]'
	@touch $@

locales/%/LC_MESSAGES/osler.mo: locales/%/LC_MESSAGES/osler.po $(STAMP)
	@$(BIN)/pybabel compile --statistics -D osler -i $< -o $@

catalogs: $(MO)

check-qt: $(STAMP)
	@$(BIN)/python -m desktop.qtcheck

run: $(STAMP) catalogs
	@$(BIN)/python -m desktop.qtcheck run
	$(BIN)/osler

# The suite runs twice: as usual, then with every wall clock a year ahead (tests/shifted.py), so no test can
# depend on the day it runs. The first run watches each test for a read of the wall clock by our code (time.time(),
# the SYSTEM clock, datetime.now()) or a child process started, and notes in pytest's cache the tests that read
# none: the clock cannot change what they do, so the shifted run leaves them out. It runs every other test,
# including any the first run has no record of; OSLER_SHIFTED_ALL=1 makes it run them all. The long cut-and-kill
# loops (marked slow) run once.
test: $(STAMP) catalogs check-qt
	$(BIN)/ruff check .
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m tests.shifted 365 -- $(BIN)/python -m pytest -q -m "not slow" $(XDIST) $(PYTEST_ARGS)

bench: $(STAMP) catalogs
	@set -e; for script in tests/benchmarks/bench_*.py; do \
	  module=$$(echo $${script%.py} | tr / .); QT_QPA_PLATFORM=offscreen $(BIN)/python -m $$module; done

# Every screen rendered to screenshots/*.png in a real X window (needs Debian's xvfb), to look at: every view in
# each of the 12 UI languages under screenshots/<tag>/, and the fit matrix under screenshots/fit/.
# `make screenshots APP=build/dist/osler/osler` instead runs a built app's self-test under Xvfb and keeps its
# main window in screenshots/packaged-main.png.
screenshots: $(STAMP) catalogs
	@command -v xvfb-run >/dev/null || { echo "make screenshots needs Xvfb: sudo apt-get install xvfb"; exit 1; }
	@mkdir -p screenshots
	$(if $(APP),xvfb-run -a -s "-screen 0 1280x800x24" $(APP) --self-test --screenshot screenshots/packaged-main.png,\
	  xvfb-run -a -s "-screen 0 1440x900x24" $(BIN)/python -m tests.screenshots screenshots)

# The desktop app frozen by PyInstaller into build/dist/osler, then dist/: a .deb and a portable tar.gz on Linux,
# SHA256SUMS and its signature (packaging/README.md). package-check tests what was built (CI runs it).
package: $(PACKAGE_STAMP) catalogs
	$(BIN)/python packaging/build.py

package-check: package
	bash packaging/check-package.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Re-extract the strings from the code, merge them into every language's catalog, then compile.
i18n: $(STAMP)
	$(BIN)/pybabel extract -F locales/babel.cfg -k N_ -k C_:1c,2 -k pgettext:1c,2 --no-wrap --sort-by-file \
	  --project=Osler --copyright-holder="Osler contributors" -o locales/osler.pot desktop sync
	$(BIN)/pybabel update --no-wrap -i locales/osler.pot -d locales -D osler
	$(MAKE) catalogs

# Per language: its name in its own script, translated/total, percent, fuzzy entries and text direction.
i18n-report: $(STAMP)
	@$(BIN)/python -m desktop.catalog_check

clean:
	rm -rf $(VENV) $(MO) .pytest_cache .ruff_cache build dist
