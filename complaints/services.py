"""Writes on customers: their records as intake finds or changes them (checked against what the agent may see),
and the logged disclosure of their phone numbers. Each function takes the acting user and checks permission."""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.models import (
    PLACEHOLDER_PHONE,
    Brand,
    Customer,
    CustomerChange,
    PhoneDisclosure,
    Tier,
    WorkOrder,
)
from complaints.selectors import customer_get, customer_visible_to, orders_visible_to, regions_visible_to
from core.permissions import may_see_full_phone, may_unmask_phone
from org.models import Region

log = logging.getLogger("complaints")


def customer_typed_changes(customer: Customer, *, name: str, tier: str | None, brand: str | None,
                            home_region: Region | None) -> dict:
    """What the intake typed that differs from the record, {field: (old, new)}; an empty value changes nothing."""
    typed = {"name": (name or "").strip(), "tier": tier, "brand": brand, "home_region": home_region}
    return {field_name: (getattr(customer, field_name), value) for field_name, value in typed.items()
            if value and getattr(customer, field_name) != value}


def customer_update_check(*, actor, customer: Customer, changes: dict) -> None:
    """An intake may change the record of a customer the agent may see (selectors.customer_visible_to), and move
    the home region only from there into the agent's own region (their department's region or below): the city
    that keeps a customer's record passes them on, another city cannot take them. Raises a field error otherwise."""
    if not changes or actor.is_superuser:
        return
    # Any change, a move included, needs a customer the agent may see: another city's agent cannot take a
    # customer over by moving them into their own city.
    if not customer_visible_to(user=actor, customer=customer):
        raise ValidationError({"update_customer": [
            _("This customer's record is kept by another region: you may not change it. Log the order without "
              "updating the record.")]})
    if "home_region" in changes:
        new_region = changes["home_region"][1]
        if not regions_visible_to(actor).filter(pk=new_region.pk).exists():
            raise ValidationError({"customer_region": [
                _("You may move a customer's home region only into your own region (%(region)s).")
                % {"region": actor.region.name if actor.region is not None else "—"}]})


def _change_values(changes: dict) -> dict:
    def plain(value):
        return value.code if isinstance(value, Region) else value

    return {name: {"old": plain(old), "new": plain(new)} for name, (old, new) in changes.items()}


def customer_for_intake(*, actor, phone: str, name: str, tier: str | None, brand: str | None,
                         home_region: Region | None, update: bool) -> tuple[Customer, dict]:
    """The customer of a new order. A new one is stored as typed (there is nothing to overwrite); a known one
    changes only when the agent confirmed the update, else what was typed is a proposal. Returns the customer and
    the differences between what was typed and the record ({field: (old, new)}), applied or not."""
    customer, created = _customer_stored(Customer(phone=phone, name=name, tier=tier or Tier.ORDINARY,
                                                  brand=brand or Brand.OTHER, home_region=home_region))
    if created:
        customer.new_at_intake = True  # nobody's repeat, and its first order is the one being logged
        return customer, {}
    if update:
        customer = Customer.objects.select_for_update(no_key=True, of=("self",)).select_related("home_region").get(
            pk=customer.pk)
    changes = customer_typed_changes(customer, name=name, tier=tier, brand=brand, home_region=home_region)
    if update and changes:
        customer_update_check(actor=actor, customer=customer, changes=changes)
        for field_name, (_old, new) in changes.items():
            setattr(customer, field_name, new)
        customer.save(update_fields=[*changes, "updated_at"])
    return customer, changes


def _customer_stored(typed: Customer) -> tuple[Customer, bool]:
    """The stored customer of the typed one's number, and whether it was stored just now (from what was typed).
    PostgreSQL: one statement (INSERT … ON CONFLICT … RETURNING; for a known number the no-op update only locks
    its row until the order is in); elsewhere get_or_create's two."""
    if connection.vendor != "postgresql":
        return Customer.objects.get_or_create(phone=typed.phone, defaults={
            "name": typed.name, "tier": typed.tier, "brand": typed.brand, "home_region": typed.home_region})
    fields = Customer._meta.concrete_fields
    written = [f for f in fields if not f.primary_key]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(Customer._meta.db_table)} ({', '.join(quote(f.column) for f in written)}) "
            f"VALUES ({', '.join(['%s'] * len(written))}) ON CONFLICT (phone) DO UPDATE SET phone = EXCLUDED.phone "
            f"RETURNING {', '.join(quote(f.column) for f in fields)}, (xmax = 0)",
            [f.get_db_prep_save(f.pre_save(typed, True), connection) for f in written])
        row = cursor.fetchone()
    converted = []
    for f, value in zip(fields, row[:-1], strict=True):
        for converter in f.get_db_converters(connection):
            value = converter(value, f, connection)
        converted.append(value)
    return Customer.from_db(connection.alias, [f.attname for f in fields], converted), row[-1]


def customer_change_record(*, actor, customer: Customer, order: WorkOrder, changes: dict, applied: bool) -> None:
    CustomerChange.objects.create(customer=customer, order=order, actor=actor, actor_name=str(actor)[:64],
                                  applied=applied, changes=_change_values(changes))
    if applied:
        log.info("customer %s: record changed at intake by %s (%s)", customer.pk, actor.get_username(),
                 ", ".join(changes))


def placeholder_customer_get() -> Customer:
    """The customer that imported history without a phone number is filed under, marked as a placeholder."""
    customer, _created = Customer.objects.get_or_create(
        phone=PLACEHOLDER_PHONE, defaults={"is_placeholder": True, "name": _("Unknown (imported without a number)")})
    return customer


def customers_upsert_bulk(rows: list) -> dict[str, Customer]:
    """The customers of a batch of historical orders (workflow.intake.HistoricalOrder) by phone, created when new
    (the last row of a customer gives the name and tier). A known customer's record is never overwritten by history — it is older than the record, and a live intake
    changes it only when the agent confirms — except that a record without a name takes the history's."""
    wanted: dict = {}
    for row in rows:
        if row.customer_phone is not None:
            wanted[row.customer_phone] = row
    if not wanted:
        return {}
    customers = {c.phone: c for c in Customer.objects.filter(phone__in=list(wanted))}
    missing = [phone for phone in wanted if phone not in customers]
    if missing:
        Customer.objects.bulk_create([
            Customer(phone=phone, name=wanted[phone].customer_name.strip(),
                     tier=wanted[phone].customer_tier or Tier.ORDINARY, brand=Brand.OTHER)
            for phone in missing], ignore_conflicts=True)  # a customer created meanwhile by live intake
        customers.update({c.phone: c for c in Customer.objects.filter(phone__in=missing)})
    named = []
    for phone, row in wanted.items():
        customer = customers[phone]
        if phone not in missing and not customer.name.strip() and row.customer_name.strip():
            customer.name, customer.updated_at = row.customer_name.strip(), timezone.now()
            named.append(customer)
    if named:
        rows_update(Customer, ["name", "updated_at"], [(c.pk, c.name, c.updated_at) for c in named])
    return customers


def rows_update(model, columns: list[str], rows: list[tuple]) -> None:
    """UPDATE … FROM (VALUES …): many rows, each its own values, in one statement (bulk_update's CASE per column
    grows with the rows and costs more than the import's inserts)."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = [connection.ops.quote_name(model._meta.get_field(c).column) for c in columns]
    types = [model._meta.get_field(c).db_type(connection) for c in columns]
    placeholders = ", ".join("(" + ", ".join(["%s"] * (len(columns) + 1)) + ")" for _row in rows)
    assignments = ", ".join(f"{name} = v.c{i}::{kind}" for i, (name, kind) in enumerate(zip(names, types,
                                                                                          strict=True)))
    aliases = ", ".join(["id"] + [f"c{i}" for i in range(len(columns))])
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {assignments} FROM (VALUES {placeholders}) AS v({aliases}) "
                       f"WHERE {table}.id = v.id", [value for row in rows for value in row])


def customer_update_errors(*, actor, phone, name, tier, brand, home_region) -> dict:
    """customer_update_check before the first write, as field errors (the insert checks again under the lock)."""
    customer = customer_get(phone=phone)
    if customer is None:
        return {}
    changes = customer_typed_changes(customer, name=name, tier=tier, brand=brand, home_region=home_region)
    try:
        customer_update_check(actor=actor, customer=customer, changes=changes)
    except ValidationError as exc:
        return exc.message_dict
    return {}


DISCLOSURE_PAGES = ("order_detail", "follow_up")


def phone_disclose(*, actor, order: WorkOrder, page: str) -> WorkOrder:
    """Show the customer's and the contact's full numbers of a visible order to someone who may unmask them, and
    log it. A reader who sees full numbers anyway is not logged (their role needs the number every day)."""
    if page not in DISCLOSURE_PAGES:
        raise ValidationError({"page": [_("Unknown page.")]})
    if not may_see_full_phone(actor) and not may_unmask_phone(actor):
        raise PermissionDenied(_("Your role may not reveal customers' phone numbers."))
    visible = orders_visible_to(actor).select_related("customer").filter(pk=order.pk).first()
    if visible is None:
        raise PermissionDenied(_("You may not read order %(number)s.") % {"number": order.number})
    if not may_see_full_phone(actor):
        PhoneDisclosure.objects.create(user=actor, user_name=actor.get_username()[:150],
                                       customer_id=visible.customer_id, order=visible, page=page)
        log.info("phone of order %s revealed to %s on %s", visible.number, actor.get_username(), page)
    return visible
