# Two commands for a newcomer: `make dataset` and `make test`. Both create
# and fill their own virtualenv, so a fresh clone needs only python3.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dataset test venv validate bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,distributed]'
	touch $(STAMP)

# Build corpus/ and publish the version named in corpus/dataset.yaml.
dataset: $(STAMP)
	$(BIN)/parallel-corpus build
	$(BIN)/parallel-corpus publish
	$(BIN)/parallel-corpus validate
	@version=$$($(BIN)/python -c "import yaml; print(yaml.safe_load(open('corpus/dataset.yaml'))['version'])"); \
	echo; echo "Load it with:"; \
	echo "  $(BIN)/python -c 'import datasets; print(datasets.load_dataset(\"dist/v$$version\", \"documents\"))'"

# Unit and integration tests; the integration tests start a real Label
# Studio server in .labelstudio/ through scripts/labelstudio, and the
# browser checks use Debian's chromium (scripts/install-browser installs it
# where it can: as root with apt-get; elsewhere those tests skip).
test: $(STAMP)
	scripts/install-browser
	$(BIN)/python -m pytest -q

validate: $(STAMP)
	$(BIN)/parallel-corpus validate

clean:
	rm -rf build dist .pytest_cache
