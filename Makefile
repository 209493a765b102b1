# Two entry points (see README): `make book` and `make test`.
# Both create .venv and install the pinned toolchain on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP_VERSION := 26.3

.PHONY: setup chromium book store test test-book test-without-book test-portable lab benchmark constraints clean

# Debian's chromium, for the browser test of the built book (tests/test_built_book.py).
CHROMIUM_INSTALL := apt-get update -qq && apt-get install -y -qq chromium

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "pip==$(PIP_VERSION)"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[book,test,lab]"
	touch $@

setup: $(STAMP)

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	    if [ "$$(id -u)" = 0 ]; then $(CHROMIUM_INSTALL); \
	    else sudo sh -c "$(CHROMIUM_INSTALL)"; fi; }

book: setup
	rm -rf _build/html
	$(BIN)/jupyter-book build . --all -W -n --keep-going
	@echo "The book is at: file://$(CURDIR)/_build/html/index.html"

# Run every chapter and store its outputs and {eval} values (what the book and
# JupyterLab show); needed after a change to adamref or to a notebook's code.
store: setup
	$(BIN)/python tools/store_outputs.py chapters/*.ipynb

# `make test`: the book is built, then its browser tests run, while the tests
# that do not read it run beside them (the unit tests, nbval on every notebook,
# the JupyterLab test): both cores stay busy.  Two workers (the
# machine's two cores); --dist loadscope keeps each notebook's cells, which
# share one kernel, on one worker.
PYTEST_NOTEBOOKS := $(BIN)/python -m pytest -n 2 --dist loadscope --nbval --nbval-current-env \
	--nbval-sanitize-with tests/nbval_sanitize.cfg

test: setup chromium
	$(MAKE) --no-print-directory -j2 --output-sync=target test-book test-without-book

# The browser tests of the built book, as soon as it is built.
test-book: book
	$(BIN)/python -m pytest -n 2 -m book tests

test-without-book: setup
	$(PYTEST_NOTEBOOKS) -m "not book" tests chapters

# Notebooks and unit tests under other BLAS kernels, NumPy SIMD paths and one
# BLAS thread (tests/portability.py); run it before resolving notebook changes.
test-portable: setup
	$(BIN)/python tests/portability.py

# Containers run as root, where JupyterLab refuses to start without --allow-root.
lab: setup
	$(BIN)/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) chapters/

benchmark: setup
	$(BIN)/python benchmarks/bench_adam_step.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_mlp_batch.py
	$(BIN)/python benchmarks/bench_keras_fit.py
	$(BIN)/python benchmarks/bench_explorers.py

constraints: setup
	head -n 3 constraints.txt > constraints.new
	$(BIN)/python -m pip freeze --exclude-editable >> constraints.new
	mv constraints.new constraints.txt

clean:
	rm -rf _build
