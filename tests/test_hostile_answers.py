"""Answers with quotes, backslashes, Jinja, HTML, accents, CJK or emoji still give a clean project.

Each answer lands in Python strings, TOML, Markdown and HTML; every place
must escape it. Answers go through `literal()` so that they reach the
template exactly as a user would type them.
"""

import shutil
import tomllib

import pytest
from conftest import literal
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from answer_filters import one_line

# One row a case: its id, then project_name, author_name, description, and
# any other answer (the slug derived from a name of CJK and emoji only would
# be empty). A table, one case a line, unwrapped.
# fmt: off
CASES = [
    ("quotes-backslashes-unicode", 'Bob\'s "Shop" \\ ünïcödé 店 🚀', 'Zoë "Z" O\'Brien \\', "Sells \"things\" & 'stuff' from C:\\shop\\ — ünïcödé 店 🚀", {}),
    ("jinja-syntax", "{{ x }} {% raw %} Shop", "{% if x %}{{ cookiecutter.email }}{% endif %}", "{{ cookiecutter.project_name }} {% endfor %} {# no #}", {}),
    ("html", "<script>alert(1)</script> Shop", "</title><b>Bob</b>", "<script>alert('x')</script> & <!-- comment -->", {}),
    ("cjk-emoji", "店铺 🚀", "山田 太郎", "日本語の説明 🚀✨", {"project_slug": "cjk_shop"}),
    ("triple-quotes-markdown-escapes", "\"\"\"Shop'''", "Ends with a backslash \\", "# *Not* a [heading](x) `code` | pipe | _under_ \\n \\x00 %s {0}", {}),
    ("pasted-whitespace-and-tabs", " \tPasted\tShop\t ", "\tZoë\tO'Brien  ", "  Tabs\tinside, spaces around. \t", {}),
]
# fmt: on
HOSTILE_ANSWERS = [
    pytest.param(
        {"project_name": name, "author_name": author, "description": text, **more},
        id=case,
    )
    for case, name, author, text, more in CASES
]

FULL_SUITE = {"quotes-backslashes-unicode", "html"}


def bake_hostile(cookies, answers):
    result = cookies.bake(
        extra_context={key: literal(value) for key, value in answers.items()}
    )
    assert result.exception is None, result.exception
    return result


def assert_compiles_and_lints(project):
    project.py("-m", "compileall", "-q", ".")
    project.py("-m", "ruff", "check", "--no-cache", ".")
    project.py("-m", "ruff", "format", "--check", "--no-cache", ".")


def assert_pyproject_keeps(path, answers):
    data = tomllib.loads((path / "pyproject.toml").read_text(encoding="utf-8"))
    # Free text lands trimmed, tabs turned into spaces (answer_filters.one_line).
    assert data["project"]["description"] == one_line(answers["description"])
    authors = data["project"].get("authors", [])
    if authors:
        assert authors[0]["name"] == one_line(answers["author_name"])


@pytest.mark.parametrize("answers", HOSTILE_ANSWERS)
def test_hostile_answers_render_compile_and_lint(cookies, make_project, answers):
    result = bake_hostile(cookies, answers)
    assert_compiles_and_lints(make_project(result.project_path))
    assert_pyproject_keeps(result.project_path, answers)


@pytest.mark.parametrize("answers", HOSTILE_ANSWERS)
def test_hostile_answers_never_land_as_raw_html(cookies, answers):
    result = bake_hostile(cookies, answers)
    markup = [value for value in answers.values() if "<" in value]
    for page in result.project_path.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for value in markup:
            assert value not in text, (
                f"{page.relative_to(result.project_path)} holds {value!r} unescaped"
            )


@pytest.mark.slow
@pytest.mark.parametrize("answers", [p for p in HOSTILE_ANSWERS if p.id in FULL_SUITE])
def test_hostile_answers_pass_the_project_test_suite(cookies, make_project, answers):
    project = make_project(bake_hostile(cookies, answers).project_path)
    project.py("manage.py", "check", "--fail-level", "WARNING")
    project.py("-m", "pytest", "-q")


# Any text, tabs included, padded the way pasted text is: a stray space or tab
# at either end is accepted and trimmed.
padding = st.sampled_from(["", " ", "\t", " \t  "])
answer_text = st.builds(
    lambda before, text, after: before + text + after,
    padding,
    st.text(
        alphabet=st.characters(
            exclude_categories=("Cs", "Cc"), include_characters="\t"
        ),
        min_size=1,
        max_size=40,
    ).filter(lambda s: one_line(s) and "endraw" not in s),
    padding,
)


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    # Each example renders and lints a project: a failure is reported as
    # found, without minutes of shrinking.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(project_name=answer_text, author_name=answer_text, description=answer_text)
# Letters that ruff's RUF001 takes for ASCII look-alikes: generated projects
# must lint whatever the alphabet.
@example(project_name="Dotless ı Shop", author_name="Zoë ¸", description="Кафе ´ ı")
def test_any_text_answers_give_a_project_that_compiles_lints_and_loads(
    render, make_project, tmp_path_factory, project_name, author_name, description
):
    answers = {
        "project_name": project_name,
        "author_name": author_name,
        "description": description,
    }
    output_dir = tmp_path_factory.mktemp("hypothesis")
    try:
        path = render(
            output_dir,
            project_slug="hypo_shop",
            **{key: literal(value) for key, value in answers.items()},
        )
        assert_compiles_and_lints(make_project(path))
        assert_pyproject_keeps(path, answers)
    finally:
        shutil.rmtree(output_dir, ignore_errors=True)


def test_slugs_of_every_length_lint(render, make_project, tmp_path):
    """Lines that hold the slug stay formatted whatever its length (up to the limit of 40).

    ruff format wraps a long line only where wrapping makes it fit, so a
    slug can break formatting at some lengths and not at longer ones.
    """
    for length in range(2, 41, 2):
        slug = ("shop_" * 8)[: length - 1] + "s"
        render(tmp_path / str(length), project_slug=slug)
    # ruff finds each project's own pyproject.toml.
    project = make_project(tmp_path)
    project.py("-m", "ruff", "check", "--no-cache", ".")
    project.py("-m", "ruff", "format", "--check", "--no-cache", ".")
