"""Intake: a new order is checked, written with its customer, notes and attachments, numbered, and handed to the
workflow — or closed on the spot, or brought over closed from another system. Each function takes the acting user,
checks permission, validates everything before the first write, and commits its changes and its audit records
together. What other apps do about a new or closed order they do through workflow.hooks."""

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.authority import authority_check
from complaints.files import attachment_validate
from complaints.models import (
    Brand,
    Category,
    Channel,
    Customer,
    Kind,
    OrderSource,
    OrderStatus,
    Severity,
    Tier,
    WorkOrder,
)
from complaints.numbering import order_number_day, order_number_next, order_numbers_take
from complaints.phone import normalise_contact, normalise_mobile
from complaints.selectors import category_is_leaf, orders_visible_to, repeat_candidate, repeat_window_days
from complaints.services import (
    customer_change_record,
    customer_for_intake,
    customer_update_errors,
    customers_upsert_bulk,
    placeholder_customer_get,
    rows_update,
)
from core.flowlock import starting_flows
from core.logs import bind as bind_log_context
from core.permissions import may_intake
from org.models import Region
from workflow import hooks, sla
from workflow.audit import event_build, events_record
from workflow.flows import ComplaintFlow
from workflow.models import OrderEvent
from workflow.notes import attachment_insert, note_insert
from workflow.services import order_arrival_announce

log = logging.getLogger("complaints")


class IdempotencyConflict(Exception):
    """The idempotency key was used before for a different request."""

    def __init__(self, order: WorkOrder):
        self.order = order
        super().__init__(
            _("This Idempotency-Key was already used for order %(number)s with different content.")
            % {"number": order.number}
        )


@dataclass
class OnSpotAnswer:
    answer: str
    compensation: Decimal | None = None


@dataclass
class HistoricalClose:
    """A closed order brought over from another system: its answer and when it was closed there."""

    answer: str
    closed_at: datetime


@dataclass
class OrderCreateResult:
    order: WorkOrder
    created: bool
    warnings: list[str] = field(default_factory=list)


def request_fingerprint(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def received_at_problem(received_at: datetime, *, live: bool = True) -> str | None:
    """Why an order's received time is refused, or None. A live order (browser, API) was received at most
    API_RECEIVED_AT_MAX_AGE_HOURS ago: older history comes only through the historical import, which marks what it
    brings. Nothing is received in the future beyond a few minutes of clock skew."""
    now = timezone.now()
    skew = settings.RECEIVED_AT_CLOCK_SKEW_MINUTES
    if received_at > now + timedelta(minutes=skew):
        return _("The received time lies in the future (at most %(minutes)s minutes ahead are allowed for clock "
                 "skew).") % {"minutes": skew}
    hours = settings.API_RECEIVED_AT_MAX_AGE_HOURS
    if live and received_at < now - timedelta(hours=hours):
        return _("The received time lies more than %(hours)s hours in the past: older orders come only through the "
                 "historical import.") % {"hours": hours}
    return None


def _validate_order_input(*, kind, channel, category, severity, description, attachments, received_at,
                          leaf_required: bool = True, live: bool = True):
    errors: dict[str, list[str]] = {}
    if kind not in Kind.values:
        errors["kind"] = [_("Unknown kind “%(value)s”.") % {"value": kind}]
    if severity not in Severity.values:
        errors["severity"] = [_("Unknown severity “%(value)s”.") % {"value": severity}]
    if channel is None or not channel.is_active:
        errors["channel"] = [_("Unknown or inactive channel.")]
    if category is None or not category.is_active:
        errors["category"] = [_("Unknown or inactive category.")]
    elif leaf_required and not category_is_leaf(category):
        errors["category"] = [_("Choose a leaf category, not the group “%(name)s”.") % {"name": category.label}]
    if not (description or "").strip():
        errors["description"] = [_("Describe the complaint.")]
    problem = received_at_problem(received_at, live=live) if received_at is not None else None
    if problem:
        errors["received_at"] = [problem]
    attachment_errors = []
    content_types = []
    for upload in attachments:
        try:
            content_types.append(attachment_validate(upload))
        except ValidationError as exc:
            attachment_errors.extend(exc.messages)
    if attachment_errors:
        errors["attachments"] = attachment_errors
    if errors:
        raise ValidationError(errors)
    return content_types


def _incident_region(region: Region, incident) -> Region:
    """An agent who joins a complaint to an incident says the customer is in its area: an incident of a county
    below the agent's city places the order there."""
    if incident is None or region.path.startswith(incident.region.path):
        return region
    if incident.region.path.startswith(region.path):
        return incident.region
    raise ValidationError({"incident": [_("The incident (%(area)s) does not cover the customer's region "
                                          "(%(region)s).") % {"area": incident.region.name, "region": region.name}]})


def _order_region(*, customer: Customer, actor, typed: Region | None = None) -> Region:
    """Fixed at receipt: the region typed for this order, else the customer's home region, else the agent's."""
    if typed is not None:
        return typed
    if customer.home_region_id:
        return customer.home_region
    if actor.region is not None:
        return actor.region
    region = Region.objects.filter(level=Region.Level.PROVINCE).order_by("id").first()
    if region is None:
        raise ValidationError(_("No region is configured; an administrator must create the province first."))
    return region


def order_create(
    *,
    actor,
    kind: str,
    channel: Channel | None,
    category: Category | None,
    severity: str,
    description: str,
    customer_phone: str,
    contact_phone: str = "",
    customer_name: str = "",
    customer_tier: str | None = None,
    customer_brand: str | None = None,
    customer_region: Region | None = None,
    received_at: datetime | None = None,
    note: str = "",
    attachments=(),
    on_spot: OnSpotAnswer | None = None,
    historical_close: HistoricalClose | None = None,
    idempotency_key: str | None = None,
    fingerprint: str = "",
    source: str = OrderSource.BROWSER,
    external_ref: str = "",
    external_source: str = "",
    placeholder_customer: bool = False,
    area: str = "",
    bulletin=None,
    incident=None,
    article_version=None,
    update_customer: bool = False,
) -> OrderCreateResult:
    """Log a new order. What was typed about a known customer goes on the order (its tier, brand and region at
    intake) and is kept as a proposal; the customer's record changes only with `update_customer` (the agent's
    explicit confirmation), within customer_update_check's limits, and the change is logged (CustomerChange)."""
    if not may_intake(actor):
        raise PermissionDenied(_("Only frontline agents, dispatchers and channel systems may log orders."))

    if (placeholder_customer or external_source) and source != OrderSource.IMPORT:
        raise PermissionDenied(_("Only the historical import may file an order without a phone number or under a "
                                 "source system."))
    try:
        phone, contact, content_types = _order_create_checked(
            actor=actor, kind=kind, channel=channel, category=category, severity=severity, description=description,
            customer_phone=customer_phone, contact_phone=contact_phone, customer_name=customer_name,
            customer_tier=customer_tier, customer_brand=customer_brand, customer_region=customer_region,
            received_at=received_at, attachments=attachments, on_spot=on_spot, historical_close=historical_close,
            source=source, incident=incident, update_customer=update_customer,
            placeholder_customer=placeholder_customer)
    except (ValidationError, PermissionDenied):
        # A refused retry is answered with the order its first attempt made, whatever depends on the moment (a
        # received time that has since aged past the limit must not turn a retry into a refusal). A retry that
        # passes the checks meets its first attempt at the insert (the key is unique per caller; see below): no
        # lookup on the way of every create.
        replayed = order_replay(actor=actor, idempotency_key=idempotency_key, fingerprint=fingerprint)
        if replayed is not None:
            return replayed
        raise

    received_at = received_at or timezone.now()
    closed_month = _closed_month_of_arrival(
        received_at=received_at, closed_at=historical_close.closed_at if historical_close is not None else None)
    try:
        with transaction.atomic():
            order = _order_insert(
                actor=actor, kind=kind, channel=channel, category=category, severity=severity,
                description=description.strip(), phone=phone, contact=contact or phone or "", customer_name=customer_name,
                customer_tier=customer_tier, customer_brand=customer_brand, customer_region=customer_region,
                received_at=received_at, idempotency_key=idempotency_key, fingerprint=fingerprint, source=source,
                external_ref=external_ref, external_source=external_source, on_spot=on_spot,
                historical_close=historical_close,
                area=(area or "").strip()[:64], bulletin=bulletin, incident=incident, closed_month=closed_month,
                update_customer=update_customer,
            )
            if note.strip():
                note_insert(order=order, actor=actor, body=note.strip(), internal=True)
            for upload, content_type in zip(attachments, content_types, strict=True):
                attachment_insert(order=order, actor=actor, upload=upload, content_type=content_type)
            hooks.order_received.announce(order=order, actor=actor, article_version=article_version)
            if order.status != OrderStatus.CLOSED:
                # A complaint about an open incident's fault joins it at once: the flow takes it straight to the
                # incident's department, where it waits (its clock paused) for the incident's answer.
                order.incident = incident or _incident_for(order)
                _order_flow_start(order=order)
            _order_number_assign(order=order, kind=kind, received_at=received_at, source=source)
    except IntegrityError:
        # Two retries with the same key raced: the other one committed first.
        if idempotency_key:
            existing = WorkOrder.objects.filter(first_responder=actor, idempotency_key=idempotency_key).first()
            if existing is not None:
                return _idempotent_replay(existing, fingerprint)
        raise
    bind_log_context(order=order.number)
    log.info("order %s received (%s, %s) by %s", order.number, order.kind, order.channel.code, actor.get_username())
    if closed_month is not None:
        log.warning("order %s arrived for the closed month %s (its archived scores and report do not count it)",
                    order.number, f"{closed_month:%Y-%m}")
    warnings = []
    if order.incident_id:
        warnings.append(_("Attached to the incident “%(title)s”: it is answered when the fault is repaired.")
                        % {"title": order.incident.title})
    if order.repeat_of_id:
        visible = orders_visible_to(actor).filter(pk=order.repeat_of_id).exists()
        order.repeat_visible_to = (actor.pk, visible)  # the answer's serializer asks the same
        if visible:
            warnings.append(
                _("Repeat complaint: linked to %(number)s of %(date)s.")
                % {"number": order.repeat_of.number,
                   "date": f"{timezone.localtime(order.repeat_of.received_at):%Y-%m-%d}"}
            )
        else:  # another city's order: the agent learns that it exists, not which it is
            warnings.append(_("Repeat complaint: linked to an earlier order of this customer in another region."))
    return OrderCreateResult(order=order, created=True, warnings=warnings)


def _order_create_checked(*, actor, kind, channel, category, severity, description, customer_phone, contact_phone,
                          customer_name, customer_tier, customer_brand, customer_region, received_at, attachments,
                          on_spot, historical_close, source, incident, update_customer, placeholder_customer):
    """Everything order_create checks before its first write, field errors together (ValidationError), then the
    authority to close on the spot (PermissionDenied). Returns the phone and contact normalised and the
    attachments' content types."""
    errors = {}
    phone = None
    if not placeholder_customer:
        try:
            phone = normalise_mobile(customer_phone)
        except ValidationError as exc:
            errors["customer_phone"] = exc.messages
    try:
        contact = normalise_contact(contact_phone) if contact_phone else None
    except ValidationError as exc:
        errors["contact_phone"] = exc.messages
    if customer_tier and customer_tier not in Tier.values:
        errors["customer_tier"] = [_("Unknown tier “%(value)s”.") % {"value": customer_tier}]
    if customer_brand and customer_brand not in Brand.values:
        errors["customer_brand"] = [_("Unknown brand “%(value)s”.") % {"value": customer_brand}]
    try:
        content_types = _validate_order_input(
            kind=kind, channel=channel, category=category, severity=severity, description=description,
            attachments=attachments, received_at=received_at,
            # History keeps the category it had, whatever its level; new orders are filed under a leaf.
            leaf_required=source != OrderSource.IMPORT, live=source != OrderSource.IMPORT,
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if on_spot is not None:
        if not (on_spot.answer or "").strip():
            errors["answer"] = [_("An order closed on the spot needs the answer given to the customer.")]
        if on_spot.compensation is not None and on_spot.compensation < 0:
            errors["compensation"] = [_("Compensation cannot be negative.")]
    if historical_close is not None:
        if source != OrderSource.IMPORT:
            raise PermissionDenied(_("Only the historical import may bring in orders that are already closed."))
        if on_spot is not None:
            errors["closed_at"] = [_("An order is either resolved on the spot or imported as closed, not both.")]
        elif received_at is not None and historical_close.closed_at < received_at:
            errors["closed_at"] = [_("The closing time lies before the received time.")]
        elif historical_close.closed_at > timezone.now() + timedelta(minutes=5):
            errors["closed_at"] = [_("The closing time lies in the future.")]
    if incident is not None:
        if on_spot is not None or historical_close is not None:
            errors["incident"] = [_("An order closed at intake does not join an incident.")]
        elif kind != Kind.COMPLAINT:
            errors["incident"] = [_("Only complaints join a batch-complaint incident.")]
        elif not incident.is_open:
            errors["incident"] = [_("The incident is resolved; nothing joins it any more.")]
        elif category is not None and not category.path.startswith(incident.category.path):
            errors["incident"] = [_("The incident is about another category (%(category)s).")
                                  % {"category": incident.category.name}]
    if update_customer and phone is not None and "customer_phone" not in errors:
        errors.update(customer_update_errors(actor=actor, phone=phone, name=customer_name, tier=customer_tier,
                                              brand=customer_brand, home_region=customer_region))
    if errors:
        raise ValidationError(errors)
    if on_spot is not None:
        authority_check(user=actor, kind=kind, severity=severity, compensation=on_spot.compensation)
    return phone, contact, content_types


@dataclass
class HistoricalOrder:
    """One closed or still open order of another system, checked and resolved (historical import)."""

    external_ref: str
    external_source: str
    kind: str
    severity: str
    channel: Channel
    category: Category
    customer_tier: str | None
    customer_phone: str | None  # None: the placeholder customer
    customer_name: str
    contact_phone: str
    description: str
    received_at: datetime
    closed_at: datetime | None
    answer: str


def orders_historical_create(*, actor, rows: list[HistoricalOrder], memo: dict | None = None) -> list[WorkOrder]:
    """Closed orders of another system in bulk (a few statements per batch instead of a dozen per order), ending in
    the state order_create gives a closed import: the customer upserted, the repeat link, the number of the
    receiving day, the audit trail (whose trigger queues each order for the KPI rollups) and the determination.
    Rows are checked beforehand (order_import._row_parse); the caller holds the transaction. `memo` keeps what a run
    looks up once (responsibility rules by category) from one batch to the next."""
    if not may_intake(actor):
        raise PermissionDenied(_("Only frontline agents, dispatchers and channel systems may log orders."))
    if any(row.closed_at is None for row in rows):
        raise ValidationError(_("Only closed orders are written in bulk; open ones start their workflow."))
    if not rows:
        return []
    now = timezone.now()
    customers = customers_upsert_bulk(rows)
    placeholder = placeholder_customer_get() if any(r.customer_phone is None for r in rows) else None
    numbers = order_numbers_take(kind_days=[(row.kind, row.received_at) for row in rows])
    closed = _months_closed({timezone.localdate(t).replace(day=1) for row in rows for t in (row.received_at,
                                                                                           row.closed_at)})

    # Repeat links as order_create makes them one by one: the latest earlier order of the customer and category
    # within the window, among the database's and this batch's earlier rows.
    windows = {d: timedelta(days=repeat_window_days(on_date=d))
               for d in {timezone.localdate(row.received_at) for row in rows}}
    known = [c.pk for c in customers.values()]
    earlier: dict[tuple[int, int], list[tuple]] = {}
    if known:
        since = min(row.received_at for row in rows) - max(windows.values())
        until = max(row.received_at for row in rows)
        for pk, number, customer_id, category_id, received_at in WorkOrder.objects.filter(
                customer_id__in=known, received_at__gte=since, received_at__lte=until).values_list(
                "pk", "number", "customer_id", "category_id", "received_at"):
            earlier.setdefault((customer_id, category_id), []).append((received_at, pk, number, None))

    region_of_actor = _order_region(customer=Customer(), actor=actor)
    orders, repeats = [], []
    for position, (row, number) in enumerate(zip(rows, numbers, strict=True)):
        if row.customer_phone is None:
            customer = placeholder
        else:
            customer = customers[row.customer_phone]
            customer.tier = row.customer_tier or customer.tier
        order = WorkOrder(
            number=number, kind=row.kind, status=OrderStatus.CLOSED, channel=row.channel, category=row.category,
            severity=row.severity, customer=customer, customer_tier=customer.tier, customer_brand=customer.brand,
            contact_phone=row.contact_phone or row.customer_phone or "", description=row.description,
            region_id=customer.home_region_id or region_of_actor.pk, first_responder=actor,
            first_responder_name=str(actor)[:64], first_responder_department=actor.department,
            source=OrderSource.IMPORT, received_at=row.received_at, created_at=now, answer=row.answer,
            closed_at=row.closed_at, external_ref=row.external_ref, external_source=row.external_source,
            closed_month_arrival=_closed_month_of_arrival(received_at=row.received_at, closed_at=row.closed_at,
                                                          closed=closed),
        )
        repeat = None
        if not customer.is_placeholder:
            key = (customer.pk, row.category.pk)
            window = windows[timezone.localdate(row.received_at)]
            candidates = [c for c in earlier.get(key, ())
                          if row.received_at - window <= c[0] <= row.received_at]
            if candidates:
                # Latest first; at the same moment the one inserted last (this batch's rows after the database's).
                repeat = max(candidates, key=lambda c: (c[0], c[1] is None, c[3] or c[1]))
            earlier.setdefault(key, []).append((row.received_at, None, number, position + 1))
        if repeat is not None and repeat[1] is not None:
            order.repeat_of_id = repeat[1]
        orders.append(order)
        repeats.append(repeat)
    WorkOrder.objects.bulk_create(orders)
    later_links = []
    for order, repeat in zip(orders, repeats, strict=True):
        if repeat is not None and repeat[1] is None:  # an earlier row of this batch
            order.repeat_of_id = orders[repeat[3] - 1].pk
            later_links.append(order)
    if later_links:
        rows_update(WorkOrder, ["repeat_of"], [(o.pk, o.repeat_of_id) for o in later_links])

    actor_name = str(actor)[:64]
    events = []
    for order, repeat in zip(orders, repeats, strict=True):
        events.append(OrderEvent(
            order=order, action=OrderEvent.Action.IMPORTED, actor=actor, actor_name=actor_name, from_status="",
            to_status=OrderStatus.CLOSED, comment=order.answer, created_at=now,
            data={"channel": order.channel.code, "category": order.category.code, "source": OrderSource.IMPORT,
                  "closed_at": order.closed_at.isoformat(),
                  **({"closed_month": f"{order.closed_month_arrival:%Y-%m}"} if order.closed_month_arrival else {})}))
        if repeat is not None:
            events.append(OrderEvent(order=order, action=OrderEvent.Action.LINKED_REPEAT, actor=actor,
                                     actor_name=actor_name, created_at=now, data={"repeat_of": repeat[2]}))
    OrderEvent.objects.bulk_create(events)
    hooks.orders_imported_closed.announce(orders=orders, memo=memo)
    log.info("%s historical orders imported in bulk by %s", len(orders), actor.get_username())
    return orders


PROVISIONAL_PREFIX = "~"


def _order_number_assign(*, order: WorkOrder, kind: str, received_at, source: str) -> None:
    """The order's number, taken as the transaction's last step. The day's counter row stays locked from here to
    the commit (that keeps the numbers gapless and in commit order); taken at the insert, it was locked through
    the whole workflow start, and every create in the province queued on it (the load test's storm: ~15 creates/s
    at most, whatever the hardware)."""
    order.number = order_number_next(kind=kind, day=order_number_day(source=source, received_at=received_at))
    sla.order_writes_flush(order, "number")  # with what the workflow's start changed


def _months_closed(months) -> set:
    """Of these months (their first days), the closed ones, as the apps that close months say (hooks.months_closed)."""
    return set().union(*hooks.months_closed.gather(months=months))


def _closed_month_of_arrival(*, received_at: datetime, closed_at: datetime | None = None, closed: set | None = None):
    """The closed month an arriving order lands in (its received month, or the month it closed in when it arrives
    closed), or None. `closed`: _months_closed already looked up for a batch."""
    months = {timezone.localdate(received_at).replace(day=1)}
    if closed_at is not None:
        months.add(timezone.localdate(closed_at).replace(day=1))
    hit = months & (closed if closed is not None else _months_closed(months))
    return min(hit) if hit else None


def _incident_for(order: WorkOrder):
    """The open incident the new order joins, if an app knows one (hooks.incident_for_new_order)."""
    return next((incident for incident in hooks.incident_for_new_order.gather(order=order) if incident is not None),
                None)


def order_replay(*, actor, idempotency_key: str | None, fingerprint: str) -> OrderCreateResult | None:
    """The answer to a retried create: the order the same caller made with the same Idempotency-Key (a conflict when
    the content differs), or None when the key is new."""
    if not idempotency_key:
        return None
    existing = WorkOrder.objects.filter(first_responder=actor, idempotency_key=idempotency_key).first()
    return _idempotent_replay(existing, fingerprint) if existing is not None else None


def _idempotent_replay(order: WorkOrder, fingerprint: str) -> OrderCreateResult:
    if fingerprint and order.idempotency_fingerprint and fingerprint != order.idempotency_fingerprint:
        raise IdempotencyConflict(order)
    return OrderCreateResult(order=order, created=False)


def _order_insert(
    *, actor, kind, channel, category, severity, description, phone, contact, customer_name, customer_tier,
    customer_brand, customer_region, received_at, idempotency_key, fingerprint, source, external_ref, on_spot,
    historical_close=None, area="", bulletin=None, incident=None, external_source="", closed_month=None,
    update_customer=False,
) -> WorkOrder:
    changes = {}
    if phone is None:
        customer = placeholder_customer_get()
    else:
        customer, changes = customer_for_intake(
            actor=actor, phone=phone, name=customer_name.strip(), tier=customer_tier, brand=customer_brand,
            home_region=customer_region, update=update_customer,
        )
    repeat_of = repeat_candidate(customer=customer, category=category, received_at=received_at)
    now = timezone.now()
    order = WorkOrder(
        kind=kind,
        channel=channel,
        category=category,
        severity=severity,
        customer=customer,
        customer_tier=customer_tier or customer.tier,
        customer_brand=customer_brand or customer.brand,
        contact_phone=contact,
        description=description,
        region=_incident_region(_order_region(customer=customer, actor=actor, typed=customer_region), incident),
        first_responder=actor,
        first_responder_name=str(actor)[:64],
        first_responder_department=actor.department,
        source=source,
        received_at=received_at,
        created_at=now,
        repeat_of=repeat_of,
        idempotency_key=idempotency_key or None,
        idempotency_fingerprint=fingerprint,
        external_ref=external_ref,
        external_source=external_source,
        area=area or (incident.area if incident is not None else ""),
        bulletin=bulletin if on_spot is not None else None,
        closed_month_arrival=closed_month,
    )
    if on_spot is not None:
        order.status = OrderStatus.CLOSED
        order.resolved_on_spot = True
        order.answer = on_spot.answer.strip()
        order.compensation_amount = on_spot.compensation
        order.closed_at = now
        order.closed_by = actor
    elif historical_close is not None:
        order.status = OrderStatus.CLOSED
        order.answer = historical_close.answer.strip()
        order.closed_at = historical_close.closed_at
    # A provisional number until the transaction's last statement (_order_number_assign): nobody outside this
    # transaction ever sees it.
    order.number = PROVISIONAL_PREFIX + secrets.token_hex(9)
    order.save(force_insert=True)
    if getattr(customer, "new_at_intake", False):
        customer.first_order_region_path = order.region.path
    if changes:
        customer_change_record(actor=actor, customer=customer, order=order, changes=changes, applied=update_customer)

    action = OrderEvent.Action.IMPORTED if source == OrderSource.IMPORT else OrderEvent.Action.RECEIVED
    events = [
        dict(action=action, to_status=OrderStatus.NEW,
             data={"channel": channel.code, "category": category.code, "source": source}),
    ]
    if historical_close is not None:
        events[0].update(to_status=OrderStatus.CLOSED, comment=order.answer,
                         data={**events[0]["data"], "closed_at": order.closed_at.isoformat()})
    if closed_month is not None:
        events[0]["data"]["closed_month"] = f"{closed_month:%Y-%m}"
    if repeat_of is not None:
        events.append(dict(action=OrderEvent.Action.LINKED_REPEAT, data={"repeat_of": repeat_of.number}))
    if on_spot is not None:
        events.append(
            dict(action=OrderEvent.Action.RESOLVED_ON_SPOT, from_status=OrderStatus.NEW, to_status=OrderStatus.CLOSED,
                 comment=order.answer,
                 data={"compensation": str(on_spot.compensation) if on_spot.compensation is not None else None})
        )
    built = [event_build(order=order, actor=actor, at=now, **event) for event in events]
    if order.status != OrderStatus.CLOSED:
        order.__dict__[PENDING_EVENTS] = built  # written with the workflow start's own (_order_flow_start)
        return order
    events_record(built)
    hooks.order_closed.announce(order=order)  # resolved on the spot, or imported as closed
    return order


# The audit records of a new order's intake, written in one INSERT with those of its workflow start.
PENDING_EVENTS = "pending_events"


def _order_flow_start(*, order: WorkOrder) -> None:
    """Hand the order to the workflow: it dispatches automatically when the rules allow (or to its incident's
    department, attached), else to a dispatcher."""
    sla.order_writes_defer(order)  # the order row is written once, with its number (_order_number_assign)
    with starting_flows():  # the new process row is not locked: no one else can see it before the commit
        ComplaintFlow.start.run(order=order)
    events = order.__dict__.pop(PENDING_EVENTS, [])
    if order.status == OrderStatus.IN_INCIDENT:
        events.append(event_build(
            order=order, actor=None, action=OrderEvent.Action.ATTACHED_TO_INCIDENT, from_status=OrderStatus.NEW,
            to_status=order.status, data={"incident": order.incident_id, "title": order.incident.title,
                                          "department": order.current_department.name}))
    elif order.status == OrderStatus.QUEUED or order.status == OrderStatus.IN_PROGRESS:
        events.append(event_build(
            order=order, actor=None, action=OrderEvent.Action.AUTO_DISPATCHED, from_status=OrderStatus.NEW,
            to_status=order.status, data={"department": order.current_department.name, "queue": order.queue_level}))
    events_record(events)
    if order.status == OrderStatus.QUEUED:
        order_arrival_announce(order=order, actor=None)

