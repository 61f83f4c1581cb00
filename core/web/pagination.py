"""Pagination that never counts: with millions of visible orders a COUNT(*) per page view is a full scan."""

from dataclasses import dataclass


@dataclass
class Page:
    object_list: list
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)


def page_without_count(queryset, page_number, per_page: int) -> Page:
    try:
        number = max(1, int(page_number or 1))
    except (TypeError, ValueError):
        number = 1
    offset = (number - 1) * per_page
    rows = list(queryset[offset : offset + per_page + 1])
    return Page(object_list=rows[:per_page], number=number, has_next=len(rows) > per_page)


COUNT_LIMIT = 10_000


@dataclass
class BoundedCount:
    """How many rows a list has, counted up to a limit (beyond it: "more than the limit")."""

    n: int
    more: bool

    @property
    def display(self) -> str:
        return f"{self.n:,}"


def count_bounded(queryset, limit: int = COUNT_LIMIT) -> BoundedCount:
    """SELECT COUNT(*) FROM (… LIMIT limit + 1): a list's total without scanning millions of rows."""
    n = queryset.order_by()[: limit + 1].count()
    return BoundedCount(n=min(n, limit), more=n > limit)
