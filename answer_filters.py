"""Jinja filters that escape an answer for the file it lands in.

Each answer may hold quotes, backslashes, accents, CJK or emoji, so every
place that writes one into a file goes through the filter for that format.
Free-text answers (project_name, description, author_name) go through
`one_line` first: pasted text often brings a stray space or tab, and
cookiecutter has computed the context before any hook could fix it.

Why this module is not `local_extensions` (1.0.0's name), and why it leaves
`sys.modules` once loaded: `cruft update` renders the project's release and
the new one in one process, from one checkout moved between commits, and
cookiecutter imports `_extensions` by module name. A module still in
`sys.modules` from the first render would give the second render the old
filters (1.0.0's `local_extensions` has no `one_line`). A name 1.0.0 never
used gets this file fresh; leaving `sys.modules` after each use gets every
later render its own release's copy, whatever filters it adds or changes.
"""

import json
import re
import sys
import unicodedata

from jinja2.ext import Extension


def one_line(value):
    """Trim the ends and turn each tab into a space: what a pasted answer needs."""
    return value.replace("\t", " ").strip()


def identifier(value):
    """Fold accents, lowercase, and turn every run of other characters into `_`."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")


def python_string(value):
    """A Python string literal, quoted the way ruff format would quote it."""
    quote = "'" if value.count('"') > value.count("'") else '"'
    escaped = value.replace("\\", "\\\\").replace(quote, "\\" + quote)
    escaped = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\x{ord(m.group()):02x}", escaped)
    return quote + escaped + quote


def toml_string(value):
    """A TOML basic string (JSON's escapes are a subset of TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def markdown_text(value):
    """Text with Markdown's punctuation backslash-escaped."""
    return re.sub(r"([\\`*_{}\[\]()<>#+\-.!|~&])", r"\\\1", value)


class EscapeExtension(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        # The environment keeps this class and its filters; the next import
        # of this name reads the file again (see the module's docstring).
        sys.modules.pop(__name__, None)
        environment.filters.update(
            one_line=one_line,
            identifier=identifier,
            python_string=python_string,
            toml_string=toml_string,
            markdown_text=markdown_text,
        )
