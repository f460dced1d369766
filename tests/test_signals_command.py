"""`manage.py signals --check docs/signals.md` passes in every rendered combination.

So the docs/signals.md the template ships matches the receivers of each
rendered project, whatever its options (and slug: the page renders it).
"""

import pytest
from conftest import combination_params


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
