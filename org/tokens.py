"""Channel systems' API tokens: issued with scopes, shown once, kept as a hash, revocable, with their last use.

A request sends `Authorization: Token <key>` (or `Bearer <key>`). Every API view names the scope each HTTP
method needs (`required_scopes = {"GET": ApiScope.ORDERS_READ, ...}`); TokenScope refuses a token without it and
refuses every token on a view that names none. Browser sessions are not scoped: their role decides.
"""

import datetime
import hashlib
import ipaddress
import logging
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions
from rest_framework.permissions import BasePermission

from core.logs import bind
from core.security import client_address
from org.auth import user_prepared, users_loaded
from org.models import ApiScope, ApiToken

log = logging.getLogger("org.tokens")

KEY_PREFIX = "ct_"
# The last-used time is written at most this often per token: every request writing one row would make the
# busiest channel system's requests queue behind each other on it.
LAST_USED_GRANULARITY = datetime.timedelta(seconds=60)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_errors(*, user, name: str, scopes: list[str], expires_at=None) -> dict:
    """What is wrong with a token about to be issued or changed, by field (empty when nothing is)."""
    errors = {}
    if not (name or "").strip():
        errors["name"] = [_("Name the system that will use the token.")]
    unknown = sorted(set(scopes) - set(ApiScope.values))
    if unknown:
        errors["scopes"] = [_("Unknown scope: %(scopes)s.") % {"scopes": ", ".join(unknown)}]
    elif not scopes:
        errors["scopes"] = [_("Give the token at least one scope.")]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = [_("The expiry lies in the past.")]
    if user is None or not user.is_active:
        errors["user"] = [_("The account must exist and be active.")]
    return errors


def new_key() -> tuple[str, str, str]:
    """A fresh key, its prefix (shown in lists) and its hash (kept)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return key, key[:10], key_hash(key)


def token_issue(*, actor, user, name: str, scopes: list[str], expires_at=None) -> tuple[ApiToken, str]:
    """A new token and its key (the only time the key is seen)."""
    errors = token_errors(user=user, name=name, scopes=scopes, expires_at=expires_at)
    if errors:
        raise ValidationError(errors)
    key, prefix, hashed = new_key()
    token = ApiToken.objects.create(name=name.strip(), user=user, prefix=prefix, key_hash=hashed,
                                    scopes=[s for s in ApiScope.values if s in scopes], expires_at=expires_at,
                                    created_by=actor if actor is not None and actor.pk else None)
    log.info("API token %s (%s) issued for %s with %s", token.prefix, token.name, user.username, ",".join(token.scopes))
    return token, key


def token_revoke(*, actor, token: ApiToken) -> ApiToken:
    """Revoked at once: the next request with the key is refused. Revoking twice keeps the first time."""
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.revoked_by = actor if actor is not None and actor.pk else None
            locked.save(update_fields=["revoked_at", "revoked_by"])
            log.info("API token %s (%s) revoked by %s", locked.prefix, locked.name,
                     actor.username if actor is not None else "-")
    return locked


def _touch(token: ApiToken, address: str | None) -> None:
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_GRANULARITY:
        return
    try:
        address = str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        address = None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=address)
    token.last_used_at = now


class TokenAuthentication(authentication.BaseAuthentication):
    """`Token <key>` or `Bearer <key>`; loads the account's department, region, roles and permissions in the same
    query (every intake and every region check needs them: org.auth)."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() not in (b"token", b"bearer"):
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send the token as “Authorization: Token <key>”."))
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        user, token = self.authenticate_credentials(key)
        bind(user=user.get_username())
        _touch(token, client_address(request._request))
        return user, token

    def authenticate_header(self, request):
        return "Token"

    def authenticate_credentials(self, key):
        token = users_loaded(ApiToken.objects.filter(key_hash=key_hash(key)), prefix="user__").first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("The token was revoked."))
        if not token.is_live():
            raise exceptions.AuthenticationFailed(_("The token has expired."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (user_prepared(token.user, holder=token), token)


class TokenScope(BasePermission):
    """A token reaches a view only with the scope the view names for the method."""

    def has_permission(self, request, view):
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        if request.method == "OPTIONS" or not hasattr(view, request.method.lower()):
            return True  # metadata, or a method the view lacks: DRF answers that (405) without acting
        needed = getattr(view, "required_scopes", {}).get(request.method)
        if needed is None and request.method == "HEAD":
            needed = getattr(view, "required_scopes", {}).get("GET")
        if needed is None or not token.allows(needed):
            self.message = (_("This token may not do this (it needs the scope “%(scope)s”).") % {"scope": needed}
                            if needed else _("No token may use this endpoint."))
            return False
        return True
