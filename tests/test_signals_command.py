"""`manage.py signals --check docs/signals.md` passes in every rendered combination.

So the docs/signals.md the template ships matches the receivers of each
rendered project, whatever its options (and slug: the page renders it); and
the template README's flowchart is the default project's.
"""

import pytest
from conftest import TEMPLATE, combination_id, combination_params


@pytest.fixture(params=combination_params())
def combination(request):
    return request.param


def test_docs_signals_md_matches_the_code_in_every_combination(
    bake_combination, make_project, combination
):
    baked = bake_combination(*combination)
    assert baked.exception is None, baked.exception
    project = make_project(baked.project_path, *combination)

    # No service needed: the command reads the receivers, not the database.
    result = project.py("manage.py", "signals", "--check", "docs/signals.md")

    assert "docs/signals.md matches the receivers in the code." in result.stdout


@pytest.mark.xdist_group(combination_id("sqlite", "none"))
def test_the_readme_shows_the_default_projects_diagram(bake_combination, make_project):
    baked = bake_combination("sqlite", "none")
    assert baked.exception is None, baked.exception
    project = make_project(baked.project_path)

    diagram = project.py("manage.py", "signals", "--format", "mermaid").stdout

    readme = (TEMPLATE / "README.md").read_text(encoding="utf-8")
    assert f"```mermaid\n{diagram}```\n" in readme, (
        "Paste the output of `manage.py signals --format mermaid` of the "
        "default project into README.md"
    )
