# vasa-kit: `make demo` starts the app, `make test` runs every test. Both set up .venv first.
PYTHON ?= $(shell for p in python3.11 python3.12 python3.10 python3; do \
	command -v $$p >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
NOTEBOOKS := $(wildcard notebooks/*.ipynb)

.PHONY: demo test check lab slides backup-video lint clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 10) <= v <= (3, 12) else \
		"vasa-kit needs Python 3.10-3.12, found %d.%d: run make PYTHON=python3.11 ..." % v)'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --editable .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --editable '.[test]'
	@touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/python app.py

test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest tests $(if $(NOTEBOOKS),--nbval-lax --nbval-current-env $(NOTEBOOKS))

check: $(VENV)/.installed  # before a class: is every part of this install working? (seconds)
	$(BIN)/vasa doctor

lab: $(VENV)/.installed-test
	$(BIN)/jupyter lab notebooks/

# Slides for class, one deck per notebook, run in fast mode so they carry their figures;
# reveal.js and its helpers come from npm into build/slides, so the decks open offline.
SLIDES := build/slides
slides: $(VENV)/.installed-test
	npm install --prefix $(SLIDES) --no-audit --no-fund --loglevel=error \
		reveal.js@4 requirejs@2 jquery@3 mathjax@2
	$(BIN)/python tutorials/make_slides.py $(SLIDES)/notebooks $(NOTEBOOKS)
	cd $(SLIDES)/notebooks && VASA_FAST=1 ../../../$(BIN)/jupyter nbconvert --to slides --execute \
		$(notdir $(NOTEBOOKS)) --output-dir .. \
		--SlidesExporter.reveal_url_prefix=node_modules/reveal.js \
		--SlidesExporter.require_js_url=node_modules/requirejs/require.js \
		--SlidesExporter.jquery_url=node_modules/jquery/dist/jquery.min.js \
		--SlidesExporter.mathjax_url=node_modules/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe
	@echo "slides in $(SLIDES): open one in a browser (space or arrows to move)"

# The class demo's video, made before class in case the room's laptop fails on the day.
backup-video: $(VENV)/.installed
	mkdir -p build
	$(BIN)/vasa generate --image example:drawn --emotion happy --out build/backup.mp4 \
		--text "Hello, students. Today a drawing will talk to you."

lint: $(VENV)/.installed-test
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
