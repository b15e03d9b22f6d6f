"""Mail HTML: what is too costly to clean, its text, and the cleaning (mail_ingest.markup)."""

import pytest

from mail_ingest.markup import (
    HTML_MAX_CHARS,
    HTML_MAX_DEPTH,
    WITHHELD_DEPTH,
    WITHHELD_REOPENED,
    WITHHELD_SIZE,
    html_to_text,
    sanitize_html,
    shown_content_ids,
    withheld_reason,
)

# Repetitions: each pattern below makes the tree an HTML5 parser builds about N deep; nh3
# took up to 106 s on one of them (nested lists), 2 to 20 s on most.
N = 20_000


@pytest.mark.parametrize(
    "markup",
    [
        pytest.param("<div>" * N + "x" + "</div>" * N, id="nested-divs"),
        pytest.param("<div/>" * N + "x", id="self-closing-syntax-on-a-div-opens-it"),
        pytest.param("<b>" * N + "x", id="unclosed-bold"),
        pytest.param("<x-y>" * N + "x", id="unknown-elements"),
        pytest.param("<div><!-- </div> -->" * N, id="end-tag-in-a-comment"),
        pytest.param('<div title="></div>">' * N, id="end-tag-in-an-attribute"),
        pytest.param("<div><style></div></style>" * N, id="end-tag-in-raw-text"),
        pytest.param("<body><div></body>" * N, id="stray-body-end-tags"),
        pytest.param("<p><div></p>" * N, id="block-closes-the-paragraph-first"),
        pytest.param("<span><form></form>" * N, id="form-end-leaves-its-content-open"),
        pytest.param("<b><table><td></b></td></table>" * N, id="end-tag-inside-a-cell"),
        pytest.param("<li><ul><li><section>" * N, id="nested-lists"),
        pytest.param("<b><th>" * N, id="cells-outside-a-table"),
        pytest.param("<div><font></div>x" * N, id="formatting-reopened-each-block"),
        pytest.param("</tr><option></title><span>" * N, id="option-in-a-span"),
        pytest.param("<a></P><applet><li><math></em><address>" * N, id="math-left-by-p-end"),
        pytest.param(
            "<ruby><math><title><noscript><iframe><iframe>" * N, id="mathml-title-holds-markup"
        ),
        pytest.param("<template>" + "<div>" * N, id="template-content"),
        pytest.param("<div><select></div></select>" * N, id="select-stops-end-tags"),
        pytest.param("<h2></h1><div></h2>" * N, id="any-heading-end-closes-a-heading"),
        pytest.param("<select><span><select><div>" * N, id="select-in-select-closes-it"),
    ],
)
def test_html_an_html5_parser_nests_deep_is_withheld(markup: str) -> None:
    assert withheld_reason(markup) == WITHHELD_DEPTH


def test_formatting_reopened_in_every_paragraph_is_withheld() -> None:
    # 300 distinct bold elements left open, then copied into each of 5,000 paragraphs: 47 KB
    # that nh3 turned into 28 MB.
    opened = "".join(f'<div><b title="{i}"></div>' for i in range(300))
    assert withheld_reason(opened + "<p>x</p>" * 5000) == WITHHELD_REOPENED


def test_html_over_the_size_limit_is_withheld_unread() -> None:
    assert withheld_reason("<p>" + "x" * HTML_MAX_CHARS + "</p>") == WITHHELD_SIZE


def test_depth_limit_is_exact_for_plain_nesting() -> None:
    def nested(depth: int) -> str:
        return "<div>" * depth + "x" + "</div>" * depth

    assert withheld_reason(nested(HTML_MAX_DEPTH)) is None
    assert withheld_reason(nested(HTML_MAX_DEPTH + 1)) == WITHHELD_DEPTH


def _newsletter() -> str:
    cell = '<td style="padding:4px"><font face="MS PGothic" size=2>{} 様<br>お知らせ</font></td>'
    table = "<table>" + ("<tr>" + cell * 4 + "</tr>") * 20 + "</table>"
    body = (table + "<p>本文 <a href='https://example.jp/'>詳細</a></p>") * 100
    return "<html><body>" + "<table><tr><td>" * 30 + body + "</td></tr></table>" * 30


@pytest.mark.parametrize(
    "markup",
    [
        pytest.param(_newsletter(), id="newsletter-of-layout-tables-30-deep"),
        pytest.param(
            "".join(f"<div>On {i}, someone wrote:<blockquote>" for i in range(150))
            + "first"
            + "</blockquote></div>" * 150,
            id="thread-quoted-150-deep",
        ),
        pytest.param(
            "<table>" + "<tr><td>cell<td>more<p>para" * 4000 + "</table>",
            id="table-without-end-tags",
        ),
        pytest.param("<ul>" + "<li>item<ul><li>a<li>b</ul>" * 3000 + "</ul>", id="open-items"),
        pytest.param("<p>para<p><b>bold</b> text" * 5000, id="paragraphs-without-end-tags"),
        pytest.param(
            "<table><tr>"
            + "".join(f"<td><font color=#{i % 9}00>cell {i}</td>" for i in range(3000))
            + "</table>",
            id="formatting-left-open-in-cells",
        ),
        pytest.param('<svg><path d="M0"/>' + "<path d='M1'/>" * 3000 + "</svg>", id="svg"),
    ],
)
def test_real_mail_shapes_are_cleaned(markup: str) -> None:
    assert withheld_reason(markup) is None


def test_html_to_text_renders_blocks_and_lists() -> None:
    html = "<h1>Title</h1><p>One&amp;two</p><ul><li>a</li><li>b</li></ul>x<br>y"
    assert html_to_text(html) == "Title\n\nOne&two\n\n- a\n- b\nx\ny"


def test_html_to_text_reads_what_htmlparser_took_quadratic_time_over() -> None:
    # Python's HTMLParser took 27 s for 200 KB of "<a"; the tokenizer is linear, and drops a
    # comment or tag left open at the end, as HTML5 does.
    assert html_to_text("Hello<!-- never closed " + "<a" * 50_000) == "Hello"
    assert html_to_text("Hello <b>desk</b><a" + "<a" * 50_000) == "Hello desk"
    assert html_to_text("x<!-->y<!--->z<!doctype html></3>&amp;") == "xyz&"


def test_html_to_text_skips_raw_text_and_keeps_markup_in_quoted_attributes() -> None:
    html = '<style>p > b {}</style><p title="a>b">One</p><script>if (a<b) x()</script>Two'
    assert html_to_text(html) == "One\nTwo"


def test_withheld_html_still_has_its_text() -> None:
    html = "<div>" * 200_000 + "Please help: I cannot sign in." + "</div>" * 200_000
    assert withheld_reason(html) == WITHHELD_SIZE
    assert html_to_text(html) == "Please help: I cannot sign in."


def test_sanitize_html_is_unchanged_for_ordinary_mail() -> None:
    cleaned = sanitize_html('<p onclick="x()">Hi <b>desk</b><img src="cid:a@b"><script>x</script>')
    assert cleaned == '<p>Hi <b>desk</b><img src="cid:a@b"></p>'


def test_shown_content_ids_are_those_of_cid_sources() -> None:
    html = '<img src="cid:shot1@example.vn"><img src=\'CID:%3Clogo@x%3E\'><a href="cid:a@b">a</a>'
    assert shown_content_ids(html) == {"shot1@example.vn", "logo@x", "a@b"}
