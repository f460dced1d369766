"""Create or drop the PostgreSQL database named in a URL: `create URL`, `drop URL`.

Run with a rendered project's Python (the template's own venv has no
psycopg). `create` prints "created" when it made the database, and leaves
an existing one alone.
"""

import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

action, url = sys.argv[1], urlsplit(sys.argv[2])
name = sql.Identifier(url.path.lstrip("/"))
server = urlunsplit(url._replace(path="/postgres"))
with psycopg.connect(server, autocommit=True) as conn:
    exists = conn.execute(
        "SELECT 1 FROM pg_database WHERE datname = %s", [url.path.lstrip("/")]
    ).fetchone()
    if action == "create" and not exists:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
        print("created")
    elif action == "drop" and exists:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(name))
