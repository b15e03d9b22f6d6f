"""Environment normalisation from free text and from User-Agent headers."""

from __future__ import annotations

import pytest

from mail_ingest.environment import (
    Environment,
    describe,
    environment_from_user_agent,
    normalise_environment,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Windows 11 の Edge で", Environment("Windows", "11", "Edge", None)),
        ("on macOS Sonoma with Safari 17", Environment("macOS", "14", "Safari", "17")),
        ("iPhoneのSafari", Environment("iOS", None, "Safari", None)),
        ("Chromeを使っています", Environment(None, None, "Chrome", None)),
        ("ウィンドウズ10でグーグルクローム", Environment("Windows", "10", "Chrome", None)),
        ("マック　サファリ", Environment("macOS", None, "Safari", None)),
        ("Win11 / Microsoft Edge 120", Environment("Windows", "11", "Edge", "120")),
        ("ＷＩＮＤＯＷＳ１１　ｸﾛｰﾑ", Environment("Windows", "11", "Chrome", None)),
        ("エッジ", Environment(None, None, "Edge", None)),
        ("ファイアフォックス", Environment(None, None, "Firefox", None)),
        ("Firefox バージョン 121", Environment(None, None, "Firefox", "121")),
        (
            "Android 14 / Samsung Internet 23",
            Environment("Android", "14", "Samsung Internet", "23"),
        ),
        ("iPad Chrome", Environment("iPadOS", None, "Chrome", None)),
        ("iPadOS 17", Environment("iPadOS", "17", None, None)),
        ("iOS 17.2", Environment("iOS", "17.2", None, None)),
        ("Chromebookで", Environment("ChromeOS", None, None, None)),
        ("Ubuntu 22.04 + Firefox", Environment("Linux", None, "Firefox", None)),
        ("Win10のIE", Environment("Windows", "10", "Internet Explorer", None)),
        ("IE11", Environment(None, None, "Internet Explorer", "11")),
        ("Opera 106", Environment(None, None, "Opera", "106")),
        ("windows xp", Environment("Windows", "XP", None, None)),
        ("Windows 8.1", Environment("Windows", "8.1", None, None)),
    ],
)
def test_normalise_free_text(text: str, expected: Environment) -> None:
    """Japanese and English forms, full- and half-width, give the same families."""
    assert normalise_environment(text) == expected


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("macOS Sonoma", "14"),
        ("macOS 14 Sonoma", "14"),
        ("macOS 14.2 Sonoma", "14"),
        ("Ventura", "13"),
        ("macOS Sequoia", "15"),
        ("Monterey", "12"),
        ("macOS Tahoe", "26"),
        ("Mac OS X 10.15", "10.15"),
        ("MacBook Air", None),
    ],
)
def test_macos_names_map_to_versions(text: str, version: str | None) -> None:
    """macOS release names become their version numbers."""
    env = normalise_environment(text)
    assert env.os_family == "macOS"
    assert env.os_version == version


@pytest.mark.parametrize(
    "text",
    [
        "knowledge base",
        "cutting-edge service",
        "株式会社マックス",
        "サファリパーク",
        "password",
        "",
    ],
)
def test_no_false_environment(text: str) -> None:
    """Words that merely contain a product name are not an environment."""
    assert not normalise_environment(text).is_known


def test_earliest_mention_wins() -> None:
    """When two browsers are named, the first one said is kept."""
    assert normalise_environment("Edgeでは駄目で、Chromeでも駄目").browser_family == "Edge"


@pytest.mark.parametrize(
    ("env", "text"),
    [
        (Environment("Windows", "11", "Edge", "120"), "Windows 11 / Edge 120"),
        (Environment("macOS", None, None, None), "macOS"),
        (Environment(None, None, "Safari", "17"), "Safari 17"),
        (Environment("Windows", "10/11", "Chrome", "120"), "Windows 10/11 / Chrome 120"),
        (Environment(), "unknown"),
    ],
)
def test_describe(env: Environment, text: str) -> None:
    """describe() gives the short form agents read."""
    assert describe(env) == text


EDGE_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91"
)
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
)
CHROME_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1"
)
SAMSUNG = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36"
)
IE_WIN7 = "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko"
CHROMEOS = (
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


@pytest.mark.parametrize(
    ("ua", "expected"),
    [
        (EDGE_WIN, Environment("Windows", "10/11", "Edge", "120")),
        (SAFARI_MAC, Environment("macOS", None, "Safari", "17")),
        (SAFARI_IPHONE, Environment("iOS", "17.2", "Safari", "17")),
        (CHROME_IPAD, Environment("iPadOS", "17.2", "Chrome", "120")),
        (SAMSUNG, Environment("Android", "14", "Samsung Internet", "23")),
        (IE_WIN7, Environment("Windows", "7", "Internet Explorer", "11")),
        (CHROMEOS, Environment("ChromeOS", None, "Chrome", "120")),
        (FIREFOX_LINUX, Environment("Linux", None, "Firefox", "121")),
        ("garbage", Environment()),
        ("", Environment()),
    ],
)
def test_user_agent(ua: str, expected: Environment) -> None:
    """User-Agent headers map onto the same families; frozen versions are not invented."""
    assert environment_from_user_agent(ua) == expected


def test_windows_11_cannot_be_told_from_10_by_user_agent() -> None:
    """Windows 11 sends "Windows NT 10.0", so the description says 10/11."""
    assert describe(environment_from_user_agent(EDGE_WIN)) == "Windows 10/11 / Edge 120"
