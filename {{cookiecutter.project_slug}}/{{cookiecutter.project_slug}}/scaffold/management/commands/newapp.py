"""`manage.py newapp NAME`: a new app with the project's signal wiring."""

import importlib.util
import keyword
import os
import re
import shutil
import subprocess
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

SETTINGS_FILE = Path("config") / "settings" / "base.py"
DOC_FILE = Path("docs") / "signals.md"
README = Path("README.md")
# The signal diagram, in docs/signals.md and in the README.
DIAGRAM = re.compile(r"^```mermaid\n.*?^```\n", re.MULTILINE | re.DOTALL)
# The list as the project ships it: one quoted dotted path per line.
LOCAL_APPS = re.compile(r'^LOCAL_APPS = \[\n((?:    "[\w.]+",\n)*)\]\n', re.MULTILINE)


class Command(BaseCommand):
    help = (
        "Create an app in the project package from app_template/ (signals.py, "
        "ready(), tests), add it to LOCAL_APPS and regenerate docs/signals.md."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name", help="the app's name: a lowercase identifier")

    def handle(self, *, name: str, **options: Any) -> None:
        base_dir = Path(settings.BASE_DIR)
        package = Path(settings.APPS_DIR)
        self.check_name(name, package)
        settings_path = base_dir / SETTINGS_FILE
        settings_text = settings_path.read_text()
        match = LOCAL_APPS.search(settings_text)
        if match is None:
            raise CommandError(
                f"LOCAL_APPS in {SETTINGS_FILE} is no longer a plain list of "
                f'quoted app paths, so newapp will not guess where "{name}" '
                "goes. Nothing was written."
            )

        target = package / name
        target.mkdir()
        try:
            call_command(
                "startapp", name, str(target), template=str(base_dir / "app_template")
            )
        except BaseException:
            shutil.rmtree(target)
            raise
        entry = f'    "{package.name}.{name}",\n'
        settings_path.write_text(
            settings_text[: match.end(1)] + entry + settings_text[match.end(1) :]
        )
        self.stdout.write(f"Created {target.relative_to(base_dir)}/")
        self.stdout.write(
            f"Added {package.name}.{name} to LOCAL_APPS in {SETTINGS_FILE}"
        )

        # A fresh process, so the new app is installed when receivers are listed.
        listing = subprocess.run(
            [sys.executable, "manage.py", "signals", "--format", "markdown"],
            cwd=base_dir,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE},
            capture_output=True,
            text=True,
        )
        if listing.returncode:
            raise CommandError(
                f"The app was created, but {DOC_FILE} could not be regenerated:\n"
                + listing.stderr
            )
        (base_dir / DOC_FILE).write_text(listing.stdout)
        self.stdout.write(f"Regenerated {DOC_FILE}")
        diagram = DIAGRAM.search(listing.stdout)
        readme = base_dir / README
        if diagram and readme.is_file():
            text = readme.read_text(encoding="utf-8")
            # A function, so that backslashes in the diagram stay as they are.
            new_text = DIAGRAM.sub(lambda _: diagram.group(0), text, count=1)
            if new_text != text:
                readme.write_text(new_text, encoding="utf-8")
                self.stdout.write(f"Updated the signal diagram in {README}")
        self.stdout.write(
            "\nNext: write your receivers in "
            f"{target.relative_to(base_dir)}/signals.py, test them in its tests/, "
            "then run `python manage.py signals --format markdown > docs/signals.md`, "
            "paste its diagram into README.md, and run `pytest`."
        )

    def check_name(self, name: str, package: Path) -> None:
        """Refuse a name that is not an identifier, is taken or shadows a module."""
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise CommandError(
                f'"{name}" is not a valid app name: use lowercase letters, digits '
                "and _, starting with a letter."
            )
        if keyword.iskeyword(name):
            raise CommandError(f'"{name}" is a Python keyword.')
        if (package / name).exists() or any(
            config.label == name for config in apps.get_app_configs()
        ):
            raise CommandError(f'An app named "{name}" already exists.')
        if name in sys.stdlib_module_names or importlib.util.find_spec(name):
            raise CommandError(
                f'"{name}" would shadow the Python module of the same name.'
            )
