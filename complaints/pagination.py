"""Count-free paging of the orders for the API (the browser's pages: core.web.pagination)."""

from rest_framework.pagination import CursorPagination


class OrderCursorPagination(CursorPagination):
    """Stable, count-free paging for channel systems walking through orders."""

    ordering = ("-received_at", "-id")
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
