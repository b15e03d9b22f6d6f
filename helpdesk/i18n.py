"""The agents' UI in Japanese and English: a small dictionary chosen per request."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, g, request
from flask_login import current_user

LANGUAGES = ("en", "ja")

JA: dict[str, str] = {
    "Queue": "キュー",
    "Mine": "担当分",
    "All my desks": "担当窓口すべて",
    "New phone ticket": "電話受付の登録",
    "Search": "検索",
    "Sign out": "ログアウト",
    "Number": "番号",
    "Desk": "窓口",
    "Subject": "件名",
    "Status": "状態",
    "Priority": "優先度",
    "Assignee": "担当者",
    "Language": "言語",
    "Due": "期限",
    "Requester": "問い合わせ者",
    "Any": "すべて",
    "Unassigned": "未割当",
    "Me": "自分",
    "Awaiting information only": "情報待ちのみ",
    "Filter": "絞り込み",
    "Next page": "次のページ",
    "First page": "最初のページ",
    "No open tickets.": "未完了のチケットはありません。",
    "Selected tickets": "選択したチケット",
    "Assign to": "割り当て先",
    "Set status": "状態を変更",
    "Apply": "適用",
    "no change": "変更なし",
    "Thread": "やり取り",
    "Inbound": "受信",
    "Outbound": "送信",
    "Internal note": "内部メモ",
    "Earlier messages": "以前のメッセージ",
    "Formatted version (HTML)": "書式付き表示 (HTML)",
    "Attachments": "添付ファイル",
    "Refused": "受信拒否",
    "Reply to requester": "問い合わせ者へ返信",
    "Send reply": "返信を送信",
    "Canned answer": "定型文",
    "Insert": "挿入",
    "Add note": "メモを追加",
    "Note (never sent)": "メモ(送信されません)",
    "Required fields": "必須項目",
    "Organisation": "機関名",
    "Contact": "連絡先",
    "Environment (OS / browser)": "利用環境(OS・ブラウザ)",
    "Save fields": "項目を保存",
    "SLA clocks": "SLA",
    "First response due": "初回回答期限",
    "Resolution due": "解決期限",
    "First response at": "初回回答日時",
    "State": "状況",
    "Change": "変更",
    "Move to desk": "窓口を移動",
    "Move": "移動",
    "History": "履歴",
    "Files": "ファイル",
    "Question": "問い合わせ内容",
    "Record the question as": "問い合わせ内容の記録方法",
    "Requester name": "問い合わせ者名",
    "Requester email": "問い合わせ者メール",
    "Open ticket": "チケットを登録",
    "Results": "検索結果",
    "No tickets found.": "該当するチケットはありません。",
    "is viewing": "が閲覧中",
    "is replying": "が返信中",
    "Read only: you may not change tickets of this desk.": (
        "閲覧のみ: この窓口のチケットは変更できません。"
    ),
    "ok": "期限内",
    "near": "期限間近",
    "breached": "期限超過",
    "paused": "停止中",
    "done": "完了",
    "new": "新規",
    "open": "対応中",
    "awaiting_customer": "回答待ち",
    "awaiting_information": "情報待ち",
    "resolved": "解決済み",
    "closed": "終了",
    "low": "低",
    "normal": "通常",
    "high": "高",
    "urgent": "緊急",
    "email": "メール",
    "phone": "電話",
    "web": "ウェブ",
    "overdue by": "超過",
    "in": "残り",
    "system": "システム",
}
EN: dict[str, str] = {
    "ok": "On time",
    "near": "Due soon",
    "breached": "Breached",
    "paused": "Paused",
    "done": "Done",
    "new": "New",
    "open": "Open",
    "awaiting_customer": "Awaiting customer",
    "awaiting_information": "Awaiting information",
    "resolved": "Resolved",
    "closed": "Closed",
    "low": "Low",
    "normal": "Normal",
    "high": "High",
    "urgent": "Urgent",
    "email": "Email",
    "phone": "Phone",
    "web": "Web",
}
MESSAGES: dict[str, dict[str, str]] = {"ja": JA, "en": EN}
_NONE: Mapping[str, str] = {}


def choose_language() -> str:
    """The user's saved locale, else the browser's preferred one of ja/en."""
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return str(current_user.locale)
    return request.accept_languages.best_match(LANGUAGES, default="en") or "en"


def current_language() -> str:
    """The language of this request."""
    lang = g.get("lang")
    if lang is None:
        lang = g.lang = choose_language()
    return str(lang)


def translations(lang: str | None = None) -> Mapping[str, str]:
    """The labels of ``lang`` (the request's by default), for code that translates many."""
    return MESSAGES.get(lang or current_language(), _NONE)


def gettext(text: str) -> str:
    """Translate a UI label into the request's language (the English text is the key)."""
    return translations().get(text, text)


def init_app(app: Flask) -> None:
    """Make ``_`` available to templates and pick the language before each request."""
    app.add_template_global(gettext, "_")

    @app.before_request
    def pick_language() -> None:
        g.lang = choose_language()
