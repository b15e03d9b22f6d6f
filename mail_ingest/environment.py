"""Usage environment (OS / browser): normalised from free text or from a User-Agent header."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ua_parser import parse as parse_user_agent

__all__ = ["Environment", "describe", "environment_from_user_agent", "normalise_environment"]


@dataclass(frozen=True)
class Environment:
    """An operating system and a browser, each with an optional version."""

    os_family: str | None = None
    os_version: str | None = None
    browser_family: str | None = None
    browser_version: str | None = None

    @property
    def is_known(self) -> bool:
        """True when an OS or a browser was recognised."""
        return self.os_family is not None or self.browser_family is not None


MACOS_NAMES: dict[str, str] = {
    "tahoe": "26",
    "sequoia": "15",
    "sonoma": "14",
    "ventura": "13",
    "monterey": "12",
    "big sur": "11",
    "catalina": "10.15",
    "mojave": "10.14",
    "high sierra": "10.13",
}

# ASCII word edges: \b would treat the kana of "Chromeを" as part of the word.
_L = r"(?<![a-z0-9])"
_R = r"(?![a-z0-9])"
# Katakana names must not run on into a longer word (マックス, サファリパーク).
_KR = r"(?![ァ-ヺー])"
_VERSION = r"(?:\s*(?:ver(?:sion)?\.?|バージョン)?\s*(?P<v>\d+(?:\.\d+)?))?"
_MAC_NAME = "|".join(MACOS_NAMES)

# Order matters: ChromeOS before Chrome, iPadOS before iOS; each pattern is tried on the
# NFKC-normalised text and the earliest mention in the text wins.
_OS_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ChromeOS", re.compile(r"chrome\s?os|chromebook|クロームブック", re.I)),
    (
        "Windows",
        re.compile(
            rf"(?:{_L}windows|{_L}win(?=\s?(?:11|10|8|7){_R})|ウィンドウズ|ウインドウズ)"
            r"(?:\s*(?P<v>11|10|8\.1|8|7|vista|xp)(?![\d.]))?",
            re.I,
        ),
    ),
    (
        "iPadOS",
        re.compile(
            rf"{_L}ipad\s?os(?:\s*(?P<v>\d+(?:\.\d+)?))?|{_L}ipad{_R}|アイパッド{_KR}", re.I
        ),
    ),
    (
        "iOS",
        re.compile(rf"{_L}ios(?:\s*(?P<v>\d+(?:\.\d+)?))?{_R}|iphone|アイフォー?ン{_KR}", re.I),
    ),
    (
        "macOS",
        re.compile(
            rf"{_L}mac\s?os(?:\s?x)?(?:\s*(?P<v>\d+(?:\.\d+)?))?(?:\s*(?P<n>{_MAC_NAME}))?"
            rf"|{_L}(?P<n2>{_MAC_NAME}){_R}|{_L}mac(?:book(?:\s?(?:air|pro))?|intosh)?{_R}|{_L}imac{_R}"
            rf"|マック{_KR}|マッキントッシュ",
            re.I,
        ),
    ),
    (
        "Android",
        re.compile(
            rf"{_L}android(?:\s*(?P<v>\d+(?:\.\d+)?))?|アンドロイド{_KR}|{_L}(?:galaxy|pixel|xperia|aquos){_R}",
            re.I,
        ),
    ),
    ("Linux", re.compile(rf"{_L}(?:linux|ubuntu|debian|fedora){_R}|リナックス{_KR}", re.I)),
)


def _browser(names: str) -> re.Pattern[str]:
    """Compile a browser pattern: any of the names, then an optional version."""
    return re.compile(rf"(?:{names}){_VERSION}", re.I)


_BROWSER_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Samsung Internet", _browser(rf"samsung\s?internet|サムスンインターネット{_KR}")),
    (
        "Internet Explorer",
        re.compile(
            rf"(?:internet\s?explorer|インターネット・?エクスプローラー?{_KR}){_VERSION}|(?-i:{_L}IE)(?:\s?(?P<v2>\d+))?{_R}",
            re.I,
        ),
    ),
    (
        "Edge",
        _browser(rf"(?:{_L}microsoft\s?)?(?<![a-z0-9-])edge{_R}|(?:マイクロソフト・?)?エッジ{_KR}"),
    ),
    (
        "Chrome",
        _browser(rf"(?:{_L}google\s?)?{_L}chrome{_R}(?!\s?os|book)|(?:グーグル・?)?クローム{_KR}"),
    ),
    (
        "Firefox",
        _browser(rf"{_L}fire\s?fox{_R}|ファイア?ー?フォックス{_KR}|ファイヤー?フォックス{_KR}"),
    ),
    ("Safari", _browser(rf"{_L}safari{_R}|サファリ{_KR}")),
    ("Opera", _browser(rf"{_L}opera{_R}|オペラ{_KR}")),
)


def normalise_environment(text: str) -> Environment:
    """Recognise the OS and browser named in free text (Japanese or English)."""
    folded = unicodedata.normalize("NFKC", text)
    os_family, os_version = _first_match(_OS_PATTERNS, folded)
    browser_family, browser_version = _first_match(_BROWSER_PATTERNS, folded)
    return Environment(os_family, os_version, browser_family, browser_version)


def _first_match(
    patterns: tuple[tuple[str, re.Pattern[str]], ...], text: str
) -> tuple[str | None, str | None]:
    """Return (family, version) of the pattern matching earliest in the text."""
    best: tuple[int, str, re.Match[str]] | None = None
    for family, pattern in patterns:
        match = pattern.search(text)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), family, match)
    if best is None:
        return None, None
    return best[1], _version(best[1], best[2])


def _version(family: str, match: re.Match[str]) -> str | None:
    """Pick the version out of a match; macOS names map to their major version."""
    groups = {k: v for k, v in match.groupdict().items() if v}
    name = groups.get("n") or groups.get("n2")
    if family == "macOS" and name:
        named = MACOS_NAMES[name.lower()]
        return named if "v" not in groups else _macos_major(groups["v"])
    version = groups.get("v") or groups.get("v2")
    if version is None:
        return None
    if family == "macOS":
        return _macos_major(version)
    if family == "Windows":
        return {"vista": "Vista", "xp": "XP"}.get(version.lower(), version)
    return version


def _macos_major(version: str) -> str:
    """Keep 10.x versions whole (10.15); from macOS 11 on only the major number matters."""
    return version if version.startswith("10.") else version.split(".")[0]


def describe(env: Environment) -> str:
    """Render an environment for agents, e.g. "Windows 11 / Edge 120"."""
    parts = [
        " ".join(p for p in (env.os_family, env.os_version) if p),
        " ".join(p for p in (env.browser_family, env.browser_version) if p),
    ]
    text = " / ".join(p for p in parts if p)
    return text or "unknown"


_UA_BROWSERS: tuple[tuple[str, str], ...] = (
    ("Samsung Internet", "Samsung Internet"),
    ("Edge", "Edge"),
    ("IE", "Internet Explorer"),
    ("Opera", "Opera"),
    ("Firefox", "Firefox"),
    ("Chrome", "Chrome"),
    ("Mobile Safari", "Safari"),
    ("Safari", "Safari"),
)

_UA_OS: dict[str, str] = {
    "Windows": "Windows",
    "Mac OS X": "macOS",
    "iOS": "iOS",
    "Android": "Android",
    "Chrome OS": "ChromeOS",
    "Linux": "Linux",
    "Ubuntu": "Linux",
    "Debian": "Linux",
    "Fedora": "Linux",
}


def environment_from_user_agent(ua: str) -> Environment:
    """Read the OS and browser from a User-Agent header (via ua-parser)."""
    result = parse_user_agent(ua)
    browser_family = browser_version = None
    if result.user_agent is not None:
        family = result.user_agent.family
        browser_family = next((name for key, name in _UA_BROWSERS if family.startswith(key)), None)
        browser_version = result.user_agent.major if browser_family else None
    os_family = os_version = None
    if result.os is not None and result.os.family in _UA_OS:
        os_family = _UA_OS[result.os.family]
        os_version = _ua_os_version(os_family, result.os.major, result.os.minor)
        if os_family == "iOS" and result.device is not None and result.device.family == "iPad":
            os_family = "iPadOS"
    return Environment(os_family, os_version, browser_family, browser_version)


def _ua_os_version(family: str, major: str | None, minor: str | None) -> str | None:
    """Turn UA version numbers into what a person would say, honest about frozen values."""
    if major is None or family in {"ChromeOS", "Linux"}:
        return None
    if family == "Windows":
        # Windows 11 still sends "Windows NT 10.0": the UA cannot tell 10 from 11.
        return "10/11" if major == "10" else major
    if family == "macOS":
        # Browsers freeze macOS at 10.15.7 since Big Sur: the real version is hidden.
        if major == "10" and minor == "15":
            return None
        return f"{major}.{minor}" if major == "10" and minor else major
    return f"{major}.{minor}" if minor else major
