"""`manage.py newapp` refuses bad names before writing anything.

The template's own test suite runs the whole command in a rendered project.
"""

import pytest
from django.core.management import CommandError, call_command


@pytest.fixture
def project(settings, tmp_path):
    """A throwaway project layout, so a bug here cannot write into the real one."""
    (tmp_path / "config" / "settings").mkdir(parents=True)
    (tmp_path / "package").mkdir()
    settings.BASE_DIR = tmp_path
    settings.APPS_DIR = tmp_path / "package"
    return tmp_path


def files(path):
    return sorted(p.relative_to(path) for p in path.rglob("*"))


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Orders", "not a valid app name"),
        ("9lives", "not a valid app name"),
        ("class", "keyword"),
        ("users", "already exists"),
        ("json", "shadow"),
        ("django", "shadow"),
    ],
)
def test_a_bad_name_is_refused_and_nothing_is_written(project, name, reason):
    before = files(project)

    with pytest.raises(CommandError, match=reason):
        call_command("newapp", name)

    assert files(project) == before


def test_a_hand_written_local_apps_is_not_guessed(project):
    settings_file = project / "config" / "settings" / "base.py"
    settings_file.write_text('LOCAL_APPS = ["package.web"] + EXTRA_APPS\n')
    before = files(project)

    with pytest.raises(CommandError, match="will not guess"):
        call_command("newapp", "newapp_probe")

    assert files(project) == before
    assert settings_file.read_text() == 'LOCAL_APPS = ["package.web"] + EXTRA_APPS\n'
