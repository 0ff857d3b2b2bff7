"""Jinja filters and globals: dates in the clinic's zone, labels, permission checks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask
from flask_login import current_user

from tracker import clock, domain, rules
from tracker.authz import TEMPLATE_CHECKS
from tracker.charts import chart_marks
from tracker.sessions import revisions
from tracker.urls import template_url_for


def format_datetime(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    local = clock.to_local(moment)
    return f"{local.day} {local:%b %Y, %H:%M}"


def format_date(day: date | datetime | None) -> str:
    if day is None:
        return "—"
    if isinstance(day, datetime):
        day = clock.local_date(day)
    return f"{day.day} {day:%b %Y}"


def relative_days(day: date | None) -> str:
    """'today', 'in 3 days', '5 days ago'."""
    if day is None:
        return ""
    delta = (day - clock.today()).days
    if delta == 0:
        return "today"
    if delta == 1:
        return "tomorrow"
    if delta == -1:
        return "yesterday"
    return f"in {delta} days" if delta > 0 else f"{-delta} days ago"


def init_app(app: Flask) -> None:
    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_date, "date")
    app.add_template_filter(relative_days, "relative_days")
    app.add_template_filter(clock.add_days, "plus_days")
    globals_: dict[str, Any] = {
        **TEMPLATE_CHECKS,
        **rules.TEMPLATE_CHECKS,
        "domain": domain,
        "chart_marks": chart_marks,
        "today": clock.today,
        "field_attrs": field_attrs,
        "form_error_list": form_error_list,
        "revision_field_label": revisions.field_label,
        "revision_value": revisions.display_value,
        "page_layout": page_layout,
        "url_for": template_url_for(app),
    }
    app.jinja_env.globals.update(globals_)
    app.jinja_env.globals["clinic_name"] = app.config["CLINIC_NAME"]


def page_layout() -> str:
    """The layout for a page both staff and patients reach (errors, throttling): a signed-in
    patient stays in the portal's, with its navigation and a way back to their treatment."""
    user = current_user
    if user and user.is_authenticated and user.role is domain.Role.PATIENT:
        return "portal/layout.html"
    return "base.html"


def field_attrs(field: Any, autofocus: bool = False, hint: str | None = None) -> dict[str, Any]:
    """Accessibility attributes for a form control: its help and errors, and focus."""
    described = []
    if field.description or hint:
        described.append(f"{field.id}-help")
    if field.errors:
        described.append(f"{field.id}-error")
    attrs: dict[str, Any] = {}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if field.errors:
        attrs["aria-invalid"] = "true"
    if autofocus:
        attrs["autofocus"] = True
    return attrs


def form_error_list(form: Any) -> list[tuple[str, str, str]]:
    """Every field error as (field id, label, message), rows of repeated fields included,
    so the summary at the top of a form can link to each problem."""
    found: list[tuple[str, str, str]] = []

    def visit(field: Any, prefix: str) -> None:
        if field.type == "FieldList":
            for position, entry in enumerate(field.entries, start=1):
                visit(entry, f"{prefix}{field.label.text} row {position}: ")
            # The list itself has no element of its own: its messages lead to its first row.
            target = next(iter(field.entries[0].form), None).id if field.entries else field.id
            found.extend((target, f"{prefix}{field.label.text}", message)
                         for message in field.errors if isinstance(message, str))
        elif field.type == "FormField":
            for sub_field in field.form:
                visit(sub_field, prefix)
        else:
            found.extend((field.id, f"{prefix}{field.label.text}", message)
                         for message in field.errors)

    for field in form:
        visit(field, "")
    return found
