"""Service errors onto forms, and the POST half of a page with a form: validate, call one service, say so."""

from django.contrib import messages
from django.core.exceptions import ValidationError


def apply_service_errors(form, exc: ValidationError):
    """A service's ValidationError onto the form: on the field it names when the form has one, else above the form."""
    if hasattr(exc, "error_dict"):
        for field_name, errors in exc.message_dict.items():
            form.add_error(field_name if field_name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def form_submit(request, form, call, *, success: str, done, again):
    """Validate `form` and call the service with it (`call(form)`): on success say `success` and return
    `done(result)` (a redirect); otherwise `again(form)`, the page again with the form and its errors (the service's
    ValidationErrors on the fields they name). A PermissionDenied goes up: a 403 page that says who may."""
    if form.is_valid():
        try:
            result = call(form)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, success)
            return done(result)
    return again(form)
