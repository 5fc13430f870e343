# The two set-up commands of the README: `make demo` and `make test`.
# Each installs what it needs (Debian packages as root, then a venv).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
VIGBOX_HOME ?= $(CURDIR)/var
# make test-sync-long TAKES=3: fewer 29-minute takes (five take over three hours)
TAKES ?= 5

.PHONY: demo check check-lint check-types check-tests test test-quick test-camera campaign fuzz vm-roots test-system test-hotspot test-sync-long bench host-packages clean

.stamp-host: provisioning/host-packages.sh
	PYTHON=$(PYTHON) bash provisioning/host-packages.sh
	touch $@

$(VENV)/.installed: pyproject.toml constraints.txt .stamp-host
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[test]'
	touch $@

host-packages: .stamp-host

# axe-core from the npm registry, as its lock file pins it (the browser
# tests' accessibility checks), with the machine's Node.js and npm
A11Y := tests/a11y/node_modules/.package-lock.json
$(A11Y): tests/a11y/package.json tests/a11y/package-lock.json
	npm ci --prefix tests/a11y --no-audit --no-fund

# the supervision export's page: its script bundled with age-encryption (the
# TypeScript age by age's author), as its lock file pins them, by esbuild
SUPERVISION := web/supervision/page.bundle.js
$(SUPERVISION): web/supervision/page.js web/supervision/package.json web/supervision/package-lock.json
	npm ci --prefix web/supervision --no-audit --no-fund
	web/supervision/node_modules/.bin/esbuild web/supervision/page.js --bundle --minify \
	  --format=iife --target=es2022 --log-level=warning --outfile=$@

# the demo's synthetic camera speaks: a labelled dialogue in place of its
# tone, so the editor has an interaction map to show
DEMO_SOUND := $(VIGBOX_HOME)/demo-dialogue.wav
$(DEMO_SOUND): bench/dialogue.py $(wildcard bench/voices/*) $(VENV)/.installed
	mkdir -p $(VIGBOX_HOME)
	$(PY) -m bench.dialogue $@ 180
	printf 'synthetic_sound = "%s"\n' "$@" > $(VIGBOX_HOME)/demo.toml

demo: $(VENV)/.installed $(SUPERVISION) $(DEMO_SOUND)
	VIGBOX_HOME=$(VIGBOX_HOME) VIGBOX_CONFIG=$(VIGBOX_HOME)/demo.toml \
	  $(VENV)/bin/vigbox run --simulate --listen 127.0.0.1:8080

# the quick tier, first in CI: lint, types, doctests, every module
# importable alone, and the tests that need no root, ffmpeg or browser
PURE_TESTS := tests/test_imports.py tests/test_layout.py tests/test_web_services.py \
  tests/test_wipe_state.py tests/test_recorder_fate.py tests/test_guest_constraints.py \
  tests/test_age_hostile.py tests/test_keys.py tests/test_config.py tests/test_clock_audit.py \
  tests/test_audit_notes.py tests/test_setup_window.py tests/test_plain_words.py
# (the three at once: on two cores mypy and the tests each keep one busy)
check: $(VENV)/.installed
	$(MAKE) --no-print-directory -j3 --output-sync=target check-lint check-types check-tests
check-lint:
	$(VENV)/bin/ruff check appliance web vigbox bench tests
check-types:
	$(VENV)/bin/mypy appliance web vigbox
check-tests:
	$(PY) -m pytest -q -p no:cacheprovider appliance web vigbox $(PURE_TESTS)

# the main suite, then the real picamera2 stack in a Debian 13 root (root)
test: $(VENV)/.installed $(A11Y) $(SUPERVISION)
	$(PY) -m pytest
	PYTHON=$(abspath $(PY)) bash tests/camera/run.sh

# the main suite without its slow tests (Chromium, films made for minutes):
# a quick loop while changing code; `make test` runs them all
test-quick: $(VENV)/.installed
	$(PY) -m pytest -m "not slow" -p no:cacheprovider

# the camera stack's tests alone
test-camera: $(VENV)/.installed
	PYTHON=$(abspath $(PY)) bash tests/camera/run.sh

# power cuts, faults, load and the plaintext canary over the whole
# appliance in simulation (needs root for cryptsetup; minutes)
campaign: $(VENV)/.installed $(SUPERVISION)
	VIGBOX_CAMPAIGN=1 $(PY) -m pytest -p no:cacheprovider tests/campaign

# libFuzzer (atheris) on the age reader: FUZZ_RUNS inputs per target
FUZZ_RUNS ?= 1000000
fuzz: $(VENV)/.installed
	for target in header decrypt reader armor scrypt; do \
	  $(PY) -m bench.fuzz_age --target $$target --runs $(FUZZ_RUNS) || exit 1; done

# the Debian roots of the camera stack's tests and the system test's VMs,
# cached (tests/system/rootfs.sh); CI builds them while the tests run
vm-roots: .stamp-host
	bash tests/system/rootfs.sh trixie
	bash tests/system/rootfs.sh bookworm

# the appliance provisioned and used in a qemu VM (needs root; minutes)
test-system: $(VENV)/.installed $(SUPERVISION)
	VIGBOX_SYSTEM=1 PYTHON=$(abspath $(PY)) $(PY) -m pytest -s -p no:cacheprovider \
	  tests/system

# the read-only box and its hotspot on simulated radios alone (part of test-system)
test-hotspot: $(VENV)/.installed
	VIGBOX_SYSTEM=1 PYTHON=$(abspath $(PY)) $(PY) -m pytest -s -p no:cacheprovider \
	  -k hotspot tests/system

# the camera boot's five takes at 29 minutes each, on Debian 13 (2.5 hours;
# not in CI, whose takes are 60 s with a microphone clock 0.3 % fast)
test-sync-long: $(VENV)/.installed $(SUPERVISION)
	VIGBOX_SYSTEM=1 VIGBOX_TAKE_SECONDS=1740 VIGBOX_TAKES=$(TAKES) PYTHON=$(abspath $(PY)) $(PY) -m pytest -s \
	  -p no:cacheprovider -k "trixie and (provision_use or real_stack)" tests/system

bench: $(VENV)/.installed
	$(PY) -m bench

clean:
	rm -rf $(VENV) .stamp-host .pytest_cache .hypothesis web/supervision/node_modules $(SUPERVISION)
