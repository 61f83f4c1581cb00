"""What the drills share: each property checked prints ok/FAIL, and the drill's verdict is its exit code."""

from __future__ import annotations

FAILURES: list[str] = []


def check(label: str, ok: bool, detail: str = "") -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {label}{': ' + detail if detail else ''}")
    if not ok:
        FAILURES.append(label)


def verdict(drill: str) -> int:
    """Print `<drill>: consistent` or what failed; 0 or 1 for sys.exit."""
    print(f"\n{drill}: " + ("consistent" if not FAILURES else f"FAILED: {', '.join(FAILURES)}"))
    return 1 if FAILURES else 0
