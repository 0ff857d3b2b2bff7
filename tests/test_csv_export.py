"""The CSV writer every export uses: formulas neutralised, numbers kept, rows streamed."""

import csv
import io
from decimal import Decimal

import pytest
from flask import Flask

from tracker.csv_export import csv_lines, csv_response, safe_cell


@pytest.mark.parametrize("text", ["=1+1", "+44 20", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_text_a_spreadsheet_would_run_is_quoted(text):
    assert safe_cell(text) == "'" + text


def test_numbers_and_plain_text_are_kept():
    assert safe_cell(-2) == -2
    assert safe_cell(Decimal("0.50")) == Decimal("0.50")
    assert safe_cell("Acne scars") == "Acne scars"
    assert safe_cell(None) == ""


def test_lines_round_trip_through_a_csv_reader():
    text = "".join(csv_lines(["name", "note"], [["Ann, Jr.", 'said "hi"\nthen left'], ["=x", 3]]))
    assert list(csv.reader(io.StringIO(text))) == [
        ["name", "note"], ["Ann, Jr.", 'said "hi"\nthen left'], ["'=x", "3"]]


def test_the_response_streams_rows_as_they_come():
    pulled = []

    def rows():
        for number in range(3):
            pulled.append(number)
            yield [number]

    app = Flask(__name__)
    with app.test_request_context():
        response = csv_response("list.csv", ["n"], rows())
        assert pulled == []
        assert response.is_streamed
        assert response.headers["Content-Disposition"] == 'attachment; filename="list.csv"'
        assert b"".join(response.iter_encoded()).decode() == "n\r\n0\r\n1\r\n2\r\n"
    assert pulled == [0, 1, 2]
