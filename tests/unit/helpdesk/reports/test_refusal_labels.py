"""Every reason a file can be refused or not kept has a word in the reports."""

from helpdesk.reports.services import REFUSAL_LABELS
from mail_ingest.policy import AttachmentReason


def test_every_refusal_reason_has_a_label():
    accepted = {AttachmentReason.OK, AttachmentReason.EMPTY_NAME_OK}
    assert set(REFUSAL_LABELS) == set(AttachmentReason) - accepted
