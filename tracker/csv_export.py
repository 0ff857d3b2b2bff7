"""CSV downloads that stream: rows are written as the database yields them, so a clinic
with 200,000 sessions exports without holding them all in memory.

Every cell that a spreadsheet would read as a formula (it starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) is prefixed with ``'`` (OWASP's advice on CSV
injection); numbers are written as numbers, so a negative score stays a number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Response, stream_with_context

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str | int | Decimal:
    """One value as a CSV cell that no spreadsheet runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | Decimal):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The header and each row as CSV text, one line at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: Sequence[Any]) -> str:
        writer.writerow([safe_cell(cell) for cell in cells])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(header)
    for row in rows:
        yield line(row)


def csv_response(filename: str, header: Sequence[str],
                 rows: Iterable[Sequence[Any]]) -> Response:
    """A streamed ``text/csv`` download named ``filename``.

    ``rows`` is consumed while the response is sent (inside the request's context), so it
    may be a lazily executed query, e.g. ``db.session.execute(stmt.execution_options(
    yield_per=1000))``.
    """
    response = Response(stream_with_context(csv_lines(header, rows)),
                        mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
