"""Required enquiry fields: a table of realistic mails, precision/recall, and unit cases."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mail_ingest.environment import describe, normalise_environment
from mail_ingest.fields import FIELD_NAMES, RequiredFields, extract_required_fields, merge
from tests.unit.mail_ingest.enquiries import ENQUIRIES, Enquiry

# Misses we know about and keep in the table so the figures stay honest.
KNOWN_MISSES: dict[tuple[str, str], str] = {
    ("en-company-no-suffix-in-sentence", "organisation"): (
        "a company name with no legal form or label is not recognised in free text"
    ),
    ("ja-desk-number-mentioned", "contact"): (
        "a number the sender says they called is taken as the sender's own"
    ),
}

PRECISION_FLOOR = 0.95
RECALL_FLOOR = 0.95


def _key(text: str) -> str:
    """Compare loosely: NFKC, case-folded, without spaces and dashes."""
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text).casefold())


def _matches(field: str, expected: str, got: str) -> bool:
    """True when the extracted value holds the expected key part."""
    if _key(expected) in _key(got):
        return True
    return field == "environment" and _key(expected) in _key(describe(normalise_environment(got)))


def _outcome(field: str, expected: str | None, got: str | None) -> str:
    """Classify one field of one mail: tp, tn, fp, fn, or wrong (an fp and an fn at once)."""
    if expected is None:
        return "tn" if got is None else "fp"
    if got is None:
        return "fn"
    return "tp" if _matches(field, expected, got) else "wrong"


def _cases() -> list[object]:
    """One pytest param per (mail, field), known misses marked as strict xfail."""
    params: list[object] = []
    for enquiry in ENQUIRIES:
        for field in FIELD_NAMES:
            reason = KNOWN_MISSES.get((enquiry.name, field))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(enquiry, field, id=f"{enquiry.name}-{field}", marks=marks))
    return params


def test_table_has_enough_varied_enquiries() -> None:
    """The table is big enough and mixes Japanese and English mails."""
    names = [e.name for e in ENQUIRIES]
    assert len(names) >= 60
    assert len(set(names)) == len(names)
    assert sum(n.startswith("ja-") for n in names) >= 30
    assert sum(n.startswith("en-") for n in names) >= 15


@pytest.mark.parametrize(("enquiry", "field"), _cases())
def test_enquiry_field(enquiry: Enquiry, field: str) -> None:
    """Each mail yields the expected key part for each field, or None."""
    got = getattr(extract_required_fields(enquiry.body), field)
    assert _outcome(field, getattr(enquiry, field), got) in {"tp", "tn"}, got


def test_precision_and_recall_per_field(capsys: pytest.CaptureFixture[str]) -> None:
    """Per-field precision and recall over the table stay above honest floors."""
    counts = {field: dict.fromkeys(("tp", "tn", "fp", "fn"), 0) for field in FIELD_NAMES}
    for enquiry in ENQUIRIES:
        found = extract_required_fields(enquiry.body)
        for field in FIELD_NAMES:
            outcome = _outcome(field, getattr(enquiry, field), getattr(found, field))
            for kind in ("fp", "fn") if outcome == "wrong" else (outcome,):
                counts[field][kind] += 1
    lines = [f"required fields over {len(ENQUIRIES)} enquiries:"]
    for field, c in counts.items():
        precision = c["tp"] / (c["tp"] + c["fp"])
        recall = c["tp"] / (c["tp"] + c["fn"])
        lines.append(
            f"  {field:<13} precision {precision:.3f}  recall {recall:.3f}  "
            f"(tp {c['tp']} fp {c['fp']} fn {c['fn']} tn {c['tn']})"
        )
        assert precision >= PRECISION_FLOOR, field
        assert recall >= RECALL_FLOOR, field
    with capsys.disabled():  # the figures are the point of this test: always show them
        print("\n" + "\n".join(lines))


# --- unit cases ----------------------------------------------------------------------------


def test_missing_lists_fields_in_fixed_order() -> None:
    """missing names the absent fields in the order organisation, contact, environment."""
    assert RequiredFields().missing == ("organisation", "contact", "environment")
    assert RequiredFields(contact="03-1234-5678").missing == ("organisation", "environment")
    assert RequiredFields("A", "B", "C").missing == ()
    assert RequiredFields("A", "B", "C").complete


def test_merge_fills_gaps_only() -> None:
    """A later message fills what is missing and never overwrites a known value."""
    known = RequiredFields(organisation="株式会社A", contact=None, environment="Windows 11")
    new = RequiredFields(organisation="株式会社B", contact="03-1234-5678", environment=None)
    merged = merge(known, new)
    assert merged == RequiredFields("株式会社A", "03-1234-5678", "Windows 11")
    assert merged.complete


def test_merge_with_nothing_new_keeps_known() -> None:
    """Merging an empty extraction changes nothing."""
    known = RequiredFields(organisation="X")
    assert merge(known, RequiredFields()) == known


def test_ticket_completes_over_two_messages() -> None:
    """Organisation in the first mail, contact and environment in the reply: complete."""
    first = extract_required_fields("株式会社ミライ\n届出ができません。")
    assert first.missing == ("contact", "environment")
    reply = extract_required_fields(
        "ご依頼の情報です。\n連絡先：03-1111-2222\n利用環境：Windows 11 / Edge\n\n"
        "2026年11月25日(水) 10:00 ヘルプデスク <help@example.jp>:\n> 機関名：株式会社ミライ"
    )
    assert reply.organisation is None
    assert merge(first, reply).complete


def test_environment_os_only_counts() -> None:
    """Only an OS (or only a browser) still counts as the environment given."""
    assert extract_required_fields("OS：Windows 11").environment == "Windows 11"
    assert extract_required_fields("ブラウザ：Firefox").environment == "Firefox"


def test_labelled_environment_lines_are_joined() -> None:
    """Separate OS and browser lines are kept together, as written."""
    found = extract_required_fields("OS：Windows 11\nブラウザ：Microsoft Edge 120")
    assert found.environment == "Windows 11 / Microsoft Edge 120"


def test_unlabelled_environment_is_described() -> None:
    """An OS and browser named in a sentence are stored in the normalised description."""
    found = extract_required_fields("Windows 11 の Edge で操作しています。")
    assert found.environment == "Windows 11 / Edge"


def test_contact_person_alone_is_not_contact() -> None:
    """担当者 with no phone or email is not contact details."""
    assert extract_required_fields("担当者：山田太郎").contact is None


def test_contact_person_with_phone_is_kept_in_front() -> None:
    """A contact person's name is kept with the number that makes it contact."""
    found = extract_required_fields("担当者：山田太郎\nTEL：03-1234-5678")
    assert found.contact == "山田太郎 / 03-1234-5678"


def test_fax_number_is_not_contact() -> None:
    """A FAX number alone is not a way to reach the sender."""
    assert extract_required_fields("株式会社A\nFAX 03-1234-5678").contact is None


def test_tel_fax_number_is_contact() -> None:
    """A shared TEL/FAX number is a phone number."""
    assert extract_required_fields("TEL/FAX：03-1234-5678").contact == "03-1234-5678"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("連絡先：03-1234-5678", "03-1234-5678"),
        ("連絡先：090-1234-5678", "090-1234-5678"),
        ("連絡先：0120-123-456", "0120-123-456"),
        ("連絡先：+81 3 1234 5678", "+81 3 1234 5678"),
        ("連絡先：０３－１２３４－５６７８", "03-1234-5678"),
        ("連絡先：03(1234)5678", "03(1234)5678"),
        ("ご連絡は 03−1234−5678 まで", "03-1234-5678"),
        ("お電話は090ー1234ー5678へ", "090-1234-5678"),
    ],
)
def test_japanese_phone_formats(text: str, expected: str) -> None:
    """Phone numbers in the usual Japanese formats, full-width too, count as contact."""
    assert extract_required_fields(text).contact == expected


@pytest.mark.parametrize(
    "text",
    ["2026-11-25 に提出しました", "〒100-0013 東京都千代田区", "法人番号 1234567890123"],
)
def test_dates_postcodes_and_ids_are_not_phones(text: str) -> None:
    """Numbers that only look like phone numbers are not contact."""
    assert extract_required_fields(text).contact is None


def test_email_in_body_is_contact() -> None:
    """An address written in the mail counts; full-width characters are normalised."""
    assert (
        extract_required_fields("ｙａｍａｄａ＠ｅｘａｍｐｌｅ．ｊｐ").contact == "yamada@example.jp"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("【機関名】株式会社A商事", "株式会社A商事"),
        ("[Company] Blue Inc.", "Blue Inc."),
        ("■機関名：B株式会社", "B株式会社"),
        ("・機関名：C日本語学校", "C日本語学校"),
        ("機関名 = D協同組合", "D協同組合"),
        ("機関名　E株式会社", "E株式会社"),
        ("所属機関名（正式名称）：株式会社F", "株式会社F"),
        ("Organisation: G Co., Ltd.", "G Co., Ltd."),
        ("Name of organization: H Academy", "H Academy"),
        ("| 学校名 | I日本語学院 |", "I日本語学院"),
        ("登録支援機関名\tJサポート株式会社", "Jサポート株式会社"),
    ],
)
def test_organisation_label_forms(text: str, expected: str) -> None:
    """Brackets, bullets, colons, =, full-width space, notes and table cells all work."""
    assert extract_required_fields(text).organisation == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("田中と申します。\n--\n株式会社サンプル 総務部 田中", "株式会社サンプル"),
        ("よろしくお願いします。\nサンプル株式会社", "サンプル株式会社"),
        ("よろしくお願いします。\n有限会社ミドリ", "有限会社ミドリ"),
        ("よろしくお願いします。\n合同会社ソラ", "合同会社ソラ"),
        ("よろしくお願いします。\n一般社団法人ひかり", "一般社団法人ひかり"),
        ("よろしくお願いします。\n東京中央日本語学院", "東京中央日本語学院"),
        ("よろしくお願いします。\n山田行政書士事務所", "山田行政書士事務所"),
        ("Regards,\nSakura Language School", "Sakura Language School"),
        ("Regards,\nKanto Cooperative", "Kanto Cooperative"),
    ],
)
def test_organisation_in_signature(text: str, expected: str) -> None:
    """Legal forms and school or cooperative names in a signature are recognised."""
    assert extract_required_fields(text).organisation == expected


@pytest.mark.parametrize(
    "text",
    [
        "日本語学校の定期報告について教えてください。",
        "事業協同組合とは何ですか。",
        "Does the Japanese Language School report need a seal?",
        "機関名：なし",
        "機関名：",
    ],
)
def test_generic_phrases_are_not_organisations(text: str) -> None:
    """A kind of organisation, a placeholder or an empty label is not a name."""
    assert extract_required_fields(text).organisation is None


def test_individual_counts_as_an_answer() -> None:
    """A resident answering 個人 has answered the organisation question."""
    assert extract_required_fields("機関名：個人").organisation == "個人"


def test_quoted_text_is_ignored() -> None:
    """Fields present only in the quoted earlier message are not extracted."""
    text = "ありがとうございます。\n\n> 機関名：株式会社A\n> 連絡先：03-1234-5678\n> OS：Windows"
    assert extract_required_fields(text) == RequiredFields()


def test_value_on_next_line_after_label_only_line() -> None:
    """A label alone on its line takes the following lines as its value."""
    found = extract_required_fields(
        "【連絡先】\n山田 太郎\nTEL 03-1234-5678\n\n【機関名】\nA株式会社"
    )
    assert found.contact == "山田 太郎 / TEL 03-1234-5678"
    assert found.organisation == "A株式会社"


def test_empty_template_lines_give_nothing() -> None:
    """Our request template pasted back unfilled yields no fields."""
    found = extract_required_fields("機関名：\n連絡先：\n利用環境：\n")
    assert found == RequiredFields()


def test_several_pairs_on_one_line() -> None:
    """Several labels on one line are split between their values."""
    found = extract_required_fields("会社名：株式会社A　TEL：03-1234-5678　OS：Windows 11")
    assert found == RequiredFields("株式会社A", "03-1234-5678", "Windows 11")


def test_empty_text() -> None:
    """An empty body gives nothing and never raises."""
    assert extract_required_fields("") == RequiredFields()


def test_long_pasted_log_keeps_head_and_signature() -> None:
    """A huge pasted log in the middle does not hide the fields at the top and bottom."""
    log = "ERROR 0000000000 at com.example.Foo(Foo.java:42)\n" * 5000
    body = f"機関名：株式会社ログ\nエラーログを貼ります。\n{log}--\n山田\nTEL 03-1234-5678"
    found = extract_required_fields(body)
    assert found.organisation == "株式会社ログ"
    assert found.contact == "03-1234-5678"


@given(st.text(max_size=400))
def test_never_raises_and_values_are_non_empty(text: str) -> None:
    """Any text gives a RequiredFields whose present values are non-empty strings."""
    found = extract_required_fields(text)
    for name in FIELD_NAMES:
        value = getattr(found, name)
        assert value is None or value.strip()
    assert merge(found, found) == found
