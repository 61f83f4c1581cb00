"""DRF helpers shared by the apps' APIs."""

import copy

from rest_framework import serializers
from rest_framework.fields import Field

_RECIPES: dict[type, list[tuple]] = {}


class ModelFieldsOnce(serializers.ModelSerializer):
    """A ModelSerializer that looks its model over once per process, not once per instance.

    DRF builds a ModelSerializer's fields from the model on every instantiation (every create answer, every
    order read): ~45 fields took 5–7 ms of a create's CPU. The first instance of a class records each field's
    class and arguments; later ones make their fields from that record, as DRF's own copy of declared fields
    does (`Field.__deepcopy__`). A subclass that adds or drops fields per instance does so after calling this."""

    def get_fields(self):
        recipe = _RECIPES.get(type(self))
        if recipe is None:
            fields = super().get_fields()
            _RECIPES[type(self)] = [(name, field.__class__, field._args, field._kwargs)
                                    for name, field in fields.items()]
            return fields
        return {name: field_class(*map(_fresh, args), **{key: _fresh(value) for key, value in kwargs.items()})
                for name, field_class, args, kwargs in recipe}


def _fresh(value):
    """A field given as an argument (a list's child, a nested serializer) is bound to its parent: copied, as DRF
    copies it; anything else (labels, choices, querysets, validators) is shared."""
    return copy.deepcopy(value) if isinstance(value, Field) else value
