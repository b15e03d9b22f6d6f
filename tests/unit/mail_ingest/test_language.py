"""Language detection for choosing the reply language."""

from __future__ import annotations

import pytest

from mail_ingest.language import Language, detect_language


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("お世話になっております。ログインできません。", "ja"),
        ("特定技能所属機関の届出について", "ja"),
        ("定期報告提出方法", "ja"),
        ("ｶﾀｶﾅﾃﾞｽ", "ja"),
        ("Hello, I cannot log in to the electronic notification system. Please help.", "en"),
        ("Xin chào, tôi muốn hỏi về hệ thống thông báo điện tử của Cục Xuất nhập cảnh.", "vi"),
        ("我想咨询一下电子申报系统的使用方法，请问如何登录？谢谢。", "zh-cn"),
        (
            "您好，我們公司想詢問電子申報系統的使用方法。請問外國人員的資料應該如何登錄？謝謝。",
            "zh-tw",
        ),
        ("안녕하세요. 전자신고 시스템에 로그인할 수 없습니다.", "ko"),
        (
            "Magandang araw po, hindi po ako makapag-login sa sistema ng electronic notification.",
            "tl",
        ),
        ("Olá, não consigo entrar no sistema de notificação eletrônica da imigração.", "pt"),
    ],
)
def test_detects_language(text: str, code: str) -> None:
    """Kana means Japanese; other languages come from script checks or py3langid."""
    assert detect_language(text).code == code


@pytest.mark.parametrize(("text", "reply"), [("ログインできません", "ja"), ("Login fails", "en")])
def test_reply_language(text: str, reply: str) -> None:
    """Japanese mail is answered in Japanese, everything else in English."""
    assert detect_language(text).reply_language == reply


def test_chinese_is_answered_in_english() -> None:
    """Chinese has kanji but no kana: it is not Japanese."""
    assert detect_language("我想咨询一下电子申报系统的使用方法，请问如何登录？") == Language(
        "zh-cn", "en"
    )


@pytest.mark.parametrize("text", ["", "   ", "12345", "OK", "https://example.jp a@b.jp"])
def test_too_little_text_is_undetermined(text: str) -> None:
    """Empty or nearly empty text is "und", answered in English."""
    assert detect_language(text) == Language("und", "en")


def test_english_mail_with_japanese_signature_is_english() -> None:
    """A Japanese company name in the signature does not make the mail Japanese."""
    text = "Hello, I cannot log in.\n--\n株式会社サクラ 山田"
    assert detect_language(text) == Language("en", "en")


def test_short_plain_english_is_english() -> None:
    """A statistical guess on a few words is wild; short ASCII text is English."""
    assert detect_language("Hello I cannot login.").code == "en"


def test_quoted_japanese_does_not_decide() -> None:
    """An English reply quoting our Japanese request is English."""
    text = (
        "Here is the information you asked for.\n\n"
        "2026年11月25日(水) 10:00 ヘルプデスク <h@x.jp>:\n> 機関名、連絡先をお知らせください。"
    )
    assert detect_language(text).code == "en"


def test_only_quoted_text_is_used_when_nothing_new() -> None:
    """With no new text the quoted text is read rather than giving up."""
    assert detect_language("> ログインできません").code == "ja"


def test_deterministic() -> None:
    """The same ambiguous text always gets the same code."""
    text = "Bonjour, je ne peux pas me connecter au système de notification."
    assert len({detect_language(text).code for _ in range(20)}) == 1
