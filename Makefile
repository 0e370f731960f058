# Every set-up step lives here: a fresh clone needs only `make test` or `make demo`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: venv test lint demo demo-web bench fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q -m "not full"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) bench/run.py $(BENCH_ARGS)

# Thousands of hostile messages and Office files per parser (tests/fuzz/test_fuzz.py), ~10-15 min;
# FUZZ_EXAMPLES=N sets the examples per target.
fuzz: $(STAMP)
	BAOCAO_FUZZ=long BAOCAO_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q tests/fuzz/test_fuzz.py \
		-p no:cacheprovider --hypothesis-show-statistics

demo: $(STAMP)
	$(PY) -m devtools.demo

# The staff board on what `make demo` left in demo-output/ (http://127.0.0.1:8080, user demo).
demo-web: $(STAMP)
	@test -f demo-output/baocao.toml || { echo "Chưa có dữ liệu chạy thử: chạy 'make demo' trước."; exit 2; }
	BAOCAO_DEMO_PASSWORD=demo $(VENV)/bin/baocao --config demo-output/baocao.toml web --port 8080

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
