"""Who may do what: role gates for routes, scoped lookups that answer 404, and ``can_*``
checks that templates share with the views so a page never offers a refused action."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app
from flask_login import current_user

from tracker import audit
from tracker.domain import Role
from tracker.extensions import login_manager

F = TypeVar("F", bound=Callable[..., Any])

STAFF = (Role.PRACTITIONER, Role.MANAGER)


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Anonymous visitors go to sign-in; signed-in users of another role get 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                current_app.logger.warning(
                    "access denied: user %s (%s) to %s", current_user.id, current_user.role,
                    view.__name__,
                )
                audit.denied()
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


staff_required = roles_required(*STAFF)
practitioner_required = roles_required(Role.PRACTITIONER)
patient_required = roles_required(Role.PATIENT)
manager_required = roles_required(Role.MANAGER)


def can_edit_patients(user: Any) -> bool:
    """Staff keep the chart's demographics up to date."""
    return bool(user.is_authenticated and user.role in STAFF)


def can_treat(user: Any) -> bool:
    """Clinical actions (series, sessions, notes) belong to practitioners."""
    return bool(user.is_authenticated and user.role is Role.PRACTITIONER)


def can_view_audit_log(user: Any) -> bool:
    """Managers oversee the clinic: the audit log and each patient's access history."""
    return bool(user.is_authenticated and user.role is Role.MANAGER)


def can_report_adverse_events(user: Any) -> bool:
    """Practitioners report what went wrong after their treatment."""
    return can_treat(user)


def can_review_adverse_events(user: Any, event: Any | None = None) -> bool:
    """Managers review and close adverse events; a closed one takes no further review."""
    if not (user.is_authenticated and user.role is Role.MANAGER):
        return False
    return event is None or event.status.value == "open"


def can_view_review(user: Any) -> bool:
    """Managers see the whole clinic's series figures (the manager review)."""
    return bool(user.is_authenticated and user.role is Role.MANAGER)


def can_view_my_figures(user: Any) -> bool:
    """Practitioners see the same figures for the series they lead."""
    return bool(user.is_authenticated and user.role is Role.PRACTITIONER)


TEMPLATE_CHECKS = {
    "can_view_review": can_view_review,
    "can_view_my_figures": can_view_my_figures,
    "can_report_adverse_events": can_report_adverse_events,
    "can_review_adverse_events": can_review_adverse_events,
    "can_view_audit_log": can_view_audit_log,
    "can_edit_patients": can_edit_patients,
    "can_treat": can_treat,
}
