# Quickstart: `make demo` serves the default project, `make test` runs the
# template's test suite. Each target bootstraps its own virtualenv in .venv
# with a Python >= 3.12 (scripts/find-python; `make test PYTHON=/path/to/python`
# picks one explicitly).

PYTHON ?=
PORT ?= 8000
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k hostile -x"`.
PYTEST_ARGS ?=

VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
# Written once the test dependency group is installed, at the versions of
# uv.lock (requirements/test.txt, exported by scripts/lock); that file newer
# than the stamp means the dependencies changed and are installed again.
VENV_STAMP := $(VENV)/.installed

DEMO_DIR := build/demo
DEMO_PROJECT := $(DEMO_DIR)/acme_shop
DEMO_VENV := $(DEMO_DIR)/.venv

.PHONY: demo test lint lock clean screenshot

$(VENV_PYTHON):
	@python=$$(PYTHON="$(PYTHON)" sh scripts/find-python) || exit 1; \
	echo "Creating $(VENV) with $$python"; \
	"$$python" -m venv $(VENV)

$(VENV_STAMP): requirements/test.txt | $(VENV_PYTHON)
	$(VENV_PYTHON) -m pip install --quiet --upgrade pip
	$(VENV_PYTHON) -m pip install --quiet --require-hashes -r requirements/test.txt
	@touch $@

test: $(VENV_STAMP)
	@# Under CI the browser tests and the two-node test must run: install
	@# Debian's Chromium and nginx first.
	@if [ "$${CI:-}" = true ]; then sh scripts/install-chromium && sh scripts/install-nginx; fi
	$(VENV_PYTHON) -m pytest -n auto --dist loadgroup $(PYTEST_ARGS) tests

# Resolves again the generated project's locks (every combination) and this
# repository's own, keeping what the pyprojects still allow; needs PyPI.
# `make lock LOCK_ARGS=--upgrade` takes the newest versions.
LOCK_ARGS ?=
lock: $(VENV_STAMP)
	$(VENV_PYTHON) scripts/lock $(LOCK_ARGS)

lint: $(VENV_STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/pre-commit run --all-files

# Creates the demo user unless it exists, then shows the profile that the
# post_save signal created for it.
define DEMO_USER_SCRIPT
from django.contrib.auth import get_user_model

User = get_user_model()
user = User.objects.filter(username="demo").first()
if user is None:
    user = User.objects.create_user("demo", email="demo@example.com", password="demo")
    print("Created user demo (password: demo)")
else:
    print("User demo already exists (password: demo)")
profile = user.profile
print(f"Profile created by signal: {profile} (pk={profile.pk})")
endef
export DEMO_USER_SCRIPT

demo: $(VENV_STAMP)
	$(VENV)/bin/cookiecutter --no-input -f -o $(DEMO_DIR) .
	@test -x $(DEMO_VENV)/bin/python || $(VENV_PYTHON) -m venv $(DEMO_VENV)
	@# The project's locked versions, as its README's pip setup installs them;
	@# again only when they differ from the installed ones.
	@cd $(DEMO_PROJECT) && if ! cmp -s requirements/dev.txt ../.venv/.installed-requirements.txt; then \
		../.venv/bin/python -m pip install --quiet --upgrade pip && \
		../.venv/bin/python -m pip install --quiet --require-hashes -r requirements/dev.txt && \
		../.venv/bin/python -m pip install --quiet --no-deps -e . && \
		cp requirements/dev.txt ../.venv/.installed-requirements.txt; \
	fi
	cd $(DEMO_PROJECT) && ../.venv/bin/python manage.py migrate
	@# Links in emails (printed on the console) point to this server.
	cd $(DEMO_PROJECT) && DJANGO_SITE_URL=http://127.0.0.1:$(PORT) ../.venv/bin/python manage.py shell --verbosity 0 -c "$$DEMO_USER_SCRIPT"
	@echo "Serving on http://127.0.0.1:$(PORT)/ (log in as demo / demo, or sign up and open the link of the welcome email printed below; Ctrl-C stops)"
	cd $(DEMO_PROJECT) && exec env DJANGO_SITE_URL=http://127.0.0.1:$(PORT) ../.venv/bin/python manage.py runserver 127.0.0.1:$(PORT)

# Remakes docs/profile.png, the screenshot in docs/generated-project.md, with the default
# project's browser tests (needs chromium and chromium-driver on PATH).
screenshot: $(VENV_STAMP)
	rm -rf build/screenshots
	CI=true SCREENSHOT_DIR=$(CURDIR)/build/screenshots $(VENV_PYTHON) -m pytest tests/test_browser.py
	cp build/screenshots/profile.png docs/profile.png

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
