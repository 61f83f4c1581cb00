"""Text bound for a spreadsheet never runs as a formula (OWASP: CSV injection). Kept low in the layers: the exports
(reports/) and the historical import's report of rejected rows (complaints/) both write such files."""

# What spreadsheet programs take for the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_STARTS)


def neutralise(text: str) -> str:
    """CSV: text that a spreadsheet would run as a formula starts with a single quote."""
    return "'" + text if looks_like_formula(text) else text


def unneutralise(text: str) -> str:
    """The text `neutralise` was given: a file we wrote (the rejected rows, corrected) loads back as it was."""
    return text[1:] if text.startswith("'") and looks_like_formula(text[1:]) else text
