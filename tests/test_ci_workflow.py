"""The generated CI workflow is valid for GitHub Actions, and its steps pass.

Validation is offline: the GitHub workflow schema that check-jsonschema
vendors, then actionlint (expressions, action versions, runner labels).

The workflow's own `run:` steps run in tests/test_readme_setup.py, in the
project of each combination that the README's uv setup has just built
(`run_workflow_steps()` here): its install step is the README's, `uv sync
--locked`, and its last step is `make check` (the locks, ruff, mypy, the
import contracts, makemigrations --check, signals --check, check --deploy,
the whole pytest suite with CI=true, browser tests included), so the file
is proven to work, not only to parse, and the README's uv path with it,
with one run of the project's suite instead of two.

What cannot run on this machine is left out, by name: the `uses:` steps
(checkout; setup-uv, for which the suite's own uv stands in) and the
Chromium install, which `scripts/install-chromium` does for the whole
suite. The services' URLs point at this machine's PostgreSQL and Redis
instead of the service containers. One Python runs the steps here (the
template's), where CI runs each of the matrix.
"""

import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from conftest import (
    combination_id,
    combination_params,
    mypy_cache,
    run,
    unavailable,
)
from support.harness import base_python

WORKFLOW = Path(".github") / "workflows" / "ci.yml"
DEPENDABOT = Path(".github") / "dependabot.yml"
# The step that prepares a fresh CI machine, which scripts/install-chromium
# has done here; and the one that installs the project, which runs.
CHROMIUM_STEP = "Install Chromium and ChromeDriver"
INSTALL_STEP = "Install the project and its dev tools"
# The job's environment variable and service of each option that needs one.
SERVICES = {
    "database": ("postgres", "DATABASE_URL"),
    "background": ("redis", "CELERY_BROKER_URL"),
}


@pytest.fixture(params=combination_params())
def combination(request):
    return request.param


@pytest.fixture
def baked(bake_combination, combination):
    result = bake_combination(*combination)
    if result.exception is not None:
        pytest.fail(
            f"rendering {combination} failed: {result.exception!r}", pytrace=False
        )
    return result


@pytest.fixture
def project(baked, combination, make_project):
    return make_project(baked.project_path, *combination)


def load_job(path):
    workflow = yaml.safe_load((path / WORKFLOW).read_text(encoding="utf-8"))
    (job,) = workflow["jobs"].values()
    return job


def expected_services(database, background):
    wanted = {
        "database": database == "postgresql",
        "background": background == "celery",
    }
    return {SERVICES[option] for option, on in wanted.items() if on}


def test_workflow_is_valid_for_github_actions(baked):
    tools = Path(sys.executable).parent
    run(
        [
            tools / "check-jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            WORKFLOW,
        ],
        cwd=baked.project_path,
    )
    # Without shellcheck and pyflakes: the result must not depend on what the
    # machine has on PATH.
    run(
        [tools / "actionlint", "-no-color", "-shellcheck=", "-pyflakes=", WORKFLOW],
        cwd=baked.project_path,
    )


def test_dependabot_config_is_valid_and_covers_the_lock_and_the_actions(baked):
    path = baked.project_path / DEPENDABOT
    run(
        [
            Path(sys.executable).parent / "check-jsonschema",
            "--builtin-schema",
            "vendor.dependabot",
            DEPENDABOT,
        ],
        cwd=baked.project_path,
    )
    updates = yaml.safe_load(path.read_text(encoding="utf-8"))["updates"]
    assert {
        (update["package-ecosystem"], update["directory"]) for update in updates
    } == {
        ("uv", "/"),
        ("github-actions", "/"),
    }


def test_workflow_has_the_services_and_pythons_of_the_combination(baked, combination):
    job = load_job(baked.project_path)
    services = expected_services(*combination)

    assert set(job.get("services", {})) == {service for service, _ in services}
    service_variables = {variable for _, variable in SERVICES.values()}
    assert service_variables & set(job["env"]) == {variable for _, variable in services}
    assert job["strategy"]["matrix"]["python-version"] == ["3.12", "3.13"]
    assert str(job["env"]["CI"]) == "true"


def runnable_steps(job):
    """The job's `run:` steps that run here, in order: the install step, then `make check`."""
    return [
        step
        for step in job["steps"]
        if "run" in step and step.get("name") != CHROMIUM_STEP
    ]


def test_workflow_installs_from_the_lock_and_ends_in_make_check(baked):
    job = load_job(baked.project_path)
    named = {step.get("name"): step.get("run", "") for step in job["steps"]}
    assert "apt-get install" in named[CHROMIUM_STEP]
    assert "chromium chromium-driver" in named[CHROMIUM_STEP]
    runnable = runnable_steps(job)
    assert [step["name"] for step in runnable] == [INSTALL_STEP, "make check"]
    assert "uv sync --locked" in runnable[0]["run"]
    assert runnable[-1]["run"].strip() == "make check"


def run_workflow_steps(root, combination, env):
    """Run the workflow's `run:` steps in `root`, with the job's environment, as GitHub does.

    `env` is the machine's environment with this machine's service URLs
    (DATABASE_URL, CELERY_BROKER_URL) where the combination needs them;
    they replace the job's, which name its service containers. `python`
    on PATH is the suite's interpreter, as setup-python would make it.
    A step's GITHUB_PATH lines come first on PATH in the steps after it.
    """
    job = load_job(root)
    # CI=true makes a missing browser fail the browser tests: say why here.
    missing = [name for name in ("chromium", "chromedriver") if not shutil.which(name)]
    if missing:
        unavailable(
            f"{' and '.join(missing)} not on PATH: run scripts/install-chromium"
        )
    step_env = dict(env) | {key: str(value) for key, value in job["env"].items()}
    for _, name in expected_services(*combination):
        step_env[name] = env[name]  # this machine's service, not the container's
    step_env.update(mypy_cache(f"workflow-{combination_id(*combination)}"))
    tools = root.parent / "workflow-bin"
    tools.mkdir(exist_ok=True)
    (tools / "python").symlink_to(base_python())
    github_path = root.parent / "github-path"
    github_path.write_text("")
    step_env["GITHUB_PATH"] = str(github_path)
    path = f"{tools}{os.pathsep}{step_env.get('PATH', '')}"

    for step in runnable_steps(job):
        added = github_path.read_text().split()
        step_env["PATH"] = os.pathsep.join([*reversed(added), path])
        # GitHub's default shell for `run:` on Linux.
        run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            root,
            step_env,
            timeout=1200,
        )
