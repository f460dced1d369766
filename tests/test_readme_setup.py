"""The generated README's setup, followed literally, passes the project's tests.

The commands come from the rendered README itself, so a change there is what
gets tested: its "Set up" blocks (pip, then uv) in their order, then a test
command. They run in one shell in the project root, so the virtualenv is
`.venv` inside the project, as a newcomer gets it. Two things differ from a
terminal, each said where it is done: `python3` and uv's `--python` become the
interpreter running this suite (the README asks for 3.12+, which `python3`
may not be), and the commands that wait for a person (`createsuperuser`,
`runserver`) are left out.

The pip path ends in the README's `pytest -m "not browser"`. The uv path
ends in the project's CI workflow, run on the `.venv` the README's commands
built (tests/test_ci_workflow.py, `run_workflow_steps()`): its install step,
`uv sync --locked` again, and `make check`, the README's other test command,
which runs the whole suite with CI=true, browser tests included. One run of
the project's suite proves both the README's uv path and the workflow.

Then the project's `.venv` must hold exactly the versions of its uv.lock,
whichever the tool: the uv path installs from the lock, the pip path from
requirements/dev.txt, exported from it.

Each (tool, database, background) is its own xdist group so they spread over
the workers; pip's and uv's caches are the user's, warm after the first run.
"""

import json
import os
import re
import shlex
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import COMBINATIONS, clean_environ, combination_id, run
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from support.harness import base_python
from test_ci_workflow import run_workflow_steps

# Commands that wait for a person or serve until stopped.
INTERACTIVE = ("manage.py createsuperuser", "manage.py runserver")
# The test command: the whole suite but the browser tests, which run once,
# for the default project, in tests/test_browser.py.
TEST_COMMAND = 'pytest -m "not browser"'
SETUP_TIMEOUT = 1200


def section(readme, title):
    """The text under a `## title` heading, up to the next heading of that level."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", readme, re.M | re.S)
    assert match, f"no '## {title}' section in the README"
    return match.group(1)


def shell_blocks(text):
    """The commands of each ```sh block, comments and blank lines dropped."""
    blocks = re.findall(r"^```sh\n(.*?)^```", text, re.M | re.S)
    return [
        [
            line.split("  #")[0].strip()
            for line in block.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        for block in blocks
    ]


def readme_commands(readme, tool):
    """The README's commands for `tool` (pip or uv), in order, ready for `sh -e`."""
    setup = shell_blocks(section(readme, "Set up"))
    uses_uv = [block for block in setup if block[0].startswith("uv ")]
    uses_pip = [block for block in setup if block not in uses_uv]
    assert uses_pip and uses_uv, f"Set up has no pip or no uv block: {setup}"
    tests = [
        command
        for block in shell_blocks(section(readme, "Test and lint"))
        for command in block
        if command == TEST_COMMAND
    ]
    assert tests, f"Test and lint has no `{TEST_COMMAND}`"
    checks = [
        command
        for block in shell_blocks(section(readme, "Test and lint"))
        for command in block
        if command == "make check"
    ]
    assert checks, "Test and lint has no `make check`, which the CI workflow runs"

    # The uv path's tests are the CI workflow's (run_workflow_steps()).
    commands = uses_pip[0] + tests if tool == "pip" else uses_uv[0]
    python = shlex.quote(base_python())
    script = []
    for command in commands:
        if any(waits in command for waits in INTERACTIVE):
            continue
        command = re.sub(r"^python3 ", f"{python} ", command)
        command = re.sub(r"--python \S+", f"--python {python}", command)
        script.append(command)
    return script


# What a virtualenv holds: {name: version} of every distribution.
INSTALLED = (
    "import importlib.metadata as metadata, json; "
    "print(json.dumps({d.metadata['Name']: d.version for d in metadata.distributions()}))"
)


def locked_for_this_machine(root, requirements="dev.txt"):
    """{name: version} of requirements/<requirements> (uv.lock's install) whose markers hold here."""
    text = (root / "requirements" / requirements).read_text(encoding="utf-8")
    locked = {}
    for line in text.splitlines():
        if line and not line.startswith((" ", "#")):
            requirement = Requirement(line.removesuffix("\\").strip())
            if requirement.marker is None or requirement.marker.evaluate():
                (specifier,) = requirement.specifier
                locked[canonicalize_name(requirement.name)] = specifier.version
    return locked


def assert_installs_the_locked_versions(root, requirements="dev.txt"):
    """The project's .venv holds exactly uv.lock's packages at uv.lock's versions.

    With the dev group (requirements/dev.txt) or without (production.txt).
    pip itself is no package of the project's (only the pip setup has it).
    """
    output = run([root / ".venv" / "bin" / "python", "-c", INSTALLED], root).stdout
    installed = {canonicalize_name(name): v for name, v in json.loads(output).items()}
    installed.pop("pip", None)
    lock = tomllib.loads((root / "uv.lock").read_text(encoding="utf-8"))
    (project,) = [p for p in lock["package"] if p["source"] == {"editable": "."}]
    assert installed.pop(project["name"]) == project["version"]
    assert installed == locked_for_this_machine(root, requirements)


@pytest.fixture
def uv_on_path(tmp_path):
    """A directory holding only uv (from this suite's virtualenv), for PATH."""
    uv = Path(sys.executable).parent / "uv"
    if not uv.exists():
        pytest.fail(f"{uv} is missing: uv is in the test dependency group")
    directory = tmp_path / "uv-bin"
    directory.mkdir()
    (directory / "uv").symlink_to(uv)
    return directory


READMES = [
    pytest.param(
        tool,
        combination,
        id=f"{tool}-{combination_id(*combination)}",
        marks=[
            pytest.mark.slow,
            pytest.mark.xdist_group(f"readme-{tool}-{combination_id(*combination)}"),
        ],
    )
    for tool in ("pip", "uv")
    for combination in COMBINATIONS
]


@pytest.mark.parametrize(("tool", "combination"), READMES)
def test_readme_setup_passes_the_project_tests(
    tool, combination, render, make_project, uv_on_path, tmp_path
):
    database, background = combination
    root = render(tmp_path, database=database, background=background)
    commands = readme_commands((root / "README.md").read_text(encoding="utf-8"), tool)
    # The harness creates the PostgreSQL database and checks Redis; only
    # their URLs are kept: the project runs from its own .venv.
    services = make_project(root, database, background).with_services().env

    env = clean_environ()
    for variable in ("DATABASE_URL", "CELERY_BROKER_URL"):
        if variable in services:
            env[variable] = services[variable]
    env["PATH"] = f"{uv_on_path}{os.pathsep}{env.get('PATH', '')}"
    # uv never fetches an interpreter here: --python names the suite's own.
    env["UV_PYTHON_DOWNLOADS"] = "never"
    run(
        ["sh", "-ec", "set -x\n" + "\n".join(commands)],
        root,
        env,
        timeout=SETUP_TIMEOUT,
    )
    assert (root / ".venv" / "bin" / "python").exists()
    assert_installs_the_locked_versions(root)
    if tool == "uv":
        # Skipped, with the reason, where Chromium is missing (not in CI).
        run_workflow_steps(root, combination, env)
        assert_installs_the_locked_versions(root)  # the workflow's sync changed nothing
