"""The default project's browser tests pass in Debian's headless Chromium.

One combination (the defaults) runs them here: the pages are the same in
every combination. They need `chromium` and `chromedriver` on PATH
(`scripts/install-chromium`); without them this test skips, except under
CI=true, where it fails. SCREENSHOT_DIR keeps the screenshots, which is how
`docs/profile.png` is made (see the README).
"""

import os
import shutil
from pathlib import Path

import pytest
from conftest import unavailable


@pytest.mark.slow
@pytest.mark.xdist_group("browser")
def test_default_project_passes_its_browser_tests(cookies, make_project, tmp_path):
    missing = [name for name in ("chromium", "chromedriver") if not shutil.which(name)]
    if missing:
        unavailable(
            f"{' and '.join(missing)} not on PATH: run scripts/install-chromium "
            "(Debian's chromium and chromium-driver) for the browser tests"
        )
    result = cookies.bake()
    assert result.exception is None, result.exception
    project = make_project(result.project_path)
    screenshots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path / "shots")

    tests = project.py(
        "-m",
        "pytest",
        "-m",
        "browser",
        "-rs",
        env={"CI": "true", "SCREENSHOT_DIR": str(screenshots.resolve())},
    )

    summary = tests.stdout.strip().splitlines()[-1]
    assert " passed" in summary, tests.stdout
    assert "skipped" not in summary, tests.stdout
    assert (screenshots / "profile.png").is_file()
