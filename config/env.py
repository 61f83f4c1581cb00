"""One place that reads settings from the environment and refuses bad values."""

import os
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

from core.throttles import parse_rate

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Env:
    def __init__(self, environ=None):
        self.environ = os.environ if environ is None else environ

    def _raw(self, name):
        value = self.environ.get(name)
        return None if value is None else value.strip()

    def str(self, name, default=None, *, required=False):
        value = self._raw(name)
        if value in (None, ""):
            if required:
                raise ImproperlyConfigured(f"Environment variable {name} is required.")
            return default
        return value

    def bool(self, name, default=False):
        value = self._raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off.")

    def int(self, name, default, *, minimum=None, maximum=None):
        value = self._raw(name)
        if value in (None, ""):
            return default
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(f"{name}={number} is below the minimum {minimum}.")
        if maximum is not None and number > maximum:
            raise ImproperlyConfigured(f"{name}={number} is above the maximum {maximum}.")
        return number

    def list(self, name, default=()):
        value = self._raw(name)
        if value in (None, ""):
            return list(default)
        return [item.strip() for item in value.split(",") if item.strip()]

    def rates(self, name, defaults: dict[str, str]) -> dict[str, str]:
        """Rates by scope, "scope=rate,scope=rate" (see parse_rate); a scope not named keeps its default."""
        rates = dict(defaults)
        for item in self.list(name):
            scope, sep, rate = (part.strip() for part in item.partition("="))
            if not sep or scope not in defaults:
                raise ImproperlyConfigured(f"{name}: {item!r} is not scope=rate with a scope among "
                                           f"{', '.join(defaults)}.")
            try:
                parse_rate(rate)
            except ValueError as exc:
                raise ImproperlyConfigured(f"{name}: {exc}.") from None
            rates[scope] = rate
        return rates

    def mapping(self, name, default: dict[str, str], *, keys=None) -> dict[str, str]:
        """"key=value,key=value" (field names of another system); a key not named keeps its default."""
        result = dict(default)
        allowed = set(keys if keys is not None else default)
        for item in self.list(name):
            key, sep, value = (part.strip() for part in item.partition("="))
            if not sep or not value or key not in allowed:
                raise ImproperlyConfigured(f"{name}: {item!r} is not key=value with a key among "
                                           f"{', '.join(sorted(allowed))}.")
            result[key] = value
        return result

    def choice(self, name, choices, default):
        value = self._raw(name) or default
        if value not in choices:
            raise ImproperlyConfigured(f"{name}={value!r} is not one of {', '.join(choices)}.")
        return value

    def url(self, name, schemes, default=None):
        value = self.str(name, default)
        if value is None:
            return None
        scheme = urlparse(value).scheme
        if scheme not in schemes:
            raise ImproperlyConfigured(f"{name} must be a URL with scheme {' or '.join(schemes)}, got {scheme!r}.")
        return value
