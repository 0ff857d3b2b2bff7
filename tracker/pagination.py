"""A page of results, counted in SQL."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from tracker.extensions import db
from tracker.forms import parse_whole_number


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


def paginate(statement: Select[Any], page: int, per_page: int) -> Page:
    """Run ``statement`` for one page; ``page`` past the end shows the last page."""
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    total = total or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    rows = db.session.execute(statement.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(items=list(rows), page=page, per_page=per_page, total=total)


def page_arg(value: str | None) -> int:
    """The ``page`` query argument; anything odd means page 1."""
    number = parse_whole_number(value or "")
    return number if number is not None and 0 < number < 1_000_000 else 1
