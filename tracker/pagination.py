"""A page of results, counted in SQL."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Integer, Select, bindparam, func, select

from tracker.extensions import db
from tracker.forms import parse_whole_number
from tracker.statements import read, reads_objects


@dataclass
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


class PageStatements(NamedTuple):
    """What :func:`run_page` runs: a count and a page, and whether the page's rows are
    mapped objects (read through the ORM) or plain rows (read past it, tracker.statements
    ``read``)."""

    count: Select[Any]
    page: Select[Any]
    objects: bool
    #: Counts the rows when ``count`` reads a stored number and finds none (NULL).
    recount: Select[Any] | None = None


#: The bound LIMIT and OFFSET of a page (:func:`page_statements`, :func:`page_limits`).
PAGE_LIMIT = bindparam("page_limit", type_=Integer, literal_execute=True)
PAGE_OFFSET = bindparam("page_offset", type_=Integer, literal_execute=True)


def page_limits(statement: Select[Any]) -> Select[Any]:
    """``statement`` limited to one page, its LIMIT and OFFSET bound at run time and
    written into the SQL's text as it runs."""
    return statement.limit(PAGE_LIMIT).offset(PAGE_OFFSET)


def page_statements(statement: Select[Any], count: Select[Any] | None = None,
                    stored_count: Select[Any] | None = None, *,
                    limited: bool = False) -> PageStatements:
    """The statements that count ``statement``'s rows and read one page of them (its
    LIMIT and OFFSET bound at run time, and written into the SQL's text as it runs, as
    tracker.db does for every limit on PostgreSQL): built once, they serve every page
    (:func:`run_page`). ``count``, when given, selects the same rows more cheaply (say,
    ids without the per-row subqueries) for counting them. ``stored_count``, when given,
    reads their number where it is kept (say, by triggers) instead of counting them;
    they are counted only if it finds none. ``limited``: ``statement`` already limits
    itself to the page, inside (:func:`page_limits` on a subquery of its ids, say); it
    then needs ``count``."""
    counted = (count if count is not None else statement).order_by(None).subquery()
    recount = select(func.count()).select_from(counted)
    return PageStatements(
        stored_count if stored_count is not None else recount,
        statement if limited else page_limits(statement),
        objects=reads_objects(statement),
        recount=recount if stored_count is not None else None)


def run_page(statements: PageStatements, page: int, per_page: int,
             parameters: dict[str, Any] | None = None) -> Page:
    """Count, then read one page with :func:`page_statements`' pair; ``page`` past the end
    shows the last page."""
    total = read(statements.count, parameters).scalar()
    if total is None and statements.recount is not None:
        total = read(statements.recount, parameters).scalar()
    total = total or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    page_parameters = {**(parameters or {}), "page_limit": per_page,
                       "page_offset": (page - 1) * per_page}
    if statements.objects:
        rows = db.session.execute(statements.page, page_parameters).all()
    else:
        rows = read(statements.page, page_parameters).all()
    return Page(items=list(rows), page=page, per_page=per_page, total=total)


def paginate(statement: Select[Any], page: int, per_page: int,
             count: Select[Any] | None = None) -> Page:
    """Run ``statement`` for one page; ``page`` past the end shows the last page.

    ``count``, when given, selects the same rows more cheaply (say, ids without the
    per-row subqueries) for counting them."""
    return run_page(page_statements(statement, count), page, per_page)


def page_arg(value: str | None) -> int:
    """The ``page`` query argument; anything odd means page 1."""
    number = parse_whole_number(value or "")
    return number if number is not None and 0 < number < 1_000_000 else 1
