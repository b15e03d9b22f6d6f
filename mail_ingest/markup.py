"""Mail HTML: how costly it is to clean, its text, and the cleaning itself. Pure.

nh3 (html5ever under it) takes time that grows with the square of the nesting depth (200,000
nested ``<div>``s: 89 s) and copies formatting elements that are left open into every block
that follows (47 KB of them made 28 MB in 1.2 s); Python's ``HTMLParser`` is quadratic on some
malformed input (200 KB of ``<a`` took 27 s). So the markup is read here with a tokenizer that
is linear whatever the input, and before nh3 sees it, ``withheld_reason`` follows, roughly and
erring on the deep side, the stack of open elements an HTML5 parser would build: HTML longer
than HTML_MAX_CHARS, nested deeper than HTML_MAX_DEPTH or reopening more than
HTML_MAX_REOPENED formatting elements is not cleaned at all (the caller keeps the text and
says why). ``html_to_text`` renders the same tokens.

``sanitize_html`` removes scripts, styles, event handlers, inline CSS and non-web URL schemes,
keeps ``cid:`` images so the UI can point them at the stored inline attachment, and drops every
other image source, which blocks tracking pixels and remote content.
"""

from __future__ import annotations

import enum
import html
import re
from collections.abc import Callable, Generator, Iterator
from functools import cache
from urllib.parse import unquote

import nh3

# Real mail stays far below these: newsletters of layout tables nest 30-60 elements deep, a
# long thread with each reply quoted inside the next a few hundred (Blink's own HTML parser
# stops nesting at 512), and the largest HTML bodies, long quoted threads and reports, are a
# few hundred KB. Below them nh3 takes a fraction of a second (bench/hostile_html.py).
HTML_MAX_CHARS = 1_000_000
HTML_MAX_DEPTH = 1_000
HTML_MAX_REOPENED = 100_000  # formatting elements an HTML5 parser would copy back in


class HtmlWithheld(enum.StrEnum):
    """Why an HTML part was too costly to clean, so not kept (``Message.html_withheld``)."""

    SIZE = "size"
    DEPTH = "depth"
    REOPENED = "reopened"


WITHHELD_SIZE = HtmlWithheld.SIZE
WITHHELD_DEPTH = HtmlWithheld.DEPTH
WITHHELD_REOPENED = HtmlWithheld.REOPENED


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------

DATA, START, END = "data", "start", "end"
Token = tuple[str, str, str]  # (kind, lower-case tag name or "", attributes as written or data)

# The next markup after some text: a comment; a doctype, CDATA section or other bogus comment,
# which ends at the first ">"; or a tag, which runs to the first ">" outside a quoted attribute
# value (one left open at the end of the text is dropped, as HTML5 does). Every part is bounded
# by "<", ">" or a quote, so no match scans back: the tokenizer is linear.
_MARKUP = re.compile(
    r"<(?:(!--)|[!?]|/(?![A-Za-z])|(/?)([A-Za-z][^\t\n\f\r />]*)"
    r"((?:[^>=]|=[\t\n\f\r ]*\"[^\"]*\"?|=[\t\n\f\r ]*'[^']*'?|=)*)(>?))"
)
_COMMENT_END = re.compile(r"--!?>")
_RAW_TEXT = _names("script style title textarea xmp iframe noembed noframes noscript plaintext")
_raw_text_end: dict[str, re.Pattern[str]] = {}


def _tokens(markup: str, foreign: Callable[[], bool] = lambda: False) -> Iterator[Token]:
    """The tags and text of ``markup``, without comments. ``foreign`` says whether the element
    just started is SVG or MathML, whose script and style hold markup rather than text."""
    pos = 0
    while (match := _MARKUP.search(markup, pos)) is not None:
        if match.start() > pos:
            yield DATA, "", markup[pos : match.start()]
        comment, closing, name, attributes, closed = match.groups()
        if name is None:  # a comment or bogus comment: skip it
            if comment:
                end = _COMMENT_END.search(markup, match.start() + 2)  # "<!-->" is one
                pos = end.end() if end else len(markup)
            else:
                end_at = markup.find(">", match.end())
                pos = end_at + 1 if end_at >= 0 else len(markup)
            continue
        if not closed:
            return
        name = name.lower()
        yield (END if closing else START), name, attributes
        pos = match.end()
        if not closing and name in _RAW_TEXT and not foreign():
            pos = yield from _raw_text(markup, pos, name)
    if pos < len(markup):
        yield DATA, "", markup[pos:]


def _raw_text(markup: str, pos: int, name: str) -> Generator[Token, None, int]:
    """The text of a script, style, textarea... up to its end tag; returns where it ends."""
    if name not in _raw_text_end:
        _raw_text_end[name] = re.compile(rf"</{name}[\t\n\f\r />]", re.IGNORECASE)
    end = None if name == "plaintext" else _raw_text_end[name].search(markup, pos)
    stop = end.start() if end else len(markup)
    if stop > pos:
        yield DATA, "", markup[pos:stop]
    if end is None:
        return len(markup)
    yield END, name, ""
    close = markup.find(">", end.end() - 1)
    return close + 1 if close >= 0 else len(markup)


# --------------------------------------------------------------------------------------------
# What an HTML5 parser would build
# --------------------------------------------------------------------------------------------

_VOID = _names(
    "area base basefont bgsound br col embed frame hr image img input keygen link meta param"
    " source track wbr"
)
_IGNORED = frozenset({"html", "head", "body"})  # merged into the page's own, never nested
_FORMATTING = _names("a b big code em font i nobr s small strike strong tt u")
_MARKERS = _names("td th caption applet marquee object template")
# HTML5's "scope": what an end tag of a block does not close past ...
_SCOPE = _names("applet caption html table td th marquee object template select")
# ... and its "special" elements, which an end tag of another element does not close past.
_SPECIAL = _SCOPE | _names(
    "address area article aside base basefont bgsound blockquote body br center col colgroup"
    " dd details dialog dir div dl dt embed fieldset figcaption figure footer form frame"
    " frameset h1 h2 h3 h4 h5 h6 head header hgroup hr iframe img input keygen li link listing"
    " main menu meta nav noembed noframes noscript p param plaintext pre script search section"
    " source style summary tbody textarea tfoot thead title tr track wbr xmp button ul ol"
)
# Start tags before which HTML5 does not reopen formatting elements (the others do).
_NO_REOPEN = (
    _SPECIAL - _names("applet marquee object area br embed img keygen wbr input xmp select button")
) | _names("rb rp rt rtc")
# The kinds of fence: the elements each kind of tag does not close past.
_FENCES = {
    "scope": _SCOPE,
    "button": _SCOPE | {"button"},  # for paragraphs
    "list": _SCOPE | {"ul", "ol"},  # for </li>
    "table": _names("html table template"),  # for table parts
    "special": _SPECIAL,
    "item": _SPECIAL - {"address", "div", "p"},  # for <li>, <dd>, <dt>
}
# Start tags that first close an open <p>; those that close open elements of their kind, and
# the fences (above) those may not pass.
_CLOSES_P = _names(
    "address article aside blockquote center details dialog dir div dl fieldset figcaption"
    " figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr listing main menu nav ol p pre"
    " search section summary ul xmp li dd dt plaintext"
)
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_TABLE_ENDS = _names("table caption tbody thead tfoot tr td th")
_CLOSES: dict[str, tuple[set[str], str]] = {
    "li": ({"li"}, "item"),
    "dd": ({"dd", "dt"}, "item"),
    "dt": ({"dd", "dt"}, "item"),
    "button": ({"button"}, "scope"),
    "option": ({"option"}, "current"),
    **dict.fromkeys(_HEADINGS, (_HEADINGS, "current")),
}
_END_FENCES = {"p": "button", "li": "list", **dict.fromkeys(_TABLE_ENDS, "table")}
# Elements HTML5 closes when it "generates implied end tags", as ruby text starts do.
_IMPLIED = _names("dd dt li optgroup option p rb rp rt rtc")
_RUBY = {"rb": frozenset(), "rtc": frozenset(), "rt": {"rtc"}, "rp": {"rtc"}}  # and what stays
# Table parts (ignored outside a table) and the open element each keeps: the rest above the
# table is closed first, foster-parented content included.
_TABLE_PARTS: dict[str, set[str]] = {
    "td": {"tr"},
    "th": {"tr"},
    "tr": {"thead", "tbody", "tfoot"},
    **dict.fromkeys(["thead", "tbody", "tfoot", "caption", "colgroup", "col"], set()),
}
_INTEGRATION = {
    "svg": _names("foreignobject desc title"),
    "math": _names("mi mo mn ms mtext annotation-xml"),
}
_BREAKOUT = _names(
    "b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i img"
    " li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table tt u ul"
    " var"
)
_FONT_BREAKOUT = re.compile(r"(?:^|[\s/])(?:color|face|size)\s*(?:=|[\s/]|$)", re.IGNORECASE)
_SELF_CLOSING = re.compile(r"(?:^|[\s\"'/])/$")  # not "a=b/", a value ending in "/"
_NOAHS_ARK = 3  # alike formatting elements an HTML5 parser keeps to reopen


class _Element:
    __slots__ = ("key", "name", "namespace", "order")

    def __init__(self, name: str, order: int, namespace: str = "") -> None:
        self.name = name
        self.order = order
        self.namespace = namespace  # "svg" or "math" for foreign elements
        self.key: str | None = None  # a formatting element HTML5 may reopen: name, attributes


def _foreign_only(element: _Element) -> bool:
    return bool(element.namespace) and element.name not in _INTEGRATION[element.namespace]


@cache
def _fence_kinds(name: str, namespace: str) -> tuple[str, ...]:
    """The kinds of fence (``_FENCES``) an open element of this name is."""
    if namespace:
        return tuple(k for k in _FENCES if k != "table") if name in _INTEGRATION[namespace] else ()
    return tuple(kind for kind, names in _FENCES.items() if name in names)


class _OpenElements:
    """A linear model of the stack of open elements an HTML5 parser builds.

    It follows the rules that decide the depth: end tags that do not close past a table, a
    cell or a block; start tags that close an open paragraph, list item, cell or row;
    formatting elements closed by another's end tag and copied back in before the next text
    (at most three alike, none past a cell); SVG and MathML. Where it is unsure it keeps an
    element open rather than closing it, so it errs on the deep side. A token costs constant
    work, amortised over the elements it opens, closes and reopens (which are counted).
    """

    def __init__(self) -> None:
        self.stack: list[_Element] = []
        self.positions: dict[str, list[int]] = {}
        self.fences: dict[str, list[int]] = {kind: [] for kind in _FENCES}
        self.markers: list[int] = []  # the order of each open cell, caption or object
        self.reopenable: dict[str, list[_Element]] = {}
        self.detached: list[_Element] = []
        self.order = 0
        self.deepest = 0
        self.adopted = 0  # formatting end tags with a block inside: each may nest one deeper
        self.reopened = 0
        self.form = False  # HTML5's form element pointer: a <form> is ignored while it is set

    @property
    def depth(self) -> int:
        """The deepest the tree would nest, at most."""
        return self.deepest + self.adopted

    def foreign(self) -> bool:
        """Whether the innermost open element is SVG or MathML."""
        return bool(self.stack) and bool(self.stack[-1].namespace)

    def text(self) -> None:
        """Text: the formatting elements another element's end tag closed are reopened."""
        self._reopen()

    def start(self, name: str, attributes: str) -> None:
        """A start tag."""
        in_foreign = self._in_foreign()
        if in_foreign and (
            name in _BREAKOUT or (name == "font" and _FONT_BREAKOUT.search(attributes))
        ):
            self._leave_foreign()
            in_foreign = False
        if in_foreign:
            if not _SELF_CLOSING.search(attributes):  # <path d="..."/> is empty
                self._push(name, self.stack[-1].namespace)
            return
        if name in _IGNORED or (name in _TABLE_PARTS and not self.positions.get("table")):
            return
        if name in {"select", "input"} and self._in_scope("select"):
            self._pop_to(self._innermost({"select"}))  # closes the open select...
            if name == "select":
                return  # ...and is not one itself
        if name == "form":
            if self.form and not self.positions.get("template"):
                return
            self.form = True
        if name in _TABLE_PARTS or name == "table":
            self._clear_table(name)
        if name in _CLOSES_P:
            self._close({"p"}, "button")
        if name == "optgroup":
            self._close({"option"}, "current")
        if name in _CLOSES:
            self._close(*_CLOSES[name])
        if name in _RUBY and self._in_scope("ruby"):
            while self.stack and self.stack[-1].name in _IMPLIED - _RUBY[name]:
                self._pop_to(len(self.stack) - 1)
        if name in {"a", "nobr"}:
            self.end(name)  # a link inside a link closes the first
        if name not in _NO_REOPEN:
            self._reopen()
        if name in _INTEGRATION:
            if not _SELF_CLOSING.search(attributes):
                self._push(name, name)
        elif name not in _VOID:
            element = self._push(name)
            if name in _FORMATTING:
                self._list(element, f"{name} {attributes}")

    def end(self, name: str) -> None:
        """An end tag: closes its element unless HTML5 would ignore it here."""
        if name in {"p", "br"} and self._in_foreign():
            self._leave_foreign()
        if name == "br":  # read as <br>
            self.start(name, "")
        elif name == "form":  # HTML5 takes the form out and leaves its content open
            self.form = False
            self._close({name}, "current")
        elif name in _HEADINGS:  # any heading's end tag closes the open heading
            self._close(_HEADINGS, "scope")
        else:
            self._close({name}, _END_FENCES.get(name, "scope" if name in _SPECIAL else "special"))

    def _in_foreign(self) -> bool:
        """Whether the innermost open element is SVG or MathML that does not hold HTML."""
        top = self.stack[-1] if self.stack else None
        return top is not None and _foreign_only(top)

    def _leave_foreign(self) -> None:
        while self._in_foreign():
            self._pop_to(len(self.stack) - 1)

    def _clear_table(self, name: str) -> None:
        """What HTML5 closes before a table part: the open cell, then what is above the table,
        its body or row; a table directly in a table closes that table."""
        table = self._innermost({"table"})
        cell = self._innermost({"td", "th", "caption"})
        if cell > table:
            if name == "table":
                return  # a table in a cell is nested
            self._pop_to(cell)
        if name == "table":
            if table >= 0:
                self._pop_to(table)
            return
        self._pop_to(max(table, self._innermost(_TABLE_PARTS[name])) + 1)

    def _innermost(self, names: set[str]) -> int:
        """The position of the innermost open element named one of ``names``, or -1."""
        found = -1
        for name in names:
            positions = self.positions.get(name)
            if positions and positions[-1] > found:
                found = positions[-1]
        return found

    def _in_scope(self, name: str) -> bool:
        at = self._innermost({name})
        fences = self.fences["scope"]
        return at >= 0 and not (fences and fences[-1] > at)

    def _close(self, names: set[str], fence: str) -> None:
        """Close the innermost of ``names`` and what is above it, unless a fence is between."""
        at = self._innermost(names)
        if at < 0 or (fence == "current" and at != len(self.stack) - 1):
            return
        fences = self.fences.get(fence)
        if fences and fences[-1] > at:
            if self.stack[at].name in _FORMATTING:
                self.adopted += 1  # HTML5 moves the block's content into a copy of it
            return
        self._unlist(self.stack[at])
        self._pop_to(at)

    def _push(self, name: str, namespace: str = "") -> _Element:
        self.order += 1
        element = _Element(name, self.order, namespace)
        at = len(self.stack)
        self.stack.append(element)
        self.positions.setdefault(name, []).append(at)
        for kind in _fence_kinds(name, namespace):
            self.fences[kind].append(at)
        if name in _MARKERS and not namespace:
            self.markers.append(element.order)
        self.deepest = max(self.deepest, len(self.stack))
        return element

    def _pop_to(self, at: int) -> None:
        """Close the element at ``at`` and those above it. Formatting elements among them stay
        to be reopened, unless a cell (a marker) closes with them: then they are forgotten."""
        if len(self.stack) <= at:
            return
        popped: list[_Element] = []
        marker = None
        while len(self.stack) > at:
            element = self.stack.pop()
            self.positions[element.name].pop()
            for kind in _fence_kinds(element.name, element.namespace):
                self.fences[kind].pop()
            if self.markers and self.markers[-1] == element.order:
                marker = self.markers.pop()
            if element.key is not None:
                popped.append(element)
        if marker is None:
            self.detached.extend(popped)
            return
        for element in popped:
            if element.order > marker:
                self._unlist(element)
            else:
                self.detached.append(element)
        while self.detached and self.detached[-1].order > marker:
            self._unlist(self.detached.pop())

    def _list(self, element: _Element, key: str) -> None:
        alike = self.reopenable.setdefault(key, [])
        since = self.markers[-1] if self.markers else 0
        if len(alike) >= _NOAHS_ARK and alike[-_NOAHS_ARK].order > since:
            alike.pop(-_NOAHS_ARK).key = None
        alike.append(element)
        element.key = key

    def _unlist(self, element: _Element) -> None:
        if element.key is None:
            return
        alike = self.reopenable[element.key]
        for i in range(len(alike) - 1, -1, -1):
            if alike[i] is element:
                del alike[i]
                break
        element.key = None

    def _reopen(self) -> None:
        detached, self.detached = self.detached, []
        for element in reversed(detached):
            if element.key is None:
                continue  # closed by its own end tag since, or pushed out by three alike
            key = element.key
            self._unlist(element)
            self._list(self._push(element.name), key)
            self.reopened += 1


def withheld_reason(markup: str) -> HtmlWithheld | None:
    """Why ``markup`` is too costly to clean (WITHHELD_*), or None; linear in its length."""
    if len(markup) > HTML_MAX_CHARS:
        return WITHHELD_SIZE
    model = _OpenElements()
    for kind, name, text in _tokens(markup, model.foreign):
        if kind is START:
            model.start(name, text)
        elif kind is END:
            model.end(name)
        else:
            model.text()
        if model.depth > HTML_MAX_DEPTH:
            return WITHHELD_DEPTH
        if model.reopened > HTML_MAX_REOPENED:
            return WITHHELD_REOPENED
    return None


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------

_BLOCK = {"p", "div", "br", "tr", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "table"}
_NO_CLOSING_BREAK = {"br", "li"}
_SKIP = {"script", "style", "head", "title", "noscript", "template"}


def html_to_text(markup: str) -> str:
    """Render HTML as plain text (block elements become line breaks); linear in its length."""
    parts: list[str] = []
    skipping = 0
    for kind, name, text in _tokens(markup):
        if kind is START:
            if name in _SKIP:
                skipping += 1
            elif name in _BLOCK:
                parts.append("\n")
            if name == "li":
                parts.append("- ")
        elif kind is END:
            if name in _SKIP:
                skipping = max(0, skipping - 1)
            elif name == "td":
                parts.append(" ")
            elif name in _BLOCK and name not in _NO_CLOSING_BREAK:
                parts.append("\n")
        elif not skipping:
            parts.append(re.sub(r"\s+", " ", html.unescape(text)))
    lines = (line.strip() for line in "".join(parts).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def shown_content_ids(markup: str) -> set[str]:
    """The Content-IDs of the parts the HTML shows by ``cid:`` (its inline images)."""
    return {unquote(c).strip("<>") for c in re.findall(r"(?i)cid:([^\"'\s>)]+)", markup)}


# --------------------------------------------------------------------------------------------
# Cleaning
# --------------------------------------------------------------------------------------------

_TAGS = nh3.ALLOWED_TAGS | {"font"}
_ATTRIBUTES: dict[str, set[str]] = {
    **{k: set(v) for k, v in nh3.ALLOWED_ATTRIBUTES.items()},
    "font": {"color", "size", "face"},
    "td": {"align", "colspan", "rowspan", "valign", "width"},
    "th": {"align", "colspan", "rowspan", "valign", "width", "scope"},
    "table": {"align", "border", "cellpadding", "cellspacing", "width", "summary"},
    "img": {"alt", "src", "width", "height", "title"},
}


def _keep_attribute(tag: str, attr: str, value: str) -> str | None:
    """Allow only cid: image sources; drop remote ones (tracking pixels, remote content)."""
    if tag == "img" and attr == "src":
        return value if value.strip().lower().startswith("cid:") else None
    return value


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags={"script", "style", "title", "noscript", "template"},
    attributes=_ATTRIBUTES,
    attribute_filter=_keep_attribute,
    url_schemes={"http", "https", "mailto", "tel", "cid"},
    url_relative="deny",
)


def sanitize_html(markup: str) -> str:
    """Sanitise mail HTML for display (see the module docstring); call ``withheld_reason``
    first, as nh3's time is not linear in the input."""
    return _CLEANER.clean(markup)
