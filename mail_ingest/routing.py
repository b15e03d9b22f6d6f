"""Route an inbound mail to a desk by recipient address, sender domain and content keywords.

How a winner is chosen among matching rules, in order:
1. lower ``priority`` number;
2. more conditions given (a more specific rule);
3. more distinct keywords found in subject and body (a keyword found inside a longer
   matched keyword, like 特定技能 inside 特定技能所属機関, is not counted twice);
4. earlier position in the rule list.
So the SSW and school rules of the shared mailbox sit at the same priority and the mail's
content decides; on a tie the rule listed first (the SSW desk) wins, and mail to that mailbox
that matches neither falls to a recipient-only rule for the SSW desk.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parseaddr

__all__ = [
    "DEFAULT_SCHOOL_KEYWORDS",
    "DEFAULT_SSW_KEYWORDS",
    "RouteDecision",
    "Rule",
    "route",
    "shared_mailbox_rules",
]

DEFAULT_SSW_KEYWORDS: tuple[str, ...] = (
    "特定技能",
    "特定技能所属機関",
    "特定技能外国人",
    "特定技能雇用契約",
    "登録支援機関",
    "支援計画",
    "1号特定技能外国人支援計画",
    "受入れ困難",
    "specified skilled worker",
    "specified skilled workers",
    "SSW",
    "registered support organization",
    "registered support organisation",
    "support plan",
)

DEFAULT_SCHOOL_KEYWORDS: tuple[str, ...] = (
    "日本語教育機関",
    "日本語学校",
    "日本語学院",
    "告示基準",
    "定期報告",
    "在籍管理",
    "認定日本語教育機関",
    "Japanese language school",
    "Japanese-language school",
    "Japanese language institution",
    "Japanese-language institution",
    "Japanese language education institution",
    "Japanese-language education institution",
    "periodic report",
)


@dataclass(frozen=True)
class Rule:
    """Send mail to ``desk`` when every condition given here matches."""

    desk: str
    recipient: str | None = None
    keywords: tuple[str, ...] = ()
    sender_domain: str | None = None
    priority: int = 100

    @property
    def condition_count(self) -> int:
        """How many conditions the rule sets (its specificity)."""
        return sum(
            (self.recipient is not None, bool(self.keywords), self.sender_domain is not None)
        )


@dataclass(frozen=True)
class RouteDecision:
    """The desk chosen, the rule that chose it (None for the default) and why."""

    desk: str
    rule: Rule | None
    reason: str


def shared_mailbox_rules(
    mailbox: str, *, ssw_desk: str, school_desk: str, priority: int = 50
) -> tuple[Rule, ...]:
    """Rules for the mailbox the SSW and Japanese-language-school desks share."""
    return (
        Rule(ssw_desk, recipient=mailbox, keywords=DEFAULT_SSW_KEYWORDS, priority=priority),
        Rule(school_desk, recipient=mailbox, keywords=DEFAULT_SCHOOL_KEYWORDS, priority=priority),
        Rule(ssw_desk, recipient=mailbox, priority=priority + 1),
    )


def route(
    rules: Sequence[Rule],
    *,
    recipients: Sequence[str],
    subject: str,
    body: str,
    sender: str,
    default_desk: str,
) -> RouteDecision:
    """Choose the desk for one inbound mail; no matching rule gives ``default_desk``."""
    addresses = {_address(r) for r in recipients}
    text = _fold(f"{subject}\n{body}")
    domain = _address(sender).rpartition("@")[2]
    candidates: list[tuple[tuple[int, int, int, int], Rule, list[str]]] = []
    for index, rule in enumerate(rules):
        hits = _keyword_hits(rule.keywords, text)
        if _matches(rule, addresses, domain, hits):
            rank = (rule.priority, -rule.condition_count, -len(hits), index)
            candidates.append((rank, rule, hits))
    if not candidates:
        return RouteDecision(default_desk, None, "no rule matched: default desk")
    _rank, rule, hits = min(candidates, key=lambda c: c[0])
    return RouteDecision(rule.desk, rule, _reason(rule, hits, len(candidates)))


def _matches(rule: Rule, addresses: set[str], domain: str, hits: list[str]) -> bool:
    """True when every condition the rule gives holds."""
    if rule.recipient is not None and _address(rule.recipient) not in addresses:
        return False
    if rule.keywords and not hits:
        return False
    return rule.sender_domain is None or _in_domain(domain, rule.sender_domain)


def _address(value: str) -> str:
    """The bare, lower-cased address of "Name <addr>" or "addr"."""
    return parseaddr(value)[1].strip().lower()


def _in_domain(domain: str, wanted: str) -> bool:
    """True for the domain itself and its subdomains."""
    wanted = wanted.strip().lower().lstrip("@").lstrip(".")
    return bool(domain) and (domain == wanted or domain.endswith("." + wanted))


def _fold(text: str) -> str:
    """NFKC and case-fold, so full-width and upper-case forms match their plain forms."""
    return unicodedata.normalize("NFKC", text).casefold()


def _keyword_hits(keywords: tuple[str, ...], text: str) -> list[str]:
    """Distinct keywords found; longer ones first, their matches blanked out."""
    hits: list[str] = []
    for keyword in sorted(keywords, key=len, reverse=True):
        pattern = _keyword_pattern(_fold(keyword))
        text, count = pattern.subn("\0", text)
        if count:
            hits.append(keyword)
    return hits


def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    """ASCII keywords match whole words (SSW is not in "password"); others match anywhere."""
    escaped = re.escape(keyword).replace(r"\ ", r"\s+")
    if keyword.isascii():
        return re.compile(rf"(?<![a-z0-9]){escaped}(?![a-z0-9])")
    return re.compile(escaped)


def _reason(rule: Rule, hits: list[str], matched: int) -> str:
    """Say which conditions chose the rule, for the ticket's audit trail."""
    parts = [f"rule for desk {rule.desk!r} (priority {rule.priority})"]
    if rule.recipient is not None:
        parts.append(f"recipient {rule.recipient}")
    if rule.sender_domain is not None:
        parts.append(f"sender domain {rule.sender_domain}")
    if hits:
        parts.append(f"{len(hits)} keyword(s): {', '.join(hits)}")
    return "; ".join(parts) + f"; {matched} rule(s) matched"
