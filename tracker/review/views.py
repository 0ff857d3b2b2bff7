"""Manager review (issue 18): the clinic's series figures, the lists behind each figure,
and their CSV exports. Managers see the whole clinic; a practitioner sees the same
figures for the series they lead ("My figures"); patients see none of it."""

from __future__ import annotations

from datetime import date
from typing import Any

import click
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from tracker import audit, clock
from tracker.authz import staff_required
from tracker.charts import Chart, Line, line_chart
from tracker.csv_export import csv_response
from tracker.domain import Concern, Role
from tracker.extensions import db
from tracker.forms import parse_whole_number, query_day
from tracker.models.audit import AuditObject
from tracker.pagination import page_arg
from tracker.review import queries
from tracker.review.cache import memo
from tracker.review.figures import DEPTH_BANDS, rebuild_figures
from tracker.review.queries import (
    DUE_HEADER,
    FIGURES,
    SERIES_HEADER,
    FigureChoice,
    Filters,
    FunnelRow,
    Group,
)
from tracker.series.progress import DueState

bp = Blueprint("review", __name__)

#: The most sessions a plan can have (tracker.domain.PLANNED_SESSIONS_MAX) bounds ``step``.
_STEP_MAX = 20


def _own_scope() -> int | None:
    """A practitioner only ever sees the series they lead."""
    return current_user.id if current_user.role is Role.PRACTITIONER else None


def _parse_filters(args: MultiDict[str, str]) -> tuple[Filters, dict[str, str], list[Any]]:
    """The filters in the query string; a value that makes no sense is left out with a
    message (never a 400 or an error page). Also the practitioners to choose from."""
    errors: dict[str, str] = {}

    def day(name: str) -> date | None:
        return query_day(args, name, errors)

    def choice(name: str, options: dict[str, Any]) -> Any:
        text = args.get(name, "").strip()
        if not text:
            return None
        if text not in options:
            errors[name] = "Not one of the choices; showing all."
        return options.get(text)

    start_from, start_to = day("from"), day("to")
    if start_from and start_to and start_from > start_to:
        errors["to"] = "The end date is before the start date; both were left out."
        start_from = start_to = None
    own_id = _own_scope()
    practitioners: list[Any] = []
    practitioner_id = None
    if own_id is None:
        practitioners = queries.practitioners_for_filter()
        practitioner = choice("practitioner", {str(user.id): user for user in practitioners})
        practitioner_id = practitioner.id if practitioner is not None else None
    filters = Filters(
        start_from=start_from, start_to=start_to,
        concern=choice("concern", {concern.value: concern for concern in Concern}),
        practitioner_id=practitioner_id,
        status=choice("status", {group.value: group for group in Group}),
        own_id=own_id,
    )
    return filters, errors, practitioners


def _parse_figure(args: MultiDict[str, str], errors: dict[str, str]) -> FigureChoice:
    code = args.get("figure", "").strip() or "started"
    if code not in FIGURES:
        errors["figure"] = "No such figure; showing every series started."
        return FigureChoice()

    def number(name: str, low: int, high: int) -> int | None:
        text = args.get(name, "").strip()
        value = parse_whole_number(text) if text else None
        return value if value is not None and low <= value <= high else None

    figure = FigureChoice(code, who=number("who", 1, 2**31 - 1),
                          step=number("step", 1, _STEP_MAX),
                          band=number("band", 1, len(DEPTH_BANDS)))
    if FIGURES[code].needs and getattr(figure, FIGURES[code].needs) is None:
        errors["figure"] = ("That figure needs a choice the link did not give; "
                            "showing every series started.")
        return FigureChoice()
    return figure


def _figure_title(figure: FigureChoice) -> str:
    who = queries.practitioner_name(figure.who) if figure.who is not None else None
    band = next((b.label for b in DEPTH_BANDS if b.number == figure.band), "")
    return FIGURES[figure.code].label.format(
        step=figure.step, who=who or "this practitioner", band=band,
        by=f" by {who}" if who else "")


def _context() -> tuple[Any, Any]:
    return clock.today(), current_app.config["DUE_SOON_DAYS"]


def funnel_chart(rows: list[FunnelRow], steps: int) -> Chart:
    """Share of each concern's series that reached each session of their plan."""
    lines = [
        Line(row.concern.label,
             [(0, 100.0)] + [(step, float(row.share(count) or 0))
                             for step, count in enumerate(row.reached, start=1)],
             f"chart-line-{index}")
        for index, row in enumerate(rows, start=1)
    ]
    ticks = [(0, "Start")] + [(step, str(step)) for step in range(1, steps + 1)]
    return line_chart("Share of series that reached each session, by concern", lines, ticks,
                      (0, 100), {value: f"{value}%" for value in range(0, 101, 25)},
                      "Session of the plan", "Series", y_step=25)


@bp.get("/review")
@staff_required
def dashboard() -> Response | str:
    if current_user.role is Role.PRACTITIONER:
        return redirect(url_for("review.mine", **request.args))
    return _dashboard()


@bp.get("/review/mine")
@staff_required
def mine() -> Response | str:
    if current_user.role is not Role.PRACTITIONER:
        return redirect(url_for("review.dashboard", **request.args))
    return _dashboard()


def _dashboard() -> str:
    filters, errors, practitioners = _parse_filters(request.args)
    today, due_soon = _context()
    rows = current_app.config["REVIEW_DASHBOARD_ROWS"]

    def figures_html() -> Markup:
        """The figures, rendered: they are kept rendered, so that a page served from the
        memo only renders its header and filters."""
        figures = queries.dashboard(filters, today, due_soon, rows,
                                    with_practitioners=filters.own_id is None)
        return Markup(render_template(  # noqa: S704 - a template's autoescaped output
            "review/_figures.html", figures=figures, args=filters.query_args(),
            mine=filters.own_id is not None, overdue=figures.overdue, lapsed=figures.lapsed,
            chart=funnel_chart(figures.funnel, figures.steps) if figures.funnel else None,
            bands=DEPTH_BANDS, groups=list(Group)))

    body, computed_at = memo(("dashboard", filters, rows), figures_html)
    return render_template(
        "review/dashboard.html", body=body, filters=filters, errors=errors,
        computed_at=computed_at, practitioners=practitioners, args=filters.query_args(),
        concerns=list(Concern), groups=list(Group),
    )


@bp.get("/review/series")
@staff_required
def series() -> str:
    filters, errors, practitioners = _parse_filters(request.args)
    figure = _parse_figure(request.args, errors)
    today, due_soon = _context()
    number, per_page = page_arg(request.args.get("page")), current_app.config["REVIEW_PER_PAGE"]
    page, computed_at = memo(("series", filters, figure, number, per_page), lambda: (
        queries.series_page(filters, figure, today, due_soon, number, per_page)))
    return render_template(
        "review/series.html", page=page, filters=filters, errors=errors,
        computed_at=computed_at,
        practitioners=practitioners, figure=figure, title=_figure_title(figure),
        args={**filters.query_args(), **figure.query_args()}, filter_args=filters.query_args(),
        concerns=list(Concern), groups=list(Group),
    )


_DUE_LISTS = {"overdue": DueState.OVERDUE, "lapsed": DueState.LAPSED}


def _due(which: str) -> str:
    filters, errors, practitioners = _parse_filters(request.args)
    today, due_soon = _context()
    number, per_page = page_arg(request.args.get("page")), current_app.config["REVIEW_PER_PAGE"]
    page, computed_at = memo((which, filters, number, per_page), lambda: (
        queries.due_page(filters, _DUE_LISTS[which], today, due_soon, number, per_page)))
    return render_template(
        "review/due.html", page=page, which=which, filters=filters, errors=errors,
        computed_at=computed_at,
        practitioners=practitioners, args=filters.query_args(), filter_args=filters.query_args(),
        concerns=list(Concern), groups=list(Group),
    )


@bp.get("/review/overdue")
@staff_required
def overdue() -> str:
    return _due("overdue")


@bp.get("/review/lapsed")
@staff_required
def lapsed() -> str:
    return _due("lapsed")


def _audit_export() -> None:
    """Each download is one row of the audit trail (the route says which list)."""
    audit.record(audit.AuditAction.EXPORT, object_type=AuditObject.PAGE)


@bp.cli.command("rebuild-figures")
def rebuild_figures_command() -> None:
    """Recompute every series' stored review figures from its sessions and notes, e.g.
    after rows were written outside the app; safe to run at any time."""
    rebuild_figures()
    db.session.commit()
    click.echo("Rebuilt the review figures of every series.")


@bp.get("/review/series.csv")
@staff_required
def export_series() -> Response:
    filters, errors, _ = _parse_filters(request.args)
    figure = _parse_figure(request.args, errors)
    today, due_soon = _context()
    _audit_export()
    return csv_response(f"series-{figure.code}-{today.isoformat()}.csv", SERIES_HEADER,
                        queries.series_export(filters, figure, today, due_soon))


def _export_due(which: str) -> Response:
    filters, _, _ = _parse_filters(request.args)
    today, due_soon = _context()
    _audit_export()
    return csv_response(f"{which}-{today.isoformat()}.csv", DUE_HEADER,
                        queries.due_export(filters, _DUE_LISTS[which], today, due_soon))


@bp.get("/review/overdue.csv")
@staff_required
def export_overdue() -> Response:
    return _export_due("overdue")


@bp.get("/review/lapsed.csv")
@staff_required
def export_lapsed() -> Response:
    return _export_due("lapsed")
