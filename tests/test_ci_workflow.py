"""The generated CI workflow is valid for GitHub Actions, and its steps pass here.

Validation is offline: the GitHub workflow schema that check-jsonschema
vendors, then actionlint (expressions, action versions, runner labels). Then the workflow's own `run:` steps run, in order, in the
rendered project of each combination, with the job's environment: that is
`make check` (ruff, mypy, makemigrations --check, signals --check,
check --deploy, the whole pytest suite with CI=true), so the file is proven to
work, not only to parse. These checks used to be separate tests in
test_generation.py; `make check` replaces them.

What cannot run on this machine is left out, by name: the `uses:` steps
(checkout, cache) and the install steps (apt-get and pip), whose work the
shared virtualenv and the machine's Chromium stand in for. The services'
URLs point at this machine's PostgreSQL and Redis instead of the service
containers. One Python runs the steps here (the template's), where CI runs
each of the matrix.
"""

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

WORKFLOW = Path(".github") / "workflows" / "ci.yml"
DEPENDABOT = Path(".github") / "dependabot.yml"
# Steps that prepare a fresh CI machine; the harness has done their work.
SETUP_STEPS = {
    "Install Chromium and ChromeDriver",
    "Install the project and its dev tools",
}
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


@pytest.mark.slow
def test_workflow_steps_pass_in_the_rendered_project(project, combination):
    job = load_job(project.path)
    steps = job["steps"]
    named = {step.get("name"): step.get("run", "") for step in steps}
    assert set(named) >= SETUP_STEPS
    # What the skipped steps would do, the harness has: Debian's browser, and
    # the project's dependencies with its dev group.
    assert "apt-get install" in named["Install Chromium and ChromeDriver"]
    assert "chromium chromium-driver" in named["Install Chromium and ChromeDriver"]
    assert "uv sync --locked" in named["Install the project and its dev tools"]
    runnable = [
        step for step in steps if "run" in step and step.get("name") not in SETUP_STEPS
    ]
    assert runnable[-1]["run"].strip() == "make check", runnable

    # CI=true makes a missing browser fail the browser tests: say why here.
    missing = [name for name in ("chromium", "chromedriver") if not shutil.which(name)]
    if missing:
        unavailable(
            f"{' and '.join(missing)} not on PATH: run scripts/install-chromium"
        )
    project.with_services()
    env = {key: str(value) for key, value in job["env"].items()}
    for _, name in expected_services(*combination):
        env[name] = project.env[name]  # this machine's service, not the container's
    env.update(mypy_cache(combination_id(*combination)))

    for step in runnable:
        # GitHub's default shell for `run:` on Linux.
        project.run(
            "bash",
            "--noprofile",
            "--norc",
            "-eo",
            "pipefail",
            "-c",
            step["run"],
            env=env,
        )
