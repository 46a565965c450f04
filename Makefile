# The two commands a newcomer needs: `make chat` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: setup chat chat-postgres test eval bench bench-stores index browser ocr clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first: the pinned CPU wheel lies on this machine's disk; anything looser pulls CUDA.
setup: $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'

# Debian's Chromium for the real-browser test (Playwright's own browser download cannot work offline).
browser:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

# Debian's Tesseract and its English data, for scanned PDFs and images (qa/corpus/ocr.py),
# and the DejaVu fonts the OCR tests draw their scans with (tests/scanned_files.py).
# Without Tesseract text documents still work; a scan is left out with a line saying to run this.
ocr:
	@command -v tesseract >/dev/null && [ -n "$$(tesseract --list-langs 2>/dev/null | grep -x eng)" ] \
	  && [ -f /usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf ] || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq tesseract-ocr tesseract-ocr-eng fonts-dejavu-core; }

index: setup ocr
	$(BIN)/qa index

chat: setup ocr
	$(BIN)/qa chat --host $(HOST) --port $(PORT)

# The chat served from PostgreSQL (README "Serving many users"): a throw-away PostgreSQL 16 with
# pgvector from the pgserver wheel in a temporary folder (qa/stores/local_postgres.py: as root
# too, wherever the clone lives), the seeds published into it (QA_STORE), then the chat; the
# server is stopped and removed when the chat stops.
chat-postgres: setup
	$(BIN)/python -m qa.stores.local_postgres -- \
	  sh -c '$(BIN)/qa index && exec $(BIN)/qa chat --host $(HOST) --port $(PORT)'

test: setup browser ocr
	$(BIN)/python -m pytest

eval: setup
	$(BIN)/qa eval
	$(BIN)/qa eval --suite nyt

bench: setup
	$(BIN)/python benchmarks/run.py

# Index folder (FAISS + bm25s) against PostgreSQL + pgvector; a throw-away server (pgserver).
bench-stores: setup
	$(BIN)/python benchmarks/stores.py

clean:
	rm -rf $(VENV) index/*/ index/*.json
