# Two commands do all the set-up: `make run` and `make test` (see README.md).
VENV    := .venv
BIN     := $(VENV)/bin
SAMPLE  := sample-home
PYTHON  ?= python3

.PHONY: run test pytest acceptance dbt-test lint fuzz schemas clean browser

# The pinned packages go in with uv (pinned here): three times faster than pip, it fetches in
# parallel and compiles the bytecode on every core. Where uv cannot install (it does not read
# pip's configuration, e.g. a local package mirror), pip does it.
UV := uv==0.13.8

$(BIN)/distill: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	($(BIN)/pip install --quiet --quiet $(UV) \
		&& $(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode -e ".[test]") \
		|| $(BIN)/pip install --quiet -e ".[test]"
	touch $@

## run: build the sample home end to end and say where the outputs are
run: $(BIN)/distill
	test -d $(SAMPLE)/data/_kb || $(BIN)/distill --home $(SAMPLE) generate --lines 2000 --seed 7
	$(BIN)/distill --home $(SAMPLE) run-all

## test: pytest (its test_acceptance.py runs the acceptance gate: the dbt build and the 22
## invariants on the fixture, through `distill acceptance`) and sqlfluff lint, side by side
## (`make acceptance` runs the gate alone, with its printout)
test: $(BIN)/distill browser
	$(MAKE) --no-print-directory -j2 --output-sync=target pytest lint

## browser: headless Chromium for the tests that render pages (Debian's package, ~30 s once)
browser:
	@command -v chromium >/dev/null || apt-get install -y -q chromium >/dev/null \
		|| (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null) \
		|| (echo "the browser tests need Chromium: install the Debian package chromium" >&2; exit 1)

pytest: $(BIN)/distill
	$(BIN)/pytest

acceptance: $(BIN)/distill
	$(BIN)/distill --home target/acceptance acceptance

## dbt-test: plain `dbt build` (no distill in between) on a generated home
dbt-test: $(BIN)/distill
	rm -rf target/dbt-test-home
	$(BIN)/distill --home target/dbt-test-home generate --lines 1500 --seed 11
	DISTILL_HOME=$(CURDIR)/target/dbt-test-home $(BIN)/dbt build --profiles-dir . --quiet

## lint: sqlfluff, with Python's garbage collector run every 10,000 new objects instead of 700
## (sqlfluff's parse trees made it collect ~19,000 times, in half of the lint's CPU)
lint: $(BIN)/distill
	$(BIN)/python -c "import gc; gc.set_threshold(10_000, 10, 10); from sqlfluff.cli.commands import cli; cli(prog_name='sqlfluff')" \
		lint models tests --processes 1

## fuzz: a longer hostile-input campaign through the staging layer
fuzz: $(BIN)/distill
	DISTILL_FUZZ_EXAMPLES=200 $(BIN)/pytest -n 2 python/tests/test_fuzz.py

## schemas: regenerate docs/schemas/*.json from distill.schemas
schemas: $(BIN)/distill
	$(BIN)/python -c "from pathlib import Path; from distill.schemas import write_json_schemas; write_json_schemas(Path('docs/schemas'))"

clean:
	rm -rf target logs $(SAMPLE)/data/warehouse.duckdb $(SAMPLE)/data/generations $(SAMPLE)/data/current $(SAMPLE)/data/evidence $(SAMPLE)/data/scored-runs $(SAMPLE)/exports $(SAMPLE)/data/.dbt
