"""Tables of a page: the same rows shown on the page and written to its CSV/Excel files (core.web.exports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import Http404
from django.shortcuts import render
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from core.web.exports import ExportAbout, table_response


@dataclass
class Cell:
    text: str
    link: str = ""
    raw: Any = None
    css: str = ""
    fmt: str = ""  # how an export writes it (core.web.exports: percent, date, month, datetime); empty: by raw's type
    # A customer's name or number in a column of its own, shown as the phone rule lets the reader see it: an export
    # writes it as given. Every other text cell of an export passes the personal-data check.
    personal: bool = False

    def __post_init__(self):
        if not self.css and isinstance(self.raw, int | float) and not isinstance(self.raw, bool):
            self.css = "num"


@dataclass
class Table:
    name: str
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    empty: str = ""  # what an empty table says

    @property
    def header(self) -> list[tuple[str, str]]:
        """Each column's title with the class of its figures: a column of numbers is right-aligned, title too."""
        numeric = [False] * len(self.columns)
        for row in self.rows:
            for index, cell in enumerate(row[:len(numeric)]):
                if "num" in cell.css.split():
                    numeric[index] = True
        return [(str(title), "num" if is_num else "") for title, is_num in zip(self.columns, numeric, strict=True)]

    def body_html(self) -> SafeString:
        """The rows as HTML (templates/_table.html): a dashboard shows tables of hundreds of cells, and the
        template language spent more time on them than the page's SQL did. Every text and link is escaped."""
        out = []
        for row in self.rows:
            cells = []
            for cell in row:
                text = conditional_escape(cell.text)
                if cell.link:
                    text = f'<a href="{conditional_escape(cell.link)}">{text}</a>'
                cells.append(f'<td class="{conditional_escape(cell.css)}">{text}</td>')
            out.append(f"<tr>{''.join(cells)}</tr>")
        if not out:
            empty = self.empty or _("No data for this period.")
            out.append(f'<tr><td colspan="{len(self.columns)}" class="muted">{conditional_escape(empty)}</td></tr>')
        return mark_safe("\n".join(out))  # every part above is escaped


EXPORT_FORMATS = ("csv", "xlsx")


def table_page(request, template: str, context: dict, tables: list, *, about, default: str = "", page: str = ""):
    """Render the page, or answer ?export=csv|xlsx&table=NAME with that one of its tables (`default` where the
    request names none) as a file; `about(table)` is the ExportAbout of the file, `page` the page's name in the
    export's record (by default its URL's name). The page's links to its files carry its other parameters
    (`query_string`)."""
    export = request.GET.get("export")
    if export:
        if export not in EXPORT_FORMATS:
            raise Http404(_("Unknown export format."))
        name = request.GET.get("table") or default
        table = next((t for t in tables if t is not None and t.name == name), None)
        if table is None:
            raise Http404(_("No such table on this page."))
        return table_response(table, export, user=request.user, page=page or request.resolver_match.url_name,
                              about=about(table), filters=request.GET.urlencode())
    query = request.GET.copy()
    for key in ("export", "table"):
        query.pop(key, None)
    context["query_string"] = query.urlencode()
    return render(request, template, context)


EXPORT_LIMIT = 20_000


def list_export(request, *, name: str, title: str, columns: list, queryset, row, filters=()):
    """?export=csv|xlsx on a list page: the whole filtered list (up to EXPORT_LIMIT rows) as a table. A row's
    values keep their type (dates, numbers); a Cell passes through with its format (a month)."""
    export = request.GET.get("export")
    if export not in EXPORT_FORMATS:
        raise Http404(_("Unknown export format."))
    table = Table(name=name, title=title, columns=columns)
    for item in queryset[:EXPORT_LIMIT]:
        table.rows.append([v if isinstance(v, Cell) else Cell("" if v is None else str(v), raw=v) for v in row(item)])
    about = ExportAbout(title=str(title), filters=[(str(label), str(value)) for label, value in filters])
    return table_response(table, export, user=request.user, page=request.resolver_match.url_name, about=about,
                          filters=request.GET.urlencode())
