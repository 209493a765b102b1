# Two entry points (see README): `make book` and `make test`.
# Both create .venv and install the pinned toolchain on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP_VERSION := 26.3

.PHONY: setup book test lab benchmark constraints clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "pip==$(PIP_VERSION)"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[book,test,lab]"
	touch $@

setup: $(STAMP)

book: setup
	$(BIN)/jupyter-book build . --all -W -n --keep-going
	@echo "The book is at: file://$(CURDIR)/_build/html/index.html"

test: setup
	$(BIN)/python -m pytest --nbval --nbval-current-env \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg tests chapters

lab: setup
	$(BIN)/jupyter lab chapters/

benchmark: setup
	$(BIN)/python benchmarks/bench_adam_step.py
	$(BIN)/python benchmarks/bench_sweep.py

constraints: setup
	head -n 3 constraints.txt > constraints.new
	$(BIN)/python -m pip freeze --exclude-editable >> constraints.new
	mv constraints.new constraints.txt

clean:
	rm -rf _build
