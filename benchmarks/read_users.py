"""What the project's receivers add to reading users: 20,000 of them, with and without.

Renders a default project (`--database postgresql` for PostgreSQL), creates
the users with bulk_create() (which sends no signal), and times
`list(User.objects.all())` with the project's receivers connected and with
every one of them disconnected, in alternating rounds in one process. Prints
the median of each (--rounds 9) and their ratio; the target is <= 1.03. A
receiver of the user's post_init (1.x had one) runs once per user read.
Times are the CPU time of the process that reads: the receivers run there,
and other work on a shared machine does not count.

    .venv/bin/python benchmarks/read_users.py [--users 20000] [--rounds 9]
        [--database postgresql] [--python build/project-venv-.../bin/python]
        [--template DIR]

--template renders another checkout of the template, e.g. an older release
(`git archive 1.0.0 | tar -x -C /tmp/before`).

PostgreSQL is the server of DATABASE_URL (default postgres@127.0.0.1:5432),
in a database made and dropped for the run. --python: a Python with the
project's dependencies (default: the shared virtualenv `make test` builds in
build/).
"""

import argparse
import contextlib
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from offload import Project  # noqa: E402
from support import harness  # noqa: E402

# Runs in the rendered project: prints the seconds of each round, by variant.
READ = """
import gc, json, sys, time, weakref, django
django.setup()
from django.contrib.auth import get_user_model
from django.db.models import signals

users, rounds = int(sys.argv[1]), int(sys.argv[2])
User = get_user_model()
User.objects.bulk_create(
    (User(username=f"user{n}", email=f"user{n}@example.com") for n in range(users)),
    batch_size=1000,
)
package = User.__module__.split(".")[0]
model_signals = [
    signals.pre_init, signals.post_init, signals.pre_save, signals.post_save,
    signals.pre_delete, signals.post_delete, signals.m2m_changed,
]

def project_receiver(entry):
    receiver = entry[1]  # (lookup key, receiver or a weak reference to it, ...)
    if isinstance(receiver, weakref.ReferenceType):
        receiver = receiver()
    return getattr(receiver, "__module__", "").split(".")[0] == package

connected = {signal: list(signal.receivers) for signal in model_signals}
disconnected = {
    signal: [entry for entry in entries if not project_receiver(entry)]
    for signal, entries in connected.items()
}

def use(receivers):
    for signal, entries in receivers.items():
        signal.receivers = entries
        signal.sender_receivers_cache.clear()

def read():
    gc.collect()  # the previous round's garbage is not this one's cost
    start = time.process_time()
    assert len(list(User.objects.all())) == users
    return time.process_time() - start

variants = {"connected": connected, "disconnected": disconnected}
seconds = {name: [] for name in variants}
read()  # warm up: the connection, the page cache
for number in range(rounds):
    # Alternate the order, so drift on a shared machine hits both.
    names = list(variants) if number % 2 == 0 else list(reversed(variants))
    for name in names:
        use(variants[name])
        seconds[name].append(read())
use(connected)
print(json.dumps(seconds))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql"], default="sqlite"
    )
    parser.add_argument("--python", help="default: the shared project virtualenv")
    parser.add_argument("--template", default=str(harness.TEMPLATE))
    args = parser.parse_args()
    python = args.python or harness.project_python()

    with (
        tempfile.TemporaryDirectory(prefix="read-users-") as tmp,
        contextlib.ExitStack() as cleanup,
    ):
        config = harness.cookiecutter_config(Path(tmp) / "cookiecutter")
        path = harness.render(tmp, config, args.template, database=args.database)
        env = harness.clean_environ() | {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_DEBUG": "False",  # DEBUG keeps every query in memory
            "DJANGO_SIGNALS_SLOW_RECEIVER_GUARD": "False",  # off in production
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        if args.database == "postgresql":
            url = harness.database_url("bench_read_users")
            env["DATABASE_URL"] = cleanup.enter_context(
                harness.fresh_database(python, url)
            )
        project = Project(path, python, env)
        project.run("manage.py", "migrate", "--no-input")
        seconds = json.loads(project.run("-c", READ, args.users, args.rounds))

    medians = {name: sorted(times)[len(times) // 2] for name, times in seconds.items()}
    ratio = medians["connected"] / medians["disconnected"]
    print(
        f"Reading {args.users:,} users ({args.database}), median of {args.rounds} "
        "alternating rounds:"
    )
    for name, median in medians.items():
        print(f"  receivers {name:<12} {median * 1000:7.1f} ms")
    verdict = "within" if ratio <= 1.03 else "over"
    print(f"  ratio {ratio:.3f} ({verdict} the target of 1.03)")


if __name__ == "__main__":
    main()
