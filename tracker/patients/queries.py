"""Queries the patient pages need."""

from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy import ColumnElement, Select, and_, bindparam, func, inspect, or_, select
from sqlalchemy.orm import aliased, joinedload

from tracker.domain import SeriesStatus
from tracker.extensions import db
from tracker.models import Patient, PatientAllergy, PatientConsent, PatientCount, TreatmentSeries
from tracker.pagination import Page, PageStatements, page_limits, page_statements, run_page
from tracker.series.queries import SERIES_ENTRIES, patient_series_column
from tracker.statements import built_once, has_rows, load_lists

SEARCHED = (Patient.first_name, Patient.last_name, Patient.chart_number)

#: After every value of a searched column (all are shorter): the end of the range of a
#: prefix made only of the last code point.
_AFTER_EVERY_VALUE = "\U0010ffff" * 256


def _on_sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def _starts_with(column: Any, term: int) -> ColumnElement[bool]:
    """``lower(column)`` starts with search term number ``term``: it lies in the range
    from the term to :func:`_prefix_end` (bound by :func:`_term_values`), compared code
    point by code point, which each database answers from its index on ``lower(column)``.
    SQLite compares text so by default; PostgreSQL's operators ``~>=~`` and ``~<~`` do,
    and are those of its text_pattern_ops indexes. As a range of two parameters, not a
    LIKE pattern, the search keeps one plan on PostgreSQL: a pattern in a parameter
    says nothing the planner can use, so it planned every search anew."""
    lowered = func.lower(column)
    start, end = bindparam(f"term_{term}_from"), bindparam(f"term_{term}_until")
    if _on_sqlite():
        return and_(lowered >= start, lowered < end)
    return and_(lowered.op("~>=~", is_comparison=True)(start),
                lowered.op("~<~", is_comparison=True)(end))


def _prefix_end(prefix: str) -> str:
    """The first string after every string that starts with ``prefix``, in code point
    order (UTF-8's byte order): its last code point one higher, past the surrogates
    (which no text holds), and any trailing U+10FFFF, the last code point, dropped
    first."""
    stem = prefix.rstrip("\U0010ffff")
    if not stem:
        return _AFTER_EVERY_VALUE
    following = ord(stem[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:
        following = 0xE000
    return stem[:-1] + chr(following)


def _term_values(terms: tuple[str, ...]) -> dict[str, str]:
    """The bound values of :func:`_starts_with` for each (lower-cased) term."""
    values = {}
    for number, prefix in enumerate(terms):
        values[f"term_{number}_from"] = prefix
        values[f"term_{number}_until"] = _prefix_end(prefix)
    return values


def search_patients(query: str, page: int, per_page: int, include_archived: bool) -> Page:
    """Patients whose first name, last name or chart number starts with each word of
    ``query`` (any case), as rows of what the list shows with their open-series count
    (``open_series``); indexed, so its cost follows the matches, not the number of
    patients. Without words the number of patients is read from patient_counts, not
    counted. The statements are built once per number of words, the words bound."""
    terms = tuple(query.lower().split()[:5])
    return run_page(_search_statements(len(terms), include_archived), page, per_page,
                    _term_values(terms))


@built_once
def _search_statements(term_count: int, include_archived: bool
                       ) -> PageStatements:
    """The count and page statements of a search for ``term_count`` terms."""
    terms = range(term_count)
    filters: list[Any] = [or_(*(_starts_with(column, term) for column in SEARCHED))
                          for term in terms]
    if not include_archived:
        # With search terms, "IS NOT true" keeps SQLite's planner on the name indexes
        # (without statistics it would walk every unarchived patient in name order).
        filters.append(Patient.is_archived.is_not(True) if term_count
                       else Patient.is_archived.is_(False))
    listed: Any = Patient
    matches_first = term_count > 0 and not _on_sqlite()
    if matches_first:
        # The matches first, from the lower(column) indexes, then sorted: seeing the
        # LIMIT, PostgreSQL would otherwise walk the name index in order and test each
        # patient on the way (6,700 of them for "nowa" at 10,000 patients: 5.3 ms, now
        # 0.7). SQLite already starts from the matches; materializing them costs it more.
        listed = aliased(Patient, select(Patient).where(*filters).cte("matched")
                         .prefix_with("MATERIALIZED"))
    open_series = (
        select(func.count(TreatmentSeries.id))
        .where(
            TreatmentSeries.patient_id == listed.id,
            TreatmentSeries.status.in_([SeriesStatus.PLANNED, SeriesStatus.ACTIVE]),
        )
        .scalar_subquery()
    )
    # Plain rows of what the list shows, not Patient objects: loading 25 of those cost
    # more than the query.
    statement = select(listed.id, listed.last_name, listed.first_name, listed.is_archived,
                       listed.chart_number, listed.date_of_birth, listed.fitzpatrick_type,
                       open_series.label("open_series"))
    in_order = (listed.last_name, listed.first_name, listed.id)
    limited = term_count > 0 and not matches_first
    if limited:
        # SQLite makes each row's columns before it sorts the matches: the open series
        # were counted for every match (199 for "nowa" at 10,000 patients) to show 25.
        # A page of the matches' ids first, then the rows of those alone.
        page_ids = page_limits(select(Patient.id).where(*filters).order_by(*in_order)
                               ).subquery("page_ids")
        statement = statement.join(page_ids, page_ids.c.id == listed.id)
    elif not matches_first:
        statement = statement.where(*filters)
    statement = statement.order_by(*in_order)
    stored = None
    if not term_count:
        # Every patient (or every listed one): the number kept in patient_counts.
        kept = (PatientCount.listed + PatientCount.archived if include_archived
                else PatientCount.listed)
        stored = select(kept).where(PatientCount.id == 1)
    return page_statements(statement, count=select(Patient.id).where(*filters),
                           stored_count=stored, limited=limited)


def get_patient_or_404(patient_id: int) -> Patient:
    patient = db.session.get(Patient, patient_id)
    if patient is None:
        abort(404)
    return patient


@built_once
def _record_lists() -> dict[str, Select[Any]]:
    """The lists a patient's page shows, by the patient's attribute, in its order."""
    of_patient = bindparam("patient_id")
    return {
        "allergy_rows": select(PatientAllergy).where(PatientAllergy.patient_id == of_patient)
        .order_by(PatientAllergy.allergy),
        "consents": select(PatientConsent).where(PatientConsent.patient_id == of_patient)
        .options(joinedload(PatientConsent.recorded_by))
        .order_by(PatientConsent.signed_on.desc(), PatientConsent.id.desc()),
    }


@built_once
def _patient_record() -> Select[Any]:
    """A patient (``patient_id``) with their portal account, whether they have any
    allergies and consents, and their series (``patient_series_column``)."""
    return (select(Patient, *has_rows({"allergy_rows": PatientAllergy.patient_id,
                                       "consents": PatientConsent.patient_id}, Patient.id),
                   *patient_series_column())
            .where(Patient.id == bindparam("patient_id"))
            .options(joinedload(Patient.account)))


def patient_record_or_404(patient_id: int) -> Patient:
    """A patient with the account, allergies, consents and series their page shows: one
    statement for the patient, their account and their series
    (:func:`tracker.series.queries.series_entries_of`), then one per list they have
    anything in, built once and handed to the patient as loaded (instead of a lazy load
    for each list and for each consent's recorder)."""
    params = {"patient_id": patient_id}
    row = db.session.execute(_patient_record(), params).first()
    if row is None:
        abort(404)
    patient = row[0]
    load_lists(patient, _record_lists(), params, holding=row._mapping)
    inspect(patient).info[SERIES_ENTRIES] = row._mapping[SERIES_ENTRIES]
    return patient


def suggest_chart_number() -> str:
    """The next free number in the clinic's ``MN-00042`` style."""
    highest = db.session.scalar(select(func.max(Patient.id))) or 0
    candidate = highest + 1
    while db.session.scalar(
        select(Patient.id).where(Patient.chart_number == f"MN-{candidate:05d}")
    ):
        candidate += 1
    return f"MN-{candidate:05d}"
