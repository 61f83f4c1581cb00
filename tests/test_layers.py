"""The layers of ../shared/ARCHITECTURE.md hold (import-linter, pyproject.toml) with nothing ignored, and imports
hidden inside functions (how a cycle used to be held up) stay few, each saying why."""

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IGNORED_IMPORTS_TODAY = 0


def test_no_import_runs_against_the_layers():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint_imports), "--no-logo", "--no-cache"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_ignored_imports_do_not_grow():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = config["tool"]["importlinter"]["contracts"]
    assert contract["type"] == "layers"
    assert len(contract["ignore_imports"]) <= IGNORED_IMPORTS_TODAY


APPS = ("core", "jobs", "org", "complaints", "workflow", "knowledge", "quality", "support", "accountability",
        "reports", "config", "demo")
LOCAL_IMPORTS_AT_MOST = 30


def _imports_inside_functions() -> list[tuple[str, str]]:
    """Every import statement inside a function of the product's code (migrations aside: Django writes those), with
    its text (all its lines)."""
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            source = path.read_text(encoding="utf-8")
            lines = source.splitlines()
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    for inner in ast.walk(node):
                        if isinstance(inner, (ast.Import, ast.ImportFrom)):
                            text = "\n".join(lines[inner.lineno - 1:inner.end_lineno])
                            found.append((f"{path.relative_to(ROOT)}:{inner.lineno}", text))
    return found


def test_imports_inside_functions_are_few_and_each_says_why():
    found = _imports_inside_functions()
    print("\n".join(f"{where}  {text.strip()}" for where, text in found))
    unexplained = [where for where, text in found if "# local:" not in text]
    assert not unexplained, f"imports inside functions without a '# local: <why>' comment: {unexplained}"
    assert len(found) <= LOCAL_IMPORTS_AT_MOST
