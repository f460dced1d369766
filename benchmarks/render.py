"""What generation costs, and how long a new project takes to answer its first page.

1. Render ratio. `cookiecutter --no-input` (a new process each time, as a user
   runs it) of the default project against a one-file template, by the same
   cookiecutter, alternating, over N rounds: the median of the per-round
   ratios. More variants in the same rounds say where the difference goes:
   the one-file template with this template's cookiecutter.json and Jinja
   extensions (the context), and this template without its hooks. So
   "context" - "one file" is the questions and extension imports, "without
   hooks" - "context" the files, and "default project" - "without hooks" the
   two hook processes (the post-gen hook removing what the answers leave out).

2. Time to first page. From `cookiecutter --no-input` to `/healthz/`
   answering on a fresh SQLite project, split into render, install (the
   README's commands, which install the locked versions: a venv in `.venv`,
   pip upgraded, `pip install --require-hashes -r requirements/dev.txt` and
   `pip install --no-deps -e .`; or `uv sync --locked`), migrate, and first
   response (runserver started until /healthz/ answers "ok"). The package
   cache is warmed first by one untimed install (`--no-warm-up` skips it).

3. Time to first page from the lock: the uv path of 2., median total of
   `--locked-runs` runs (3) after one untimed run; it stays under 10 s here.

    .venv/bin/python benchmarks/render.py [--rounds 15] [--pages 1] [--installer pip uv]
        [--locked-runs 3]

`--python` picks the interpreter of the new projects (3.12+; default: the one
running this script, outside its virtualenv). Output goes to stdout as
Markdown tables, ready for the README.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support import harness  # noqa: E402
from support.harness import TEMPLATE, base_python, clean_environ  # noqa: E402


def one_file_template(root, with_ours=False):
    """A template of one README; optionally with this template's settings."""
    root.mkdir(parents=True)
    project = root / "{{cookiecutter.project_slug}}"
    project.mkdir()
    (project / "README.md").write_text("# {{ cookiecutter.project_slug }}\n")
    if with_ours:
        shutil.copy(TEMPLATE / "cookiecutter.json", root)
        # The modules of its Jinja extensions that this template holds.
        settings = json.loads((TEMPLATE / "cookiecutter.json").read_text())
        for extension in settings["_extensions"]:
            module = TEMPLATE / f"{extension.split('.')[0]}.py"
            if module.exists():
                shutil.copy(module, root)
    else:
        (root / "cookiecutter.json").write_text(json.dumps({"project_slug": "floor"}))
    return root


def template_copy(root, leave_out=()):
    """A copy of this template, without the repository's own folders and `leave_out`."""
    skipped = {".venv", "build", ".git", "tests", "benchmarks", *leave_out}
    shutil.copytree(
        TEMPLATE,
        root,
        # Only the repository's own folders: the project has tests/ folders too.
        ignore=lambda folder, names: (
            skipped & set(names) if folder == str(TEMPLATE) else ()
        ),
    )
    return root


def has_jinja(path):
    text = path.read_bytes().decode(errors="replace")
    return any(tag in text for tag in ("{{", "{%", "{#"))


def jinja_free_copied(root):
    """This template, with every file that holds no Jinja in _copy_without_render.

    What the files cost is mostly Jinja compiling each one; this variant says
    how much of it a list of such files would save.
    """
    template_copy(root)
    project = root / "{{cookiecutter.project_slug}}"
    plain = sorted(
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if path.is_file() and not has_jinja(path)
    )
    settings = json.loads((root / "cookiecutter.json").read_text(encoding="utf-8"))
    settings["_copy_without_render"] += plain
    (root / "cookiecutter.json").write_text(json.dumps(settings), encoding="utf-8")
    return root


def render_seconds(template, output_dir, config, answers=()):
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            "--config-file",
            str(config),
            "--output-dir",
            str(output_dir),
            str(template),
            *answers,
        ],
        check=True,
        capture_output=True,
        env=clean_environ(),
    )
    return time.perf_counter() - start


def render_ratio(work, config, rounds):
    variants = {
        "one-file template": (one_file_template(work / "floor"), ()),
        "+ cookiecutter.json and extensions": (
            one_file_template(work / "context", with_ours=True),
            (),
        ),
        "default project without hooks": (
            template_copy(work / "no-hooks", leave_out={"hooks"}),
            (),
        ),
        "default project": (TEMPLATE, ()),
        "default project, Jinja-free files copied unrendered": (
            jinja_free_copied(work / "copied"),
            (),
        ),
    }
    timings = {name: [] for name in variants}
    for number in range(rounds):
        # Alternate the order so drift on a shared machine hits every variant.
        names = list(variants) if number % 2 == 0 else list(reversed(variants))
        for name in names:
            template, answers = variants[name]
            output = work / "out" / f"{number}-{len(timings[name])}-{template.name}"
            timings[name].append(render_seconds(template, output, config, answers))
            shutil.rmtree(output)
    floor = timings["one-file template"]
    ours = timings["default project"]
    ratio = statistics.median(o / f for o, f in zip(ours, floor, strict=True))
    files = sum(
        1
        for path in (TEMPLATE / "{{cookiecutter.project_slug}}").rglob("*")
        if path.is_file()
    )
    print(f"### Render: {rounds} rounds, alternating\n")
    print("| variant | median | vs one-file template |")
    print("| --- | ---: | ---: |")
    for name, values in timings.items():
        paired = statistics.median(v / f for v, f in zip(values, floor, strict=True))
        print(f"| {name} | {statistics.median(values) * 1000:.0f} ms | {paired:.2f} |")
    print(f"\nRender ratio (median of per-round ratios): **{ratio:.2f}**")
    print(f"Template files: {files}\n")
    return ratio


def first_response_seconds(project, python, env):
    """From starting runserver to /healthz/ answering "ok"."""
    port = harness.free_port()
    start = time.perf_counter()
    server = harness.start(
        [python, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        project / "runserver.log",
        project,
        env,
    )
    try:
        url = f"http://127.0.0.1:{port}/healthz/"
        harness.wait_for_http(url, [server], "no answer", body=b"ok", step=0.02)
        return time.perf_counter() - start
    finally:
        harness.stop(server)


def timed(args, cwd, env):
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def quiet(args, cwd, env):
    """Run a command silently; on failure, raise with what it printed."""
    process = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if process.returncode:
        raise RuntimeError(f"{args} exited {process.returncode}:\n{process.stderr}")


def install(project, installer, python, env):
    """The README's install commands; returns the project's Python."""
    venv_python = str(project / ".venv" / "bin" / "python")
    if installer == "pip":
        quiet([python, "-m", "venv", ".venv"], project, env)
        pip = [venv_python, "-m", "pip", "install", "--quiet"]
        quiet([*pip, "--upgrade", "pip"], project, env)
        quiet([*pip, "--require-hashes", "-r", "requirements/dev.txt"], project, env)
        quiet([*pip, "--no-deps", "-e", "."], project, env)
    else:
        uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or "uv"
        uv_env = {**env, "UV_PYTHON_DOWNLOADS": "never"}
        quiet([uv, "sync", "--locked", "--quiet", "--python", python], project, uv_env)
    return venv_python


def first_page(work, installer, python, config):
    env = clean_environ()
    out = work / f"page-{installer}-{time.monotonic_ns()}"
    phases = {}
    phases["render"] = render_seconds(
        TEMPLATE, out, config, ["database=sqlite", "background=none"]
    )
    project = out / "acme_shop"
    start = time.perf_counter()
    venv_python = install(project, installer, python, env)
    phases["install"] = time.perf_counter() - start
    phases["migrate"] = timed([venv_python, "manage.py", "migrate"], project, env)
    phases["first response"] = first_response_seconds(project, venv_python, env)
    shutil.rmtree(out)
    return phases


def time_to_first_page(work, config, installers, pages, python, warm_up):
    if warm_up:
        for installer in installers:
            first_page(work, installer, python, config)
    print(f"### Time to first page: fresh SQLite project, warm cache, {pages} run(s)\n")
    print("| installer | render | install | migrate | first response | total |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for installer in installers:
        runs = [first_page(work, installer, python, config) for _ in range(pages)]
        medians = {name: statistics.median(r[name] for r in runs) for name in runs[0]}
        cells = " | ".join(f"{value:.1f} s" for value in medians.values())
        print(f"| {installer} | {cells} | {sum(medians.values()):.1f} s |")
    print()


def time_to_first_page_from_the_lock(work, config, python, runs):
    """The uv path from the lock (render, `uv sync --locked`, migrate, first
    response): the median total of `runs`, after one untimed run that warms
    uv's cache."""
    first_page(work, "uv", python, config)
    totals = sorted(
        sum(first_page(work, "uv", python, config).values()) for _ in range(runs)
    )
    print("### Time to first page from the lock (`uv sync --locked`), warm cache\n")
    print(f"Median of {runs}: {statistics.median(totals):.1f} s", end=" ")
    print(f"(runs: {', '.join(f'{total:.1f} s' for total in totals)})\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=15, help="render rounds (0 skips)"
    )
    parser.add_argument(
        "--pages", type=int, default=1, help="first-page runs (0 skips)"
    )
    parser.add_argument(
        "--installer", nargs="+", default=["pip", "uv"], choices=["pip", "uv"]
    )
    parser.add_argument(
        "--python", default=base_python(), help="the projects' Python (3.12+)"
    )
    parser.add_argument("--no-warm-up", dest="warm_up", action="store_false")
    parser.add_argument(
        "--locked-runs",
        type=int,
        default=3,
        help="first pages on the uv path from the lock, for their median (0 skips)",
    )
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores\n")
    with tempfile.TemporaryDirectory(prefix="render-bench-") as work:
        work = Path(work)
        config = harness.cookiecutter_config(work)
        if args.rounds:
            render_ratio(work, config, args.rounds)
        if args.pages:
            time_to_first_page(
                work, config, args.installer, args.pages, args.python, args.warm_up
            )
        if args.locked_runs:
            time_to_first_page_from_the_lock(
                work, config, args.python, args.locked_runs
            )


if __name__ == "__main__":
    main()
