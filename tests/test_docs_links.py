"""The READMEs are entrances, and every link in them and in docs/ leads somewhere.

For the template repository (README.md, docs/*.md) and for the project
rendered in every combination (README.md, docs/*.md): each relative link and
each `#anchor` resolves, anchors as GitHub makes them from headings. Both
READMEs stay at most 250 lines, and the generated one shows the signal
diagram, the Mermaid block of docs/signals.md (which the project's own tests
compare with `manage.py signals`), within its first 100 lines. Rendering
only: no project virtualenv is needed.
"""

import re
import unicodedata

import pytest
from conftest import TEMPLATE, combination_params

README_MAX_LINES = 250
DIAGRAM_WITHIN = 100

FENCE = re.compile(r"^(```|~~~)")
# [text](target) and ![alt](target); the target ends at a space (a title) or ")".
LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)"
)
INLINE_CODE = re.compile(r"`[^`]*`")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def prose_lines(text):
    """(number, line) of the lines outside fenced code blocks."""
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line.lstrip()):
            inside = not inside
            continue
        if not inside:
            yield number, line


def github_slug(heading):
    """The anchor GitHub gives a heading: its text lowercased, punctuation dropped, spaces to '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link: its text
    text = text.replace("`", "").replace("*", "")
    text = unicodedata.normalize("NFC", text).lower()
    text = "".join(char for char in text if char in "-_ " or char.isalnum())
    return text.replace(" ", "-")


def anchors(text):
    """Every anchor of a Markdown page; a repeated heading gets -1, -2, ..."""
    seen = {}
    found = set()
    for _, line in prose_lines(text):
        match = HEADING.match(line)
        if not match:
            continue
        slug = github_slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def broken_links(page, root):
    """The links of `page` that lead nowhere, as 'page:line: target (why)'.

    `root` bounds the paths: a link must stay inside the repository or
    project the page belongs to.
    """
    text = page.read_text(encoding="utf-8")
    broken = []
    for number, line in prose_lines(text):
        for target in LINK.findall(INLINE_CODE.sub("", line)):
            if EXTERNAL.match(target):
                continue
            path, _, anchor = target.partition("#")
            where = f"{page.relative_to(root)}:{number}: {target}"
            resolved = (page.parent / path).resolve() if path else page
            if not resolved.is_relative_to(root.resolve()):
                broken.append(f"{where} (outside {root.name})")
            elif not resolved.exists():
                broken.append(f"{where} (no such file)")
            elif anchor and resolved.suffix != ".md":
                broken.append(f"{where} (an anchor into a file that is not Markdown)")
            elif anchor and anchor not in anchors(resolved.read_text(encoding="utf-8")):
                broken.append(f"{where} (no heading gives #{anchor})")
    return broken


def pages(root):
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def mermaid_blocks(text):
    """(first line number, block) of each ```mermaid block, fences included."""
    return [
        (text[: match.start()].count("\n") + 1, match.group(0))
        for match in re.finditer(r"^```mermaid\n.*?^```\n", text, re.M | re.S)
    ]


def line_count(path):
    return len(path.read_text(encoding="utf-8").splitlines())


@pytest.fixture(scope="module", params=combination_params())
def project(request, render, tmp_path_factory):
    database, background = request.param
    return render(
        tmp_path_factory.mktemp(f"docs-{database}-{background}"),
        database=database,
        background=background,
    )


def test_the_checker_finds_a_missing_file_and_a_missing_anchor(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "topic.md").write_text(
        "# Topic\n\n## The `outbox`: claims\n\n## Again\n\n## Again\n"
    )
    (tmp_path / "README.md").write_text(
        "[ok](docs/topic.md#the-outbox-claims) [ok](docs/topic.md#again-1)\n"
        "[ok](#readme) ![ok](docs/topic.md) [web](https://example.com/x#y)\n"
        "`[code](nowhere.md)`\n"
        "```\n[code](nowhere.md)\n```\n"
        "[gone](docs/gone.md) [bad](docs/topic.md#again-2) [up](../outside.md)\n"
        "# README\n"
    )
    (tmp_path.parent / "outside.md").write_text("# Outside\n")

    assert broken_links(tmp_path / "README.md", tmp_path) == [
        "README.md:7: docs/gone.md (no such file)",
        "README.md:7: docs/topic.md#again-2 (no heading gives #again-2)",
        f"README.md:7: ../outside.md (outside {tmp_path.name})",
    ]


def test_github_slugs():
    assert (
        github_slug("Keeping your project up to date")
        == "keeping-your-project-up-to-date"
    )
    assert github_slug("Which receivers ran: `captured_receivers`") == (
        "which-receivers-ran-captured_receivers"
    )
    assert github_slug("After the response: `web/after_response.py`") == (
        "after-the-response-webafter_responsepy"
    )
    assert github_slug("Signups, per second (1.0)") == "signups-per-second-10"


def test_the_template_docs_links_resolve():
    broken = [link for page in pages(TEMPLATE) for link in broken_links(page, TEMPLATE)]
    assert broken == []


def test_the_template_readme_is_an_entrance():
    assert line_count(TEMPLATE / "README.md") <= README_MAX_LINES


def test_the_generated_docs_links_resolve(project):
    broken = [link for page in pages(project) for link in broken_links(page, project)]
    assert broken == []


def test_the_generated_readme_is_an_entrance(project):
    assert line_count(project / "README.md") <= README_MAX_LINES


def test_the_generated_readme_shows_the_signal_diagram_early(project):
    readme = (project / "README.md").read_text(encoding="utf-8")
    signals_page = (project / "docs" / "signals.md").read_text(encoding="utf-8")

    [(start, diagram)] = mermaid_blocks(readme)
    [(_, generated)] = mermaid_blocks(signals_page)
    assert start + diagram.count("\n") - 1 <= DIAGRAM_WITHIN, (
        f"the diagram ends on line {start + diagram.count(chr(10)) - 1} of README.md"
    )
    assert diagram == generated, (
        "Copy the ```mermaid block of docs/signals.md (its template source, "
        "Jinja lines included) into README.md"
    )
