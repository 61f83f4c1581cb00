"""Reads. Every read of orders goes through orders_visible_to, the one place region isolation is enforced."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from complaints.models import Attachment, Category, Channel, Customer, IntakePolicy, Note, WorkOrder
from complaints.phone import normalise_mobile
from core.memo import cached_for
from org.models import Department, Region

DEFAULT_REPEAT_WINDOW_DAYS = 30
# The channels and the category tree, read by every intake, are kept per process: a change in admin takes effect at
# once in the process that made it and within this many seconds in the others.
CATALOGUE_MEMO_SECONDS = 30


@cached_for(CATALOGUE_MEMO_SECONDS, invalidated_by=(Channel,))
def channels_by_code() -> dict[str, Channel]:
    """Every channel by its code (active or not: callers check)."""
    return {channel.code: channel for channel in Channel.objects.all()}


@dataclass(frozen=True)
class CategoryTree:
    by_code: dict  # code → Category (active or not: callers check), its responsible department joined
    by_id: dict  # id → the same Category
    parents: frozenset  # ids of the categories that have children (the others are leaves)
    responsible: dict  # category id → the Department that answers for it (its own or its nearest ancestor's)


@cached_for(CATALOGUE_MEMO_SECONDS, invalidated_by=(Category, Department))
def category_tree() -> CategoryTree:
    """The category tree in one read: by code, which are groups, and who is responsible for each (按类定责)."""
    categories = list(Category.objects.select_related("responsible_department"))
    by_code = {category.code: category for category in categories}
    responsible = {}
    for category in categories:
        for code in reversed([c for c in category.path.strip("/").split("/") if c]):
            ancestor = by_code.get(code)
            if ancestor is not None and ancestor.responsible_department_id:
                responsible[category.pk] = ancestor.responsible_department
                break
    return CategoryTree(by_code=by_code, by_id={c.pk: c for c in categories},
                        parents=frozenset(c.parent_id for c in categories if c.parent_id), responsible=responsible)


@cached_for(CATALOGUE_MEMO_SECONDS, invalidated_by=(Region,))
def regions_by_path() -> list[Region]:
    """Every region in tree order, from the memo (read them, never change them)."""
    return list(Region.objects.order_by("path"))


@cached_for(CATALOGUE_MEMO_SECONDS, invalidated_by=(Region,))
def regions_by_id() -> dict[int, Region]:
    return {region.pk: region for region in regions_by_path()}


def regions_visible_list(user) -> list[Region]:
    """regions_visible_to as a list in tree order, from the memo (the filter forms' choices on every page)."""
    if user.is_superuser:
        return regions_by_path()
    region = user.region
    return [] if region is None else [r for r in regions_by_path() if r.path.startswith(region.path)]


def categories_active_list() -> list[Category]:
    """The active categories in tree order, from the memo."""
    return sorted((c for c in category_tree().by_code.values() if c.is_active), key=lambda c: c.path)


def category_full_label(category: Category) -> str:
    """Category.full_label from the tree's memo (no query per level) when every ancestor is in it."""
    chain = [category_tree().by_code.get(code) for code in category.path.strip("/").split("/") if code]
    if chain and all(node is not None for node in chain) and chain[-1].pk == category.pk:
        return " / ".join(node.label for node in chain[:-1] + [category])
    return category.full_label()


def category_is_leaf(category: Category) -> bool:
    return category.pk not in category_tree().parents


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


def order_get_for_user(*, user, number: str, sections: bool = False) -> WorkOrder | None:
    """One order by number, as far as the user may open it, with what its pages read: the customer and the owner
    joined, the channel, category, region and departments from the per-process memos (joining all eight took
    PostgreSQL ten times longer to plan than to run)."""
    # The region of the customer's first order (whose customer it is, when they have no home region) comes along.
    first_region = (WorkOrder.objects.filter(customer_id=OuterRef("customer_id")).order_by("received_at", "id")
                    .values("region_id")[:1])
    orders = (orders_visible_to(user).select_related("customer", "current_owner").filter(number=number)
              .annotate(customer_first_region_id=Subquery(first_region)))
    if sections:  # the order page: whether it has notes, attachments and repeats at all (most have none)
        orders = orders.annotate(
            has_notes=Exists(Note.objects.filter(order_id=OuterRef("pk"))),
            has_attachments=Exists(Attachment.objects.filter(order_id=OuterRef("pk"))),
            has_repeats=Exists(WorkOrder.objects.filter(repeat_of_id=OuterRef("pk"))))
    order = orders.order_by().first()
    if order is not None:
        with_reference_data([order])
        first = regions_by_id().get(order.customer_first_region_id)
        if order.customer is not None and first is not None:
            order.customer.first_order_region_path = first.path
    return order


@cached_for(CATALOGUE_MEMO_SECONDS, invalidated_by=(Department,))
def departments_by_id() -> dict[int, Department]:
    return {department.pk: department for department in Department.objects.select_related("region")}


def with_reference_data(orders) -> None:
    """Fill the orders' channel, category, region and departments from the memos (no query when they are read);
    one the memo does not know yet (created a moment ago in another process) is left to Django's lazy read."""
    departments = departments_by_id()
    known = {"channel": {c.pk: c for c in channels_by_code().values()}, "category": category_tree().by_id,
             "region": regions_by_id(), "first_responder_department": departments,
             "current_department": departments, "replied_department": departments}
    fields = [(WorkOrder._meta.get_field(name), objects) for name, objects in known.items()]
    for order in orders:
        for model_field, objects in fields:
            value = objects.get(getattr(order, model_field.attname))
            if value is not None and not model_field.is_cached(order):
                model_field.set_cached_value(order, value)


# Each search filter, by name: its value becomes a condition. A category or region includes its whole subtree.
ORDER_FILTERS = {
    "status": lambda v: Q(status=v),
    "kind": lambda v: Q(kind=v),
    "severity": lambda v: Q(severity=v),
    "channel": lambda v: Q(channel__code=v),
    "category": lambda v: Q(category__path__startswith=v.path),
    "department": lambda v: Q(first_responder_department=v),
    "current_department": lambda v: Q(current_department=v),
    "region": lambda v: Q(region__path__startswith=v.path),
    "received_from": lambda v: Q(received_at__gte=v),
    "received_to": lambda v: Q(received_at__lt=v),
    "phone": lambda v: Q(customer__phone=v),
    "number": lambda v: Q(number=v),
    "escalated": lambda v: Q(escalation_level__gt=0),
    "reopened": lambda v: Q(reopen_count__gt=0),
    "deadline": lambda v: _deadline_condition(v),
}


def _deadline_condition(state: str) -> Q:
    """warning: past the warning point, not yet due; overdue: past the deadline (open orders only)."""
    now = timezone.now()
    if state == "overdue":
        return Q(stage_due_at__lte=now)
    if state == "warning":
        return Q(stage_warn_at__lte=now, stage_due_at__gt=now)
    return Q()


def order_search_filters(query: str | None) -> dict:
    """One search box (the order search of the browser, `?q=` of the API): a mobile number finds the customer's
    orders, anything else an order number."""

    query = (query or "").strip()
    if not query:
        return {}
    try:
        return {"phone": normalise_mobile(query)}
    except ValidationError:
        return {"number": query.upper()}


def orders_filtered(qs: QuerySet, filters: dict) -> QuerySet:
    for name, value in filters.items():
        if value and name in ORDER_FILTERS:
            qs = qs.filter(ORDER_FILTERS[name](value))
    return qs


def order_list_for_user(*, user, filters: dict | None = None) -> QuerySet:
    filters = filters or {}
    qs = orders_visible_to(user).select_related("customer", "channel", "category", "region")
    qs = orders_filtered(qs, filters)
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


def customer_visible_to(*, user, customer: Customer | None) -> bool:
    """May the user see who the customer is (name, tier, brand, home region)? Staff whose region covers the
    customer's home region (province staff: everyone). A hotline serves callers from the whole province, so an
    agent of another city gets nothing beyond the number they typed. A customer without a home region belongs to
    the region of their first order (the one that took them in; later orders, which anyone who logs one may open,
    do not make the customer theirs), and is seen by anyone while they have none."""
    if customer is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    region = user.region
    if customer.home_region_id is not None:
        home = regions_by_id().get(customer.home_region_id) or customer.home_region
        return region is not None and home.path.startswith(region.path)
    first = getattr(customer, "first_order_region_path", None)  # known already when its first order is logged
    if first is None:
        first = (WorkOrder.objects.filter(customer=customer).order_by("received_at", "id")
                 .values_list("region__path", flat=True).first())
    return first is None or (region is not None and first.startswith(region.path))


@dataclass
class IntakeCustomer:
    """What the intake panel shows about the number typed, as far as the reader may see it."""

    phone: str
    known: bool = False  # a customer record exists (a repeat or hidden orders would tell as much)
    customer: Customer | None = None  # only when the reader may see who it is
    history: list = field(default_factory=list)  # the orders the reader may open, newest first
    hidden_recent: int = 0  # orders of the repeat window the reader may not open: counted, never shown
    window_days: int = DEFAULT_REPEAT_WINDOW_DAYS
    repeat: WorkOrder | None = None  # the order a new one of the category would repeat, when the reader may open it
    repeat_hidden: bool = False  # ... there is one, in another region


def intake_customer_for_user(*, user, phone: str, category: Category | None = None, now=None,
                             history_limit: int = 20) -> IntakeCustomer:
    """The intake panel's customer part: the record if the reader may see it (customer_visible_to), the history
    through orders_visible_to, and what lies beyond: a count of the window's other orders and whether the new
    order would repeat one of them."""
    now = now or timezone.now()
    panel = IntakeCustomer(phone=phone, window_days=repeat_window_days(on_date=timezone.localdate(now)))
    record = customer_get(phone=phone)
    if record is None:
        return panel
    panel.known = True
    panel.customer = record if customer_visible_to(user=user, customer=record) else None
    panel.history = list(customer_history_for_user(user=user, phone=phone, limit=history_limit))
    if not user.is_superuser:
        panel.hidden_recent = (WorkOrder.objects.filter(customer=record, received_at__gte=now - timedelta(
            days=panel.window_days), received_at__lte=now).exclude(pk__in=orders_visible_to(user).filter(
                customer=record).values("pk")).count())
    if category is not None:
        repeat = repeat_candidate(customer=record, category=category, received_at=now)
        if repeat is not None:
            if user.is_superuser or orders_visible_to(user).filter(pk=repeat.pk).exists():
                panel.repeat = repeat
            else:
                panel.repeat_hidden = True
    return panel


def repeat_window_days(*, on_date=None) -> int:
    return IntakePolicy.in_force(on=on_date).repeat_window_days


def repeat_candidate(*, customer: Customer, category: Category, received_at: datetime) -> WorkOrder | None:
    """The latest earlier order of the same customer in the same category within the repeat window."""
    if customer.is_placeholder or getattr(customer, "new_at_intake", False):
        return None  # unknown customers of imported history are nobody's repeat; a customer new today neither
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
    decides; levels 4–5 refine cross-department cases). Read from the memo of the tree (category_tree)."""
    return category_tree().responsible.get(category.pk)
