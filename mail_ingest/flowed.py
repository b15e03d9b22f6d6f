"""format=flowed text (RFC 3676) -> its paragraphs. Pure.

Thunderbird and Apple Mail send paragraphs as soft-wrapped lines ending in a space; joined
back, they are shown as paragraphs rather than broken at 72 columns.
"""

from __future__ import annotations


def unflow(text: str, *, delsp: bool = False) -> str:
    """The paragraphs of a format=flowed text (RFC 3676) with its soft line breaks joined.

    A line that ends in a space (after the stuffed space is removed) continues on the next line
    of the same quote depth; the signature separator "-- " never does. With DelSp=yes that
    trailing space was added by the sender and goes. Quoted lines come back as "> " prefixes.
    """
    out: list[str] = []
    pending: str | None = None
    pending_depth = 0
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing, or the space after the quote marks
        flowed = content.endswith(" ") and content != "-- "
        if pending is not None and depth != pending_depth:
            out.append(_quote(pending_depth, pending))  # a quote depth change ends a paragraph
            pending = None
        if flowed and delsp:
            content = content[:-1]
        pending = content if pending is None else pending + content
        pending_depth = depth
        if not flowed:
            out.append(_quote(depth, pending))
            pending = None
    if pending is not None:
        out.append(_quote(pending_depth, pending))
    return "\n".join(out)


def _quote(depth: int, content: str) -> str:
    return f"{'>' * depth} {content}" if depth else content
