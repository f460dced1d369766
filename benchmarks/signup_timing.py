"""Does the signup page answer faster for an address that has an account than for a new one?

The signup page of issue 22 (finding 2) answers a taken address as a new
one; this measures whether its time tells them apart. Renders the project
with background=none and SQLite, serves it with gunicorn (config/gunicorn.py,
one sync worker, production settings, so Argon2 hashes the passwords) and
posts the signup form over a raw socket with `Connection: close`,
alternating a new address (a fresh username and address each time) and one
that has an account (typed in another case, with a fresh username), N times
each. It times each POST until its whole response is read, and until the
server closes the connection: a sync worker closes it only once the work
after the response (the email, web/after_response.py) is done.

Every email is a simulated send of --delay seconds (tests/support/
slow_email.py). Twice: with NOTIFICATIONS_ACCOUNT_EXISTS_COOLDOWN at 0 (every
taken signup emails the owner, as every new one gets its welcome email),
then at an hour (after the first, a taken signup sends nothing). The limits
per address and per email address are lifted for the run.

    .venv/bin/python benchmarks/signup_timing.py [--requests 30] [--delay 0.2]

`--template` renders another checkout of the template instead. Needs a
Python with the project's dependencies (--python; default: the shared
virtualenv `make test` builds in build/).
"""

import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import form_timing  # noqa: E402
from support import harness  # noqa: E402

NEW, TAKEN = "new", "taken"
OWNER = "owner@example.com"
PASSWORD = "Analytical engine 1843"
PATH = "/accounts/signup/"


def main():
    args = form_timing.parse_args(__doc__, requests=30, per="per kind")
    python = args.python or harness.project_python()

    with tempfile.TemporaryDirectory(prefix="signup-timing-") as tmp:
        tmp = Path(tmp)
        project = form_timing.render(tmp, args.template)
        env = (
            form_timing.slow_email_environ(tmp / "mail", args.delay)
            | form_timing.production_environ(project)
            | {
                "SIGNUP_ATTEMPTS_PER_ADDRESS": str(10**9),
                "SIGNUP_ATTEMPTS_PER_EMAIL": str(10**9),
            }
        )
        harness.run([python, "manage.py", "migrate", "--no-input"], project, env)
        harness.run([python, "manage.py", "collectstatic", "--no-input"], project, env)
        form_timing.create_user(python, project, env, "owner")
        results = {
            cooldown: measure(python, project, env, tmp, args.requests, cooldown)
            for cooldown in (0, 3600)
        }
    report(results, args)


def measure(python, project, env, tmp, count, cooldown):
    """Under gunicorn: each signup POST's (seconds to the response, to the close), by kind."""
    env = env | {"NOTIFICATIONS_ACCOUNT_EXISTS_COOLDOWN": str(cooldown)}
    log = tmp / f"gunicorn-{cooldown}.log"
    with form_timing.gunicorn(python, project, env, log) as port:
        cookie, token = form_timing.form_session(f"http://127.0.0.1:{port}{PATH}")
        results = {NEW: [], TAKEN: []}

        def post(kind):
            name = f"u{uuid.uuid4().hex[:12]}"
            email = f"{name}@example.com" if kind == NEW else OWNER.upper()
            form = {
                "csrfmiddlewaretoken": token,
                "username": name,
                "email": email,
                "password1": PASSWORD,
                "password2": PASSWORD,
            }
            time.sleep(form_timing.PAUSE)
            data, times = form_timing.post_and_close(
                port, PATH, cookie, urlencode(form)
            )
            if (
                not data.startswith(b"HTTP/1.1 302")
                or b"/accounts/signup/done/" not in data
            ):
                sys.exit(f"the signup page answered {data[:200]!r}")
            results[kind].append(times)

        return form_timing.alternate(post, (TAKEN, NEW), count, results, warm_up=3)


def report(results, args):
    print(
        f"\n{args.requests} signups per kind, background=none, SQLite, gunicorn "
        "(1 sync worker, production settings: Argon2), Connection: close, "
        f"simulated send {args.delay * 1000:.0f} ms\n"
    )
    kinds = ((TAKEN, "taken address"), (NEW, "new address"))
    form_timing.print_close_table("signup", results, kinds)
    form_timing.print_ratios(
        results, (TAKEN, NEW), "taken / new", moments=((0, "Response"), (1, "Close"))
    )


if __name__ == "__main__":
    main()
