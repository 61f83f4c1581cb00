"""{% phone number %}: the number as the reader may see it; {% phone number masked=True %} masks for everyone;
{{ text|phones_for:user }}: free text with the phone numbers in it as the reader may see them."""

from django import template

from complaints.phone import mask, phone_for, text_for
from core.permissions import may_see_full_phone, may_unmask_phone

register = template.Library()


@register.simple_tag(takes_context=True)
def phone(context, number, masked=False):
    if not number:
        return ""
    if masked:
        return mask(number)
    return phone_for(context.get("user"), number)


@register.inclusion_tag("complaints/_phone_reveal.html", takes_context=True)
def phone_reveal(context, order, page):
    """The “show full number” button, for a reader who sees numbers masked and may reveal them (logged)."""
    user = context.get("user")
    return {"order": order, "page": page, "csrf_token": context.get("csrf_token"),
            "show": may_unmask_phone(user) and not may_see_full_phone(user)}


@register.filter
def phones_for(text, user):
    return text_for(user, text)
