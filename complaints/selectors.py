"""Reads. Every read of orders goes through orders_visible_to, the one place region isolation is enforced."""

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from complaints.models import Category, Customer, IntakePolicy, WorkOrder
from org.models import Region

DEFAULT_REPEAT_WINDOW_DAYS = 30


def regions_visible_to(user) -> QuerySet:
    if user.is_superuser:
        return Region.objects.all()
    region = user.region
    if region is None:
        return Region.objects.none()
    return Region.objects.filter(path__startswith=region.path)


def orders_visible_to(user) -> QuerySet:
    """Orders of the user's region and below (province staff see the whole province), the orders they logged
    themselves, and the orders that sit with their department now (a transfer or a callback can bring an order
    from another city)."""
    if not user.is_authenticated:
        return WorkOrder.objects.none()
    if user.is_superuser:
        return WorkOrder.objects.all()
    if user.region is None:
        return WorkOrder.objects.filter(first_responder=user)
    return WorkOrder.objects.filter(
        Q(region__in=regions_visible_to(user)) | Q(first_responder=user) | Q(current_department=user.department_id)
    )


def order_get_for_user(*, user, number: str) -> WorkOrder | None:
    return (
        orders_visible_to(user)
        .select_related("customer", "channel", "category", "region", "first_responder_department", "repeat_of")
        .filter(number=number)
        .first()
    )


def order_list_for_user(*, user, filters: dict | None = None) -> QuerySet:
    filters = filters or {}
    qs = orders_visible_to(user).select_related("customer", "channel", "category", "region")
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    if filters.get("channel"):
        qs = qs.filter(channel__code=filters["channel"])
    if filters.get("category"):
        # A category filter includes its whole subtree.
        qs = qs.filter(category__path__startswith=filters["category"].path)
    if filters.get("department"):
        qs = qs.filter(first_responder_department=filters["department"])
    if filters.get("region"):
        qs = qs.filter(region__path__startswith=filters["region"].path)
    if filters.get("received_from"):
        qs = qs.filter(received_at__gte=filters["received_from"])
    if filters.get("received_to"):
        qs = qs.filter(received_at__lt=filters["received_to"])
    if filters.get("phone"):
        qs = qs.filter(customer__phone=filters["phone"])
    if filters.get("number"):
        qs = qs.filter(number=filters["number"])
    return qs.order_by("-received_at", "-id")


def customer_history_for_user(*, user, phone: str, limit: int = 50) -> QuerySet:
    """The customer's orders through every channel, newest first, as far as the user may see them."""
    return (
        orders_visible_to(user)
        .filter(customer__phone=phone)
        .select_related("channel", "category")
        .order_by("-received_at", "-id")[:limit]
    )


def customer_get(*, phone: str) -> Customer | None:
    return Customer.objects.select_related("home_region").filter(phone=phone).first()


def repeat_window_days(*, on_date=None) -> int:
    on_date = on_date or timezone.localdate()
    policy = IntakePolicy.objects.filter(effective_from__lte=on_date).order_by("-effective_from").first()
    return policy.repeat_window_days if policy else DEFAULT_REPEAT_WINDOW_DAYS


def repeat_candidate(*, customer: Customer, category: Category, received_at: datetime) -> WorkOrder | None:
    """The latest earlier order of the same customer in the same category within the repeat window."""
    window = timedelta(days=repeat_window_days(on_date=timezone.localdate(received_at)))
    return (
        WorkOrder.objects.filter(
            customer=customer,
            category=category,
            received_at__gte=received_at - window,
            received_at__lte=received_at,
        )
        .order_by("-received_at", "-id")
        .first()
    )


def leaf_categories() -> QuerySet:
    return Category.objects.filter(is_active=True).exclude(Exists(Category.objects.filter(parent=OuterRef("pk"))))


def category_search(*, query: str, limit: int = 20) -> list[Category]:
    """Leaves matching the code, the Chinese or English name, the pinyin or its initials; parents' names count too,
    so "网络" finds every network leaf."""
    query = (query or "").strip()
    qs = leaf_categories().select_related("parent__parent__parent__parent")
    if query:
        lowered = query.lower()
        ancestors = Category.objects.filter(
            Q(name__icontains=query) | Q(name_en__icontains=query) | Q(pinyin_initials__startswith=lowered)
        ).values("path")
        match = (
            Q(code__istartswith=query)
            | Q(name__icontains=query)
            | Q(name_en__icontains=query)
            | Q(pinyin__startswith=lowered)
            | Q(pinyin_initials__startswith=lowered)
        )
        direct = list(qs.filter(match).order_by("path")[:limit])
        if len(direct) < limit:
            seen = {c.pk for c in direct}
            paths = [row["path"] for row in ancestors[:50]]
            if paths:
                under = Q()
                for path in paths:
                    under |= Q(path__startswith=path)
                direct += [c for c in qs.filter(under).order_by("path")[: limit * 2] if c.pk not in seen][
                    : limit - len(direct)
                ]
        return direct
    return list(qs.order_by("path")[:limit])


def order_track(*, number: str, phone: str) -> WorkOrder | None:
    """The public progress lookup: the order only when the number and the phone number belong together."""
    return (
        WorkOrder.objects.filter(number=number.strip().upper())
        .filter(Q(customer__phone=phone) | Q(contact_phone=phone))
        .select_related("category")
        .first()
    )


def category_responsible_department(*, category: Category):
    """按类定责: the department named by the category itself or, failing that, by its nearest ancestor (level 3
    decides; levels 4–5 refine cross-department cases). One query over the category's path."""
    if category.responsible_department_id:
        return category.responsible_department
    codes = [code for code in category.path.strip("/").split("/") if code]
    ancestor = (
        Category.objects.filter(code__in=codes, responsible_department__isnull=False)
        .select_related("responsible_department")
        .order_by("-level")
        .first()
    )
    return ancestor.responsible_department if ancestor is not None else None
