"""The Chinese catalogue is complete: every translatable string in the code has a reviewed translation."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["manage.py", "config", "core", "demo", "org", "complaints", "workflow", "accountability", "quality", "reports",
           "knowledge", "support", "jobs", "sms", "templates", "static", "locale"]


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext is not installed (make test installs it)")
def test_every_translatable_string_has_a_chinese_translation(tmp_path):
    # Extract the strings from a copy of the sources, so the working tree's catalogue is left as it is.
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "vendor"))
        else:
            shutil.copy(source, tmp_path / name)
    subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"], cwd=tmp_path,
                   check=True, capture_output=True, env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings"})
    catalogue = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    stats = subprocess.run(["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(catalogue)],
                           capture_output=True, text=True, check=True).stderr
    missing = subprocess.run(["msgattrib", "--untranslated", "--no-wrap", str(catalogue)],
                             capture_output=True, text=True).stdout
    fuzzy = subprocess.run(["msgattrib", "--only-fuzzy", "--no-wrap", str(catalogue)], capture_output=True,
                           text=True).stdout
    assert "untranslated" not in stats and "fuzzy" not in stats, (
        f"{stats}\nRun `make messages` and translate:\n{missing}\n{fuzzy}"
    )
