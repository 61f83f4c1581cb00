"""Import a category tree file (the JSON shape of telecom_categories_zh.json): upsert by code, all or nothing."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from complaints.models import Category, Severity


@dataclass
class CategoryImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def _walk(nodes, parent_code, depth, out, errors, seen):
    for index, node in enumerate(nodes):
        code = str(node.get("code") or "").strip()
        name = str(node.get("name_zh") or node.get("name") or "").strip()
        where = code or f"{parent_code or '(root)'}[{index}]"
        if not code:
            errors.append(_("%(where)s: a node has no code.") % {"where": where})
        elif code in seen:
            errors.append(_("%(code)s: the code appears twice.") % {"code": code})
        if not name:
            errors.append(_("%(where)s: a node has no Chinese name.") % {"where": where})
        if depth > Category.MAX_LEVEL:
            errors.append(_("%(where)s: deeper than %(max)s levels.") % {"where": where, "max": Category.MAX_LEVEL})
        severity = node.get("default_severity") or Severity.ORDINARY
        if severity not in Severity.values:
            errors.append(_("%(where)s: unknown severity “%(value)s”.") % {"where": where, "value": severity})
        seen.add(code)
        out.append({
            "code": code, "name": name, "name_en": str(node.get("name_en") or "").strip(),
            "parent_code": parent_code, "sort_order": index, "default_severity": severity,
            "standard_answer": node.get("standard_answer"),
        })
        children = node.get("children") or []
        if not isinstance(children, list):
            errors.append(_("%(where)s: children must be a list.") % {"where": where})
            continue
        _walk(children, code, depth + 1, out, errors, seen)


def categories_import(*, data: dict) -> CategoryImportReport:
    """Validate the whole file first; then create or update every node in one transaction. Categories missing
    from the file are left alone (orders point at them); an admin deactivates them by hand."""
    nodes = data.get("tree") if isinstance(data, dict) else data
    if not isinstance(nodes, list):
        raise ValidationError(_("The file must hold a list of categories, or an object with a “tree” list."))
    flat, errors = [], []
    _walk(nodes, None, 1, flat, errors, set())
    if errors:
        raise ValidationError(errors)
    report = CategoryImportReport()
    with transaction.atomic():
        by_code = {c.code: c for c in Category.objects.select_for_update().filter(code__in=[n["code"] for n in flat])}
        for node in flat:  # parents come before children in the walk
            parent = by_code.get(node["parent_code"]) if node["parent_code"] else None
            values = {"name": node["name"], "name_en": node["name_en"], "parent": parent,
                      "sort_order": node["sort_order"], "default_severity": node["default_severity"]}
            if node["standard_answer"] is not None:
                values["standard_answer"] = node["standard_answer"]
            category = by_code.get(node["code"])
            if category is None:
                category = Category(code=node["code"], **values)
                category.save()
                by_code[category.code] = category
                report.created += 1
                continue
            changed = [k for k, v in values.items() if getattr(category, k) != v]
            if changed:
                for key in changed:
                    setattr(category, key, values[key])
                category.save()
                report.updated += 1
            else:
                report.unchanged += 1
    return report
