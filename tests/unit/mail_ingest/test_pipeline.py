"""The pipeline's analysis of one message: an attachment's content is inspected once."""

from mail_ingest import pipeline
from mail_ingest.policy import inspect
from tests.support import mailsamples, samplefiles
from tests.support.enquiries import COMPLETE_EN, enquiry


def _analyse(raw):
    return pipeline.analyse(raw, rules=(), default_desk="d", own_addresses=())


def test_the_same_content_is_inspected_once_whatever_its_name(monkeypatch):
    seen = []

    def counting(filename, content, **options):
        seen.append(filename)
        return inspect(filename, content, **options)

    monkeypatch.setattr(pipeline, "inspect", counting)
    monkeypatch.setattr(pipeline, "_INSPECTIONS", type(pipeline._INSPECTIONS)())
    exe = samplefiles.pe_executable()
    first = _analyse(enquiry(COMPLETE_EN, attachments=[("logo.png", exe, "image/png")]))
    again = _analyse(
        enquiry(COMPLETE_EN, attachments=[("tool.exe", exe, "application/octet-stream")])
    )
    assert seen == ["logo.png"]  # libmagic and the content checks ran once
    # Each answer is what inspecting it afresh gives, its own name's extension included.
    assert first.inspections == (inspect("logo.png", exe),)
    assert again.inspections == (inspect("tool.exe", exe),)
    assert again.inspections[0].extension == "exe" and first.inspections[0].finding


def test_the_kept_inspections_are_bounded(monkeypatch):
    monkeypatch.setattr(pipeline, "_INSPECTIONS", type(pipeline._INSPECTIONS)())
    monkeypatch.setattr(pipeline, "_INSPECTIONS_KEPT", 3)
    for i in range(5):
        content = samplefiles.pdf() + str(i).encode()
        _analyse(enquiry(COMPLETE_EN, attachments=[(f"{i}.pdf", content, "application/pdf")]))
    assert len(pipeline._INSPECTIONS) == 3


def test_parts_not_kept_are_judged_with_the_parsers_reason():
    """An omitted part has no content to judge: its verdict says why it was not kept, and
    names the file's own size when that is over the limit for a file too."""
    raw = mailsamples.big_message(3_000_000)
    analysis = pipeline.analyse(
        raw, rules=(), default_desk="d", own_addresses=(), max_bytes=len(raw) // 2
    )
    (judged,) = pipeline.judge_attachments(
        analysis.parsed.attachments, analysis.inspections, attachment_max_bytes=1_000_000
    )
    assert (judged.verdict.allowed, judged.verdict.reason) == (False, "message_too_large")
    assert "3000000 bytes" in judged.verdict.detail and judged.verdict.extension == "pdf"

    many = _analyse(mailsamples.many_attachments(1_100))
    verdicts = pipeline.judge_attachments(many.parsed.attachments, many.inspections)
    reasons = [j.verdict.reason for j in verdicts if not j.verdict.allowed]
    assert reasons == ["too_many_parts"] * 20 and len(verdicts) == 998 + 20
