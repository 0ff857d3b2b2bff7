"""Writing the audit trail (``tracker.models.audit``).

:func:`record` adds a row to the caller's transaction, so the view's single commit
stores the change and its audit row together, and a rollback drops both. In a request
that only reads (GET, HEAD: a patient's page, a download) the row waits in ``g`` and is
stored once the response is ready, in a short transaction of its own
(:func:`_commit_recorded_reads`).

A refusal (403, or a scoped lookup answering 404) aborts the request, and with it the
request's transaction; :func:`denied` notes it and the error handler stores it on its own
(:func:`store_denial`), in a way that never turns the error page into a 500.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from flask.wrappers import Response
from flask_login import current_user
from sqlalchemy import event, insert

from tracker.db import (
    AUDIT_WRITE_DURABLE,
    READ_ONLY_METHODS,
    commit_without_waiting_on_postgresql,
    inserted_without_waiting,
    utcnow,
    write_after_read_on_postgresql,
    write_after_read_on_sqlite,
)
from tracker.extensions import db
from tracker.models import (
    AdverseEvent,
    Patient,
    PostSessionNote,
    TreatmentSeries,
    TreatmentSession,
    User,
)
from tracker.models.audit import AuditAction, AuditEvent, AuditObject, AuditOutcome

__all__ = ["AuditAction", "AuditObject", "AuditOutcome", "denied", "record"]

_OBJECT_TYPES: dict[type, AuditObject] = {
    Patient: AuditObject.PATIENT,
    TreatmentSeries: AuditObject.SERIES,
    TreatmentSession: AuditObject.SESSION,
    PostSessionNote: AuditObject.NOTE,
    User: AuditObject.USER,
    AdverseEvent: AuditObject.ADVERSE_EVENT,
}


def _patient_id_of(target: Any) -> int | None:
    if isinstance(target, Patient):
        return target.id
    if isinstance(target, TreatmentSeries):
        return target.patient_id
    if isinstance(target, TreatmentSession):
        return target.series.patient_id
    if isinstance(target, PostSessionNote):
        return target.session.series.patient_id
    if isinstance(target, User):
        return target.patient_id
    return getattr(target, "patient_id", None)


def _object_type_of(target: Any) -> AuditObject | None:
    for cls, object_type in _OBJECT_TYPES.items():
        if isinstance(target, cls):
            return object_type
    return getattr(target, "audit_object_type", None)


def _actor(user: Any | None) -> Any | None:
    if user is not None:
        return user
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user
    return None


def _request_facts() -> tuple[str | None, str | None]:
    """The client's address and the route asked for, outside a request neither."""
    if not has_request_context():
        return None, None
    return (request.remote_addr or "")[:45] or None, (request.endpoint or "")[:80] or None


def record(
    action: AuditAction,
    target: Any | None = None,
    *,
    outcome: AuditOutcome = AuditOutcome.OK,
    user: Any | None = None,
    patient_id: int | None = None,
    object_type: AuditObject | None = None,
    object_id: int | None = None,
) -> AuditEvent:
    """Add one audit row to the current transaction (the caller commits); in a request
    that only reads, keep it for when the page is ready (:func:`_commit_recorded_reads`).

    ``target`` is the record acted on (a patient, series, session, note or user): its
    type, id and patient are read from it, flushing first when it is new. ``user`` is
    who acted, by default the signed-in user (none for anonymous visitors).
    """
    entry = _entry(action, target, outcome=outcome, user=user, patient_id=patient_id,
                   object_type=object_type, object_id=object_id)
    if _reading():
        g.setdefault("audit_reads", []).append(entry)
    else:
        db.session.add(entry)
        if has_request_context():
            g.audit_uncommitted = True
    return entry


def _entry(action: AuditAction, target: Any | None, *, outcome: AuditOutcome,
           user: Any | None, patient_id: int | None, object_type: AuditObject | None,
           object_id: int | None) -> AuditEvent:
    """The audit row :func:`record` describes, not yet added anywhere."""
    if target is not None:
        if getattr(target, "id", None) is None:
            db.session.flush()
        object_type = object_type or _object_type_of(target)
        object_id = object_id if object_id is not None else target.id
        if patient_id is None:
            patient_id = _patient_id_of(target)
    actor = _actor(user)
    address, endpoint = _request_facts()
    return AuditEvent(
        at=utcnow(),
        action=action,
        outcome=outcome,
        user_id=actor.id if actor is not None else None,
        role=actor.role if actor is not None else None,
        patient_id=patient_id,
        object_type=object_type,
        object_id=object_id,
        source_address=address,
        endpoint=endpoint,
    )


_STORED_COLUMNS = tuple(column.key for column in AuditEvent.__table__.columns
                        if column.key != "id")


#: ``inline()``: the rows' ids are never read back, so PostgreSQL need not return them.
_INSERT = insert(AuditEvent.__table__).inline()
#: A page view's one row on PostgreSQL, committed on its own without waiting for the disk.
_INSERT_WITHOUT_WAITING = inserted_without_waiting(AuditEvent.__table__)


def _values_of(entry: AuditEvent) -> dict[str, Any]:
    return {key: getattr(entry, key) for key in _STORED_COLUMNS}


def _reading() -> bool:
    """A GET or HEAD request: its audit rows wait until its page is ready."""
    return has_request_context() and request.method in READ_ONLY_METHODS


def _insert(entries: list[AuditEvent]) -> None:
    # A Core INSERT into the table rather than a flush or the ORM's bulk insert: these
    # rows are never read back in the request, and either cost a page view more than the
    # insert itself (the ORM's bulk path twice the Core one). Run on the session's
    # connection, in its transaction, past the ORM's execute, after what the session
    # holds is flushed (as tracker.statements.read does).
    db.session.flush()
    db.session.connection().execute(_INSERT, [_values_of(entry) for entry in entries])


def _store_now(entries: list[AuditEvent], *, wait_for_disk: bool = True) -> None:
    """End the request's read transaction and store ``entries`` in a short write
    transaction of their own (on SQLite it begins IMMEDIATE, see tracker.db); on
    PostgreSQL, whose reads take no lock, in the read transaction as it ends.

    Without ``wait_for_disk`` the commit does not wait for the disk to confirm it: the
    rows are stored, and reach the disk with the next write that does wait, or within
    moments. On SQLite those rows are then written past the session
    (:func:`tracker.db.write_after_read_on_sqlite`), unless it holds changes of its own.
    """
    connection = db.session.connection()
    untouched = not (db.session.new or db.session.dirty or db.session.deleted)
    if connection.dialect.name == "postgresql":
        if (not wait_for_disk and untouched and len(entries) == 1
                and write_after_read_on_postgresql(connection, _INSERT_WITHOUT_WAITING,
                                                   _values_of(entries[0]))):
            return
        # No lock to give back first: the transaction in progress stores the rows.
        if not wait_for_disk:
            commit_without_waiting_on_postgresql(connection)
        _insert(entries)
        db.session.commit()
        return
    if not wait_for_disk and untouched:
        write_after_read_on_sqlite(connection, _INSERT, [_values_of(entry) for entry in entries])
        return
    db.session.commit()
    g.audit_writing = AUDIT_WRITE_DURABLE
    try:
        _insert(entries)
        db.session.commit()
    finally:
        g.pop("audit_writing", None)


def denied(object_type: AuditObject = AuditObject.PAGE, object_id: int | None = None,
           patient_id: int | None = None) -> None:
    """Note a refused access; the error handler stores it once the request is aborted."""
    g.audit_denial = {"object_type": object_type, "object_id": object_id,
                      "patient_id": patient_id}


def store_denial() -> None:
    """Store the refusal noted by :func:`denied`, in a transaction of its own.

    Called by the 403/404 error handlers. Whatever the request had pending is rolled
    back first. A failure here is logged and swallowed: the error page must still show.
    """
    denial = g.pop("audit_denial", None)
    if denial is None:
        return
    try:
        db.session.rollback()
        # The refused page was never shown: its view rows, if any, are dropped.
        g.pop("audit_reads", None)
        _store_now([_entry(AuditAction.ACCESS, None, outcome=AuditOutcome.DENIED,
                           user=None, **denial)])
    except Exception:
        current_app.logger.exception("could not store an audit row for a refused access")
        try:
            db.session.rollback()
        except Exception:
            current_app.logger.exception("rollback after a failed audit write failed")
    finally:
        g.pop("audit_uncommitted", None)


def _commit_recorded_reads(response: Response) -> Response:
    """Store the audit rows of a page that only reads, once the page is ready.

    The page was read and rendered in a transaction that takes no lock; its rows are
    then written in a transaction of their own, so on SQLite the write lock is held for
    one insert instead of the whole page, and pages render side by side. A row that
    cannot be stored fails the request: no page is shown without its audit row.

    That commit does not wait for the disk (an fsync per page view halved the rate at
    which record pages are served): a crash of the machine, not of the app, can lose the
    page views of its last moments; changes and refusals always wait.
    """
    reads = g.pop("audit_reads", None)
    uncommitted = g.pop("audit_uncommitted", False)
    if response.status_code >= 400 or not (reads or uncommitted):
        return response
    try:
        if reads:
            _store_now(reads, wait_for_disk=False)
        else:
            db.session.commit()
    except Exception:
        db.session.rollback()
        current_app.logger.exception("could not store the audit row of a page view")
        raise
    return response


def _forget_flag(session: Any, *args: Any) -> None:
    if has_request_context():
        g.pop("audit_uncommitted", None)


def init_app(app: Flask) -> None:
    app.after_request(_commit_recorded_reads)
    # A commit stores the rows recorded so far; a rollback drops them: either way nothing
    # is left for the end of the request to commit.
    if not event.contains(db.session, "after_commit", _forget_flag):
        event.listen(db.session, "after_commit", _forget_flag)
        event.listen(db.session, "after_rollback", _forget_flag)
