"""Jinja filters that escape an answer for the file it lands in.

Each answer may hold quotes, backslashes, accents, CJK or emoji, so every
place that writes one into a file goes through the filter for that format.
Free-text answers (project_name, description, author_name) go through
`one_line` first: pasted text often brings a stray space or tab, and
cookiecutter has computed the context before any hook could fix it.
"""

import json
import re
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
        environment.filters.update(
            one_line=one_line,
            identifier=identifier,
            python_string=python_string,
            toml_string=toml_string,
            markdown_text=markdown_text,
        )
