"""Exports of the dashboards' tables (CSV for French Excel, XLSX spreadsheets)
and the ``exports`` helpers: same figures as the page, neutralised formulas,
no other structure's figures in a coordinator's files.

The XLSX files are read back without a spreadsheet library: a workbook is a
zip of XML parts (the sheet, its shared strings, its styles).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from xml.etree import ElementTree

import pytest

from tests.factories import make_membership, make_tenant, make_user
from tests.impact.test_dashboard_views import (
    NATIONAL,
    PERIOD,
    A,
    build_structure_a,
    build_structure_b,
    column,
    enrol,
    paris,
    report,
)
from tests.scheduling.factories import make_event
from volunteer_platform.exports import (
    Rate,
    Table,
    csv_bytes,
    csv_safe,
    sheet_name,
    table_response,
    xlsx_bytes,
)
from volunteer_platform.scheduling.models import Attendance
from volunteer_platform.tenants.models import Role

EVIL = '=HYPERLINK("http://evil")'
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def read_csv(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())  # the BOM: Excel reads UTF-8
    text = raw.decode("utf-8")[1:]
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


@dataclass
class XCell:
    ref: str
    value: str | float | None
    is_text: bool
    has_formula: bool
    number_format: str
    quote_prefix: bool
    bold: bool


def read_xlsx(data: bytes) -> tuple[str, list[list[XCell]]]:
    """The workbook's only sheet: its name, and its rows of cells with type and style."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    sheets = workbook.findall("m:sheets/m:sheet", NS)
    assert len(sheets) == 1
    strings = []
    if "xl/sharedStrings.xml" in archive.namelist():
        shared = ElementTree.fromstring(archive.read("xl/sharedStrings.xml"))
        strings = ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")) for si in shared.findall("m:si", NS)]
    styles = ElementTree.fromstring(archive.read("xl/styles.xml"))
    custom = {f.get("numFmtId"): f.get("formatCode") for f in styles.findall("m:numFmts/m:numFmt", NS)}
    builtin = {"0": "General", "3": "#,##0", "9": "0%"}
    bold_fonts = [font.find("m:b", NS) is not None for font in styles.findall("m:fonts/m:font", NS)]
    xfs = styles.findall("m:cellXfs/m:xf", NS)

    sheet = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.findall("m:sheetData/m:row", NS):
        cells = []
        for c in row.findall("m:c", NS):
            xf = xfs[int(c.get("s", "0"))]
            number_id = xf.get("numFmtId", "0")
            v = c.find("m:v", NS)
            kind = c.get("t")
            if kind == "s":
                value: str | float | None = strings[int(v.text)]
            elif kind in ("str", "inlineStr"):
                value = "".join(t.text or "" for t in c.iter(f"{{{NS['m']}}}t")) or (v.text if v is not None else "")
            else:
                value = float(v.text) if v is not None else None
            cells.append(XCell(
                c.get("r"), value, kind in ("s", "str", "inlineStr"), c.find("m:f", NS) is not None,
                custom.get(number_id) or builtin.get(number_id, number_id), xf.get("quotePrefix") == "1",
                bold_fonts[int(xf.get("fontId", "0"))],
            ))
        rows.append(cells)
    return sheets[0].get("name"), rows


def values(rows: list[list[XCell]]) -> list[list[str | float | None]]:
    return [[c.value for c in row] for row in rows]


@pytest.fixture
def known(tenant_a, tenant_b, coordinator_a):
    build_structure_a(tenant_a, coordinator_a)
    build_structure_b(tenant_b)
    c = make_tenant(slug="structure-c", name="Structure C")
    return {"a": tenant_a, "b": tenant_b, "c": c}


@pytest.fixture
def evil(app):
    """A structure whose name is a spreadsheet formula, with some activity."""
    tenant = make_tenant(slug="evil", name=EVIL, region="+33 Région")
    volunteer = make_user(full_name="-Bénévole")
    make_membership(tenant, volunteer, Role.VOLUNTEER, created_at=paris(2026, 9, 1, 9, 0))
    shift = make_event(tenant, "shift", paris(2026, 9, 22, 10, 0), ends_at=paris(2026, 9, 22, 12, 0), capacity=1)
    enrol(shift, volunteer, Attendance.PRESENT)
    report(shift, volunteer, 120, banking=2)
    return tenant


# --- the views ----------------------------------------------------------------------------------


def test_the_csv_export_is_made_for_french_excel_and_says_what_the_page_says(client, login_as, supervisor, known):
    login_as(supervisor)
    page = client.get(NATIONAL, query_string=PERIOD)
    response = client.get(NATIONAL + "export/structures.csv", query_string=PERIOD)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Disposition"] == \
        'attachment; filename=bilan-structures-2026-09-01-2026-10-31.csv'
    rows = read_csv(response)
    head, body = rows[0], {row[0]: row for row in rows[1:]}
    assert head[:4] == ["Structure", "Type", "Région", "Bénévoles actifs"]
    a = dict(zip(head, body["Structure A"], strict=True))
    assert (a["Bénévoles actifs"], a["Heures de bénévolat"], a["Taux de remplissage"], a["Taux de présence"],
            a["Satisfaction"]) == ("4", "7,5", "75%", "83,3%", "60%")
    c = dict(zip(head, body["Structure C"], strict=True))
    assert c["Heures de bénévolat"] == "0" and c["Taux de remplissage"] == ""  # no rate: an empty cell
    assert body["Ensemble des structures"][head.index("Personnes aidées")] == "59"
    # The same figures as the page's table, row by row (numbers written without their spaces and "%").
    shown = column(page, "structures", "Personnes aidées")
    del shown["Structure"]  # the header row
    assert {name: row[head.index("Personnes aidées")] for name, row in body.items()} == shown


def test_every_table_exports_in_both_formats(client, login_as, supervisor, known):
    login_as(supervisor)
    for key, stem in (("summary", "chiffres-cles"), ("structures", "structures"), ("months", "mois"),
                      ("themes", "themes"), ("confidence", "confiance")):
        for fmt in ("csv", "xlsx"):
            response = client.get(f"{NATIONAL}export/{key}.{fmt}", query_string=PERIOD)
            assert response.status_code == 200, (key, fmt)
            assert response.headers["Content-Disposition"] == \
                f"attachment; filename=bilan-{stem}-2026-09-01-2026-10-31.{fmt}"
    summary = {row[0]: row[1:] for row in read_csv(client.get(NATIONAL + "export/summary.csv", query_string=PERIOD))}
    assert summary["Personnes aidées"][0] == "59"
    assert summary["Taux de remplissage des permanences"] == ["57,1%", "4 places pourvues sur 7"]
    themes = {row[0]: row[1:] for row in read_csv(client.get(NATIONAL + "export/themes.csv", query_string=PERIOD))}
    assert themes["Logement"] == ["50", "84,7%"] and themes["Total"] == ["59", "100%"]
    confidence = read_csv(client.get(NATIONAL + "export/confidence.csv", query_string=PERIOD))
    assert confidence[1] == ["Communication et collaboration", "2", "1,5", "3,5", "2"]


def test_the_xlsx_export_has_typed_cells_a_title_and_a_bold_header(client, login_as, supervisor, known):
    login_as(supervisor)
    response = client.get(NATIONAL + "export/months.xlsx", query_string={**PERIOD, "region": "Hauts-de-France"})
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Cache-Control"] == "private, no-store"
    name, rows = read_xlsx(response.get_data())
    assert name == "Évolution mois par mois"
    assert rows[0][0].value == "Évolution mois par mois" and rows[0][0].bold
    assert "région : Hauts-de-France" in rows[1][0].value and "du 1 septembre 2026 au 31 octobre 2026" in rows[1][0].value
    head = rows[2]
    assert [c.value for c in head][:3] == ["Mois", "Bénévoles actifs", "Nouveaux bénévoles"]
    assert all(c.bold and c.is_text for c in head)
    september = dict(zip([c.value for c in head], rows[3], strict=True))
    assert september["Mois"].value == "septembre 2026"
    assert september["Heures de bénévolat"].value == 6.0 and not september["Heures de bénévolat"].is_text
    assert september["Sessions tenues"].value == 1.0 and september["Sessions tenues"].number_format == "#,##0"
    rate = september["Taux de présence"]
    assert rate.value == pytest.approx(0.8) and rate.number_format == "0%" and not rate.is_text
    october = dict(zip([c.value for c in head], rows[4], strict=True))
    assert october["Taux de remplissage"].value == pytest.approx(0.5)  # H2: 1 of 2 places (v3, then absent)
    assert october["Satisfaction"].value == 1.0  # T2: v1's 5 out of 5
    assert len(rows) == 5


def test_a_formula_in_a_name_is_neutralised_in_both_formats(client, login_as, supervisor, known, evil):
    login_as(supervisor)
    rows = read_csv(client.get(NATIONAL + "export/structures.csv", query_string=PERIOD))
    evil_row = next(row for row in rows if "HYPERLINK" in row[0])
    assert evil_row[0] == "'" + EVIL and evil_row[2] == "'+33 Région"

    response = client.get(NATIONAL + "export/structures.xlsx", query_string=PERIOD)
    data = response.get_data()
    assert b"<f>" not in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    _name, sheet = read_xlsx(data)
    cell = next(c for row in sheet for c in row if c.is_text and "HYPERLINK" in c.value)
    # Text, never a formula; Excel's quote prefix keeps it text even when someone edits the cell.
    assert cell.value == EVIL and cell.is_text and not cell.has_formula and cell.quote_prefix
    region = next(c for row in sheet for c in row if c.value == "+33 Région")
    assert region.quote_prefix
    ordinary = next(c for row in sheet for c in row if c.value == "Structure A")
    assert not ordinary.quote_prefix

    # The structure's own export: the subtitle starts with its name.
    own = client.get("/evil/impact/export/summary.xlsx", query_string=PERIOD)
    _name, sheet = read_xlsx(own.get_data())
    assert sheet[1][0].value.startswith(EVIL) and sheet[1][0].quote_prefix and not sheet[1][0].has_formula
    assert own.headers["Content-Disposition"] == \
        "attachment; filename=bilan-evil-chiffres-cles-2026-09-01-2026-10-31.xlsx"


def test_a_coordinators_exports_hold_nothing_of_another_structure(client, login_as, coordinator_a, known):
    login_as(coordinator_a)
    for key in ("summary", "months", "themes", "confidence"):
        for fmt in ("csv", "xlsx"):
            response = client.get(f"{A}export/{key}.{fmt}", query_string=PERIOD)
            assert response.status_code == 200, (key, fmt)
            if fmt == "csv":
                text = response.get_data(as_text=True)
            else:  # below the title and the subtitle (which says when the figures were computed)
                text = repr(values(read_xlsx(response.get_data())[1][2:]))
            assert "Structure B" not in text and "Structure C" not in text
            assert "59" not in text, (key, fmt)  # the people helped of A and B together
    themes = {row[0]: row[1:] for row in read_csv(client.get(A + "export/themes.csv", query_string=PERIOD))}
    assert themes["Logement"] == ["0", "0%"] and themes["Total"] == ["9", "100%"]
    summary = {row[0]: row[1:] for row in read_csv(client.get(A + "export/summary.csv", query_string=PERIOD))}
    assert summary["Personnes aidées"][0] == "9" and summary["Heures de bénévolat"][0] == "7,5"
    assert client.get(A + "export/summary.csv", query_string=PERIOD).headers["Content-Disposition"] == \
        "attachment; filename=bilan-structure-a-chiffres-cles-2026-09-01-2026-10-31.csv"
    # No comparison of structures for a structure; nor the national files.
    assert client.get(A + "export/structures.csv", query_string=PERIOD).status_code == 404
    assert client.get(NATIONAL + "export/summary.csv", query_string=PERIOD).status_code == 403


def test_the_page_links_to_every_export_with_its_filters(client, login_as, supervisor, known):
    login_as(supervisor)
    body = client.get(NATIONAL, query_string={**PERIOD, "kind": "ccas"}).get_data(as_text=True)
    links = set(re.findall(r'href="(/supervision/impact/export/[^"]+)"', body))
    for key in ("summary", "structures", "months", "themes", "confidence"):
        for fmt in ("csv", "xlsx"):
            assert f"/supervision/impact/export/{key}.{fmt}?start=2026-09-01&amp;end=2026-10-31&amp;kind=ccas" \
                in links
    body = client.get(A, query_string=PERIOD).get_data(as_text=True)
    assert f'href="{A}export/themes.xlsx?start=2026-09-01&amp;end=2026-10-31"' in body
    assert "export/structures" not in body


@pytest.mark.parametrize("url", [
    NATIONAL + "export/volunteers.csv", NATIONAL + "export/months.pdf", NATIONAL + "export/months",
    A + "export/structures.xlsx", A + "export/summary.ods",
])
def test_an_unknown_table_or_format_is_not_found(client, login_as, supervisor, tenant_a, url):
    login_as(supervisor)
    assert client.get(url).status_code == 404


def test_an_export_with_wrong_dates_is_refused_rather_than_another_period(client, login_as, supervisor, tenant_a):
    login_as(supervisor)
    assert client.get(NATIONAL + "export/months.csv", query_string={"start": "2026-10-31",
                                                                     "end": "2026-09-01"}).status_code == 400
    assert client.get(A + "export/months.csv", query_string={"start": "pas une date"}).status_code == 400
    assert client.get(NATIONAL + "export/months.csv").status_code == 200  # no dates: the default period


def test_the_progress_matrix_csv_still_neutralises_formulas(client, login_as, coordinator_a, tenant_a):
    make_membership(tenant_a, make_user(full_name=EVIL), Role.VOLUNTEER)
    login_as(coordinator_a)
    rows = read_csv(client.get(A.replace("/impact/", "/training/progress.csv")))
    assert ["'" + EVIL] == [row[0] for row in rows if "HYPERLINK" in row[0]]


# --- the helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("=1+1", "'=1+1"), ("+33 6", "'+33 6"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("Lens", "Lens"), ("", ""), (None, ""), ("a=b", "a=b"),
])
def test_csv_safe(text, expected):
    assert csv_safe(text) == expected


def test_csv_cells_numbers_rates_and_blanks(app):
    with app.test_request_context():
        data = csv_bytes(["Nom", "=Somme"], [["Lens", 1234, 7.5, Rate(0.755), Rate(None), None, "-3"]])
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    assert text[1:].split("\r\n") == ["Nom;'=Somme", "Lens;1234;7,5;75,5%;;;'-3", ""]


def test_sheet_names_follow_excel_rules():
    assert sheet_name("Évolution: mois/mois [2026]?") == "Évolution mois mois 2026"
    assert len(sheet_name("x" * 50)) == 31
    assert sheet_name("'[]'") == "Tableau"


def test_xlsx_cells_are_typed_and_never_formulas(app):
    with app.test_request_context():
        data = xlsx_bytes(["Nom", "Nombre", "Taux"], [["=1+1", 3, Rate(0.5)], ["Lens", 2.25, Rate(None)]],
                          title="Essai")
    _name, rows = read_xlsx(data)
    assert values(rows) == [["Essai"], ["Nom", "Nombre", "Taux"], ["=1+1", 3.0, 0.5], ["Lens", 2.25, None]]
    formula_like, count, rate = rows[2]
    assert formula_like.is_text and formula_like.quote_prefix and not formula_like.has_formula
    assert not count.is_text and count.number_format == "#,##0"
    assert rate.number_format == "0%"
    assert rows[3][1].number_format == "#,##0.0#"


def test_table_response_refuses_an_unknown_format(app):
    with app.test_request_context(), pytest.raises(ValueError):
        table_response(Table("Essai", ["a"], [["b"]]), "ods", "essai")
