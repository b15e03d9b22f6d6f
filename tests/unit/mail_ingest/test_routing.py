"""Routing inbound mail to desks by recipient, sender domain and content."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from mail_ingest.routing import (
    DEFAULT_SCHOOL_KEYWORDS,
    DEFAULT_SSW_KEYWORDS,
    RouteDecision,
    Rule,
    route,
    shared_mailbox_rules,
)

SHARED = "ssw-jls@example.go.jp"
SYSTEM = "system@example.go.jp"
RULES = (
    *shared_mailbox_rules(SHARED, ssw_desk="ssw", school_desk="school"),
    Rule("system", recipient=SYSTEM),
)


def _route(
    subject: str,
    body: str = "",
    *,
    recipients: Sequence[str] = (SHARED,),
    sender: str = "someone@example.com",
    rules: Sequence[Rule] = RULES,
) -> RouteDecision:
    """Route with the shared-mailbox rules unless told otherwise."""
    return route(
        rules,
        recipients=recipients,
        subject=subject,
        body=body,
        sender=sender,
        default_desk="system",
    )


def test_keyword_lists_cover_the_brief() -> None:
    """The default keyword lists hold the terms the desks are known by."""
    for word in ("特定技能", "登録支援機関", "支援計画", "特定技能所属機関", "SSW"):
        assert word in DEFAULT_SSW_KEYWORDS
    for word in ("日本語教育機関", "日本語学校", "告示基準", "定期報告"):
        assert word in DEFAULT_SCHOOL_KEYWORDS


@pytest.mark.parametrize(
    ("subject", "body", "desk"),
    [
        ("特定技能所属機関の届出について", "", "ssw"),
        ("質問", "登録支援機関として支援計画の変更を届け出たい", "ssw"),
        ("Question", "We are a registered support organisation.", "ssw"),
        ("SSW notification", "", "ssw"),
        ("定期報告の提出", "", "school"),
        ("質問", "告示基準に基づく日本語教育機関の報告です", "school"),
        ("Periodic report", "We are a Japanese-language institution.", "school"),
        ("ログインできません", "パスワードを忘れました", "ssw"),
    ],
)
def test_shared_mailbox_routes_by_content(subject: str, body: str, desk: str) -> None:
    """Mail to the shared mailbox goes to the desk its content names; SSW by default."""
    assert _route(subject, body).desk == desk


def test_shared_mailbox_default_is_the_recipient_only_rule() -> None:
    """With no keyword the SSW desk gets it by the mailbox rule, not the global default."""
    decision = _route("ログインできません")
    assert decision.rule == Rule("ssw", recipient=SHARED, priority=51)


def test_both_desks_mentioned_more_hits_wins() -> None:
    """A school mail that mentions SSW once still goes to the school desk."""
    body = "日本語学校です。告示基準の定期報告について。卒業生が特定技能に移行しました。"
    decision = _route("質問", body)
    assert decision.desk == "school"
    assert "3 keyword(s)" in decision.reason


def test_both_desks_equal_hits_goes_to_first_rule() -> None:
    """On equal keyword hits the rule listed first (SSW) wins."""
    assert _route("特定技能と定期報告").desk == "ssw"


def test_nested_keywords_count_once() -> None:
    """特定技能所属機関 does not also count as 特定技能."""
    decision = _route("特定技能所属機関", "日本語学校の定期報告")
    assert decision.desk == "school"


def test_keywords_are_nfkc_and_case_insensitive() -> None:
    """Full-width and upper-case forms of a keyword match."""
    assert _route("ＳＳＷ　ｑｕｅｓｔｉｏｎ").desk == "ssw"
    assert _route("JAPANESE LANGUAGE SCHOOL report").desk == "school"


def test_ascii_keywords_match_whole_words_only() -> None:
    """ "password" does not contain the keyword SSW."""
    decision = _route("Forgot password", "I cannot reset my password")
    assert decision.rule is not None
    assert decision.rule.keywords == ()


def test_recipient_is_case_insensitive_and_display_names_are_ignored() -> None:
    """Recipients match on the bare address, in any case."""
    decision = _route("question", recipients=["Desk <SYSTEM@Example.GO.JP>"])
    assert decision.desk == "system"
    assert decision.rule == Rule("system", recipient=SYSTEM)


def test_keywords_do_not_route_mail_sent_to_another_mailbox() -> None:
    """Recipient is a condition: SSW words in mail to the system desk stay there."""
    assert _route("特定技能", recipients=[SYSTEM]).desk == "system"


def test_no_rule_matches_gives_default() -> None:
    """Mail to an unknown address falls to the default desk with no rule."""
    decision = _route("x", recipients=["other@example.com"])
    assert decision == RouteDecision("system", None, "no rule matched: default desk")


def test_sender_domain_includes_subdomains() -> None:
    """sender_domain matches the domain and its subdomains, not look-alikes."""
    rules = (Rule("partners", sender_domain="partner.example"),)
    assert _route("x", sender="a@partner.example", rules=rules).desk == "partners"
    assert _route("x", sender="Bob <b@tokyo.PARTNER.example>", rules=rules).desk == "partners"
    assert _route("x", sender="c@notpartner.example", rules=rules).desk == "system"


def test_lower_priority_number_wins() -> None:
    """Priority beats specificity."""
    rules = (
        Rule("specific", recipient=SHARED, keywords=("特定技能",), priority=50),
        Rule("urgent", keywords=("至急",), priority=10),
    )
    assert _route("至急 特定技能", rules=rules).desk == "urgent"


def test_more_specific_rule_wins_a_priority_tie() -> None:
    """On equal priority the rule with more conditions wins."""
    rules = (
        Rule("general", keywords=("特定技能",)),
        Rule("vip", keywords=("特定技能",), sender_domain="vip.example"),
    )
    assert _route("特定技能", sender="x@vip.example", rules=rules).desk == "vip"
    assert _route("特定技能", sender="x@other.example", rules=rules).desk == "general"


def test_all_conditions_must_match() -> None:
    """A rule with recipient and keyword needs both."""
    rules = (Rule("ssw", recipient=SHARED, keywords=("特定技能",)),)
    assert _route("特定技能", recipients=[SYSTEM], rules=rules).desk == "system"
    assert _route("hello", rules=rules).desk == "system"


def test_reason_names_the_rule_and_keywords() -> None:
    """The reason explains the choice for the audit trail."""
    reason = _route("登録支援機関です").reason
    assert "desk 'ssw'" in reason
    assert "登録支援機関" in reason
    assert SHARED in reason
