"""Compile the translation catalogues. Uses GNU gettext's msgfmt when present; otherwise keeps the committed .mo
files, so `make run` needs no Debian package."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

if shutil.which("msgfmt"):
    sys.exit(subprocess.call([sys.executable, str(ROOT / "manage.py"), "compilemessages", "--ignore=.venv",
                              "--ignore=node_modules", "--ignore=var"], cwd=ROOT))
for po in (ROOT / "locale").rglob("*.po"):
    mo = po.with_suffix(".mo")
    if not mo.exists():
        sys.exit(f"{mo} is missing and msgfmt is not installed (apt-get install gettext).")
    mo.touch()
print("msgfmt not found; using the committed .mo catalogues.")
