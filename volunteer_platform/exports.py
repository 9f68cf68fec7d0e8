"""Tables as files to download: CSV for Excel as French users have it, and
real spreadsheets (XLSX, written with XlsxWriter).

A ``Table`` is what a page shows: a title, a header row and rows of cells.
A cell is text, a number (``int`` or ``float``), a ``Rate`` (a ratio shown
as a percentage) or ``None`` (nothing to show, e.g. a rate of an empty
period). Both formats neutralise formula injection: a text cell that a
spreadsheet would run as a formula (``=HYPERLINK(…)``, ``+…``, ``-…``,
``@…``) is always written as plain text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeAlias

import xlsxwriter
from flask import Response
from flask_babel import format_decimal, format_percent

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_safe(value: Any) -> str:
    """Neutralise spreadsheet formulas (CSV injection): a cell that starts
    with =, +, -, @, a tab or a carriage return gets a leading apostrophe, so
    Excel and LibreOffice show it as text instead of running it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


@dataclass(frozen=True)
class Rate:
    """A ratio (0.75) to show as a percentage (75 %); ``None`` when it has no denominator."""

    value: float | None


Cell: TypeAlias = "str | int | float | Rate | None"


@dataclass
class Table:
    """One table of a page, ready to be written to a file."""

    title: str
    header: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    #: A line under the title in the spreadsheet (period, filters…).
    subtitle: str = ""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- CSV ----------------------------------------------------------------------------------


def _csv_cell(value: Cell) -> str:
    """Numbers with the locale's decimal separator and no grouping (so Excel
    reads them as numbers), rates as "75,5%", text neutralised."""
    if value is None:
        return ""
    if isinstance(value, Rate):
        return "" if value.value is None else format_percent(value.value, "0.#%")
    if _is_number(value):
        return format_decimal(value, "0.##")
    return csv_safe(value)


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([csv_safe(text) for text in header])
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _attachment(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, content_type=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    # Figures of named structures and people: never kept by a browser or a proxy.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def csv_response(filename_stem: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Response:
    """A CSV file made for Excel as French users have it: semicolon-separated
    (in a French locale Excel expects ";", the comma being the decimal
    separator), UTF-8 with a byte-order mark (without it Excel reads the file
    as Windows-1252 and garbles the accents), CRLF line ends."""
    return _attachment(csv_bytes(header, rows), CSV_MIMETYPE, f"{filename_stem}.csv")


# --- XLSX ---------------------------------------------------------------------------------

#: Characters Excel refuses in a sheet name, and its length limit.
_SHEET_NAME_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})
_SHEET_NAME_MAX = 31


def sheet_name(title: str) -> str:
    name = " ".join(title.translate(_SHEET_NAME_FORBIDDEN).split()).strip("'")
    return (name[:_SHEET_NAME_MAX].rstrip() or "Tableau")


def _text_width(value: Cell) -> int:
    if isinstance(value, Rate):
        return 7
    if _is_number(value):
        return len(format_decimal(value, "#,##0.##")) + 1
    return len(str(value or ""))


class _Formats:
    """The workbook's cell formats, each with a quote-prefixed twin for text
    that looks like a formula: Excel's "apostrophe", shown as typed and still
    text if someone edits the cell."""

    STYLES: ClassVar[dict[str, dict[str, Any]]] = {
        "title": {"bold": True, "font_size": 14},
        "header": {"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"},
        "text": {"valign": "top"},
        "integer": {"num_format": "#,##0", "valign": "top"},
        "decimal": {"num_format": "#,##0.0#", "valign": "top"},
        "rate": {"num_format": "0%", "valign": "top"},
    }

    def __init__(self, workbook: Any) -> None:
        self.workbook = workbook
        self._cache: dict[tuple[str, bool], Any] = {}

    def get(self, style: str, *, quoted: bool = False) -> Any:
        key = (style, quoted)
        if key not in self._cache:
            quote = {"quote_prefix": True} if quoted else {}
            self._cache[key] = self.workbook.add_format({**self.STYLES[style], **quote})
        return self._cache[key]


def _write_text(sheet: Any, formats: _Formats, row: int, col: int, value: Any, style: str) -> None:
    text = str(value)[:32767]  # Excel's limit for one cell
    sheet.write_string(row, col, text, formats.get(style, quoted=text.startswith(FORMULA_TRIGGERS)))


def xlsx_bytes(
    header: Sequence[str], rows: Iterable[Sequence[Cell]], *, title: str, subtitle: str = "",
) -> bytes:
    """A one-sheet workbook: the title, the subtitle, a bold header row, then
    the rows — numbers as numbers, rates as numbers with a percent format,
    text always as text (``write_string``, never a formula)."""
    rows = [list(row) for row in rows]
    output = io.BytesIO()
    # The options only matter for write(); every cell below goes through a typed write_*.
    workbook = xlsxwriter.Workbook(output, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False, "strings_to_numbers": False})
    workbook.set_properties({"title": title, "subject": subtitle})
    formats = _Formats(workbook)

    sheet = workbook.add_worksheet(sheet_name(title))
    _write_text(sheet, formats, 0, 0, title, "title")
    header_row = 2
    if subtitle:
        _write_text(sheet, formats, 1, 0, subtitle, "text")
        header_row = 3
    for col, text in enumerate(header):
        _write_text(sheet, formats, header_row, col, text, "header")
    for r, row in enumerate(rows, start=header_row + 1):
        for col, value in enumerate(row):
            if value is None or (isinstance(value, Rate) and value.value is None):
                sheet.write_blank(r, col, None, formats.get("text"))
            elif isinstance(value, Rate):
                sheet.write_number(r, col, float(value.value), formats.get("rate"))
            elif _is_number(value):
                sheet.write_number(r, col, value, formats.get("integer" if isinstance(value, int) else "decimal"))
            else:
                _write_text(sheet, formats, r, col, value, "text")

    for col, text in enumerate(header):
        widest = max([len(str(text)) // 2 + 2, *(_text_width(row[col]) for row in rows if col < len(row))])
        sheet.set_column(col, col, min(max(widest + 2, 8), 60))
    sheet.freeze_panes(header_row + 1, 1)
    if rows and header:
        sheet.autofilter(header_row, 0, header_row + len(rows), len(header) - 1)
    workbook.close()
    return output.getvalue()


def xlsx_response(
    filename_stem: str, header: Sequence[str], rows: Iterable[Sequence[Cell]], *, title: str, subtitle: str = "",
) -> Response:
    return _attachment(xlsx_bytes(header, rows, title=title, subtitle=subtitle), XLSX_MIMETYPE,
                       f"{filename_stem}.xlsx")


def table_response(table: Table, fmt: str, filename_stem: str) -> Response:
    """``table`` as a ``"csv"`` or ``"xlsx"`` download."""
    if fmt == "csv":
        return csv_response(filename_stem, table.header, table.rows)
    if fmt == "xlsx":
        return xlsx_response(filename_stem, table.header, table.rows, title=table.title, subtitle=table.subtitle)
    raise ValueError(f"unknown export format {fmt!r}")


__all__ = [
    "FORMULA_TRIGGERS", "Rate", "Table", "csv_bytes", "csv_response", "csv_safe", "table_response",
    "xlsx_bytes", "xlsx_response",
]
