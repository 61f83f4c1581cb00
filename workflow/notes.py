"""Notes and attachments on an order, each written with its line in the order's audit trail."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from complaints.files import attachment_filename, attachment_validate
from complaints.models import Attachment, Note, WorkOrder
from complaints.selectors import orders_visible_to
from org import roles
from workflow.audit import event_record
from workflow.models import OrderEvent


def note_insert(*, order: WorkOrder, actor, body: str, internal: bool) -> Note:
    note = Note.objects.create(order=order, author=actor, author_name=str(actor)[:64], body=body, is_internal=internal)
    event_record(order=order, actor=actor, action=OrderEvent.Action.NOTE_ADDED, data={"internal": internal})
    return note


def order_note_from_customer(*, order: WorkOrder, body: str, via: str) -> Note:
    """What the customer wrote to us (an SMS reply), kept on the order for the agent: an internal note whose
    author is the customer, by `via`."""
    with translation.override(settings.LANGUAGE_CODE):
        author = _("Customer (%(via)s)") % {"via": via}
    note = Note.objects.create(order=order, author=None, author_name=author[:64], body=body, is_internal=True)
    event_record(order=order, actor=None, action=OrderEvent.Action.NOTE_ADDED,
                 data={"internal": True, "from_customer": via})
    return note


def attachment_insert(*, order: WorkOrder, actor, upload, content_type: str) -> Attachment:
    # Stored, listed and served under the extension of its real type: a GIF called x.html becomes x.gif.
    name = attachment_filename(upload.name, content_type)
    attachment = Attachment(
        order=order,
        original_name=name,
        content_type=content_type,
        size=upload.size,
        uploaded_by=actor,
    )
    attachment.file.save(name, upload, save=False)
    attachment.save()
    data = {"name": name, "size": attachment.size}
    if upload.name and upload.name != name:
        data["uploaded_as"] = upload.name[:255]
    event_record(order=order, actor=actor, action=OrderEvent.Action.ATTACHMENT_ADDED, data=data)
    return attachment


def _order_lock_for_user(*, actor, order: WorkOrder) -> WorkOrder:
    locked = orders_visible_to(actor).select_for_update(no_key=True, of=("self",)).filter(pk=order.pk).first()
    if locked is None:
        raise PermissionDenied(_("You may not act on order %(number)s.") % {"number": order.number})
    return locked


def order_note_allowed(*, actor, order: WorkOrder) -> None:
    if not order.is_open and not actor.has_role(roles.QUALITY_MANAGER):
        raise PermissionDenied(_("Order %(number)s is closed: only the quality team may add notes.")
                               % {"number": order.number})


def order_note_add(*, actor, order: WorkOrder, body: str, internal: bool = True) -> Note:
    """A note on the order: internal, or visible to the customer on the progress page. A closed order is
    read-only except for notes by the quality team."""
    if not (body or "").strip():
        raise ValidationError({"body": [_("The note is empty.")]})
    with transaction.atomic():
        locked = _order_lock_for_user(actor=actor, order=order)
        order_note_allowed(actor=actor, order=locked)
        return note_insert(order=locked, actor=actor, body=body.strip(), internal=internal)


def order_attachment_add(*, actor, order: WorkOrder, upload) -> Attachment:
    try:
        content_type = attachment_validate(upload)
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages}) from None
    with transaction.atomic():
        locked = _order_lock_for_user(actor=actor, order=order)
        if not locked.is_open:
            raise PermissionDenied(_("Order %(number)s is closed: no more attachments.") % {"number": order.number})
        return attachment_insert(order=locked, actor=actor, upload=upload, content_type=content_type)


# The pages a masked number may be revealed from (the disclosure says which).
