"""Attachment policy: may the desk receive this file? Pure: no Flask, no database, no clock.

The portal refuses a list of extensions. A file is judged by the extension Windows would see
and, independently of its name, by its content: libmagic on a bounded prefix, and the structure
of ZIP and OLE2 containers (listed, never extracted). A password set on an Office file itself
(an OLE2 ``EncryptedPackage``) is the accepted way to protect a file; encrypted ZIPs are not.
"""

from __future__ import annotations

import enum
import io
import logging
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Collection
from dataclasses import dataclass

import magic
import olefile

log = logging.getLogger(__name__)

PORTAL_FORBIDDEN_LIST = (
    "zip .xlsm .bat .pif .scr .com .cmd .vbs .job .hta .cpl .exe .lzh .docm .js .wsf .pptm .jar "
    ".lnk .chm .swf .svg .jse .vbe"
)
DEFAULT_FORBIDDEN_EXTENSIONS: frozenset[str] = frozenset(
    item.lstrip(".").lower() for item in PORTAL_FORBIDDEN_LIST.split()
)
SNIFF_BYTES = 64 * 1024
"""libmagic sees at most this many leading bytes of a file."""
MEMBER_READ_BYTES = 64 * 1024
"""The most read of any one ZIP member (only ``[Content_Types].xml`` and ``mimetype`` are read)."""

Sniffer = Callable[[bytes], str]


class AttachmentReason(enum.StrEnum):
    """Why an attachment was accepted or refused (``Verdict.reason``, ``Attachment.reason``)."""

    OK = "ok"
    EMPTY_NAME_OK = "empty_name_ok"
    FORBIDDEN_EXTENSION = "forbidden_extension"
    EXECUTABLE_CONTENT = "executable_content"
    ARCHIVE = "archive"
    ENCRYPTED_ARCHIVE = "encrypted_archive"
    MACRO_DOCUMENT = "macro_document"
    SCRIPT_CONTENT = "script_content"
    SHORTCUT = "shortcut"
    HELP_FILE = "help_file"
    FLASH = "flash"
    SVG = "svg"
    MALFORMED_DOCUMENT = "malformed_document"
    TOO_LARGE = "too_large"
    # The parser's limits: the part's content was never read (NOT_KEPT_REASONS).
    MESSAGE_TOO_LARGE = "message_too_large"
    TOO_MANY_PARTS = "too_many_parts"
    TOO_DEEP = "too_deep"


R = AttachmentReason


class AttachmentOrigin(enum.StrEnum):
    """Where an attachment came from (``Attachment.origin``)."""

    MESSAGE = "message"  # a part of the mail itself
    FORWARDED = "forwarded"  # a part of a mail forwarded as an attachment
    TNEF = "tnef"  # unpacked from Outlook's winmail.dat
    AGENT = "agent"  # uploaded by an agent with a reply or note
    WEB = "web"  # uploaded with the enquiry form


Finding = tuple[AttachmentReason, str]
"""(reason, what the content is) when the content alone is refused."""


@dataclass(frozen=True)
class Verdict:
    """Whether one attachment may be received, and why."""

    allowed: bool
    reason: AttachmentReason
    detected_type: str
    detail: str
    extension: str


def N_(message: str) -> str:
    """Mark ``message`` for the helpdesk's catalog; it is translated where it is shown."""
    return message


# Why a file was refused, in English: the msgids of the helpdesk's catalog, which shows them in
# the reader's (or the sender's) language.
REASON_TEXT: dict[str, str] = {
    R.OK: N_("Accepted."),
    R.EMPTY_NAME_OK: N_("Accepted (the file had no name)."),
    R.FORBIDDEN_EXTENSION: N_(
        "Files with this extension cannot be received. Save the file as another type "
        "(File > Save As, choose e.g. *.xlsx) and send it again."
    ),
    R.EXECUTABLE_CONTENT: N_("The file is a program (executable). Programs cannot be received."),
    R.ARCHIVE: N_("ZIP and LZH archives cannot be received. Attach the files themselves instead."),
    R.ENCRYPTED_ARCHIVE: N_(
        "Password-protected ZIP files cannot be received. Set the password on the Excel "
        'file itself (File > Save As > Tools > General Options, "Password to open").'
    ),
    R.MACRO_DOCUMENT: N_(
        "The document contains macros. Save it as a macro-free type (e.g. *.xlsx, *.docx) "
        "with File > Save As and send it again."
    ),
    R.SCRIPT_CONTENT: N_("The file is a script. Scripts cannot be received."),
    R.SHORTCUT: N_("Windows shortcuts (.lnk) cannot be received."),
    R.HELP_FILE: N_("Compiled HTML help files (.chm) cannot be received."),
    R.FLASH: N_("Flash files (.swf) cannot be received."),
    R.SVG: N_("SVG images cannot be received. Save the image as PNG or JPEG and send it again."),
    R.MALFORMED_DOCUMENT: N_(
        "The Office document is damaged and cannot be checked. Save it again and resend."
    ),
    R.TOO_LARGE: N_("The file is larger than the desk accepts."),
    R.MESSAGE_TOO_LARGE: N_(
        "The mail was larger than the desk accepts, so its files were not kept."
    ),
    R.TOO_MANY_PARTS: N_("The mail had more files than the desk accepts in one mail."),
    R.TOO_DEEP: N_(
        "The file was nested too deeply in the mail (forwarded mails inside forwarded "
        "mails) to be read."
    ),
}

NOT_KEPT_REASONS = frozenset({R.MESSAGE_TOO_LARGE, R.TOO_MANY_PARTS, R.TOO_DEEP})
"""Why the parser kept no content of a part (its limits on size, count and depth): such a
file was never judged, stands whatever a desk's policy, and refuses no mail as a whole."""

# Characters Windows does not show: bidi overrides and isolates, zero-width and other format
# characters (Unicode category Cf), and control characters (Cc).
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc"})

# "application/x-dosexec" is not listed: libmagic also says so of headerless DOS .COM guesses,
# which include UTF-8 Japanese text over ~40 KB starting with a kanji encoded E9 xx xx (e.g. 電,
# 鈴, 関). Real PE/MZ executables are recognised by their "MZ" header instead.
_EXECUTABLE_TYPES = {
    "application/vnd.microsoft.portable-executable": "a Windows executable (PE)",
    "application/x-msdownload": "a Windows executable",
    "application/x-executable": "an ELF executable",
    "application/x-sharedlib": "an ELF executable or shared library",
    "application/x-pie-executable": "an ELF executable",
    "application/x-mach-binary": "a macOS executable",
    "application/x-msi": "a Windows Installer package",
    "application/x-ms-installer": "a Windows Installer package",
    "application/java-archive": "a Java archive (JAR)",
    "application/x-java-applet": "a Java class file",
}
_SCRIPT_TYPES = {
    "text/x-shellscript": "a shell script",
    "application/x-sh": "a shell script",
    "text/x-msdos-batch": "a Windows batch file",
    "text/x-bat": "a Windows batch file",
    "application/javascript": "a JavaScript file",
    "text/javascript": "a JavaScript file",
    "application/x-javascript": "a JavaScript file",
    "text/x-script.python": "a Python script",
    "text/x-python": "a Python script",
    "text/x-perl": "a Perl script",
    "text/x-ruby": "a Ruby script",
    "text/x-php": "a PHP script",
    "text/x-tcl": "a Tcl script",
    "text/x-lua": "a Lua script",
    "text/x-awk": "an awk script",
}
_ZIP_TYPES = frozenset({"application/zip", "application/x-zip-compressed"})
# What zipfile and olefile raise on damaged or hostile input.
_CONTAINER_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
    OSError,
    EOFError,
    ValueError,
    LookupError,
    TypeError,
    RuntimeError,
    NotImplementedError,
)
_LZH = re.compile(rb"^..-l[hz][0-9a-z]-", re.DOTALL)
_FLASH_SIGNATURES = (b"FWS", b"CWS", b"ZWS")
_LNK_HEADER = b"L\x00\x00\x00\x01\x14\x02\x00"
_OLE2_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_VBA_STORAGES = frozenset({"_VBA_PROJECT_CUR", "_VBA_PROJECT", "MACROS", "VBA"})
# Windows Script Host content: VBScript/JScript calls, encoded scripts, .wsf jobs, HTA markers.
_WSH_MARKERS = re.compile(
    rb"wscript\.|createobject\s*\(|new\s+activexobject\s*\(|getobject\s*\(\s*\"winmgmts",
    re.IGNORECASE,
)
_WSF_JOB = re.compile(rb"<(job|package)\b[^>]*>.*<script\b", re.IGNORECASE | re.DOTALL)
_HTA_MARKER = re.compile(rb"<hta:application\b", re.IGNORECASE)
_SVG_ROOT = re.compile(rb"<svg[\s>]", re.IGNORECASE)


def sniff_mime(prefix: bytes) -> str:
    """Return libmagic's MIME type for the given leading bytes of a file."""
    return str(magic.from_buffer(prefix, mime=True))


def windows_name(filename: str | None) -> str:
    """Return the file name as a Windows user sees it: NFKC, no invisible characters, trimmed."""
    if not filename:
        return ""
    name = unicodedata.normalize("NFKC", filename)
    name = "".join(c for c in name if unicodedata.category(c) not in _INVISIBLE_CATEGORIES)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return name.rstrip(" .")


def effective_extension(filename: str | None) -> str:
    """Return the extension Windows acts on, lower-case and without the dot ("" if none)."""
    name = windows_name(filename)
    if "." not in name:
        return ""
    return name.rsplit(".", 1)[1].strip().casefold()


@dataclass(frozen=True)
class Inspection:
    """What an attachment is, found from its name and content alone: everything in a verdict
    except the desk's list of forbidden extensions (so it can be worked out before the desk is
    known, in another process)."""

    extension: str
    detected: str
    finding: Finding | None  # (reason, what the content is) if the content is refused
    oversize: bool
    size: int
    max_bytes: int | None  # the size limit it was inspected under


def inspect(
    filename: str | None,
    content: bytes,
    *,
    max_bytes: int | None = None,
    sniff: Sniffer = sniff_mime,
) -> Inspection:
    """Look at one attachment's name and content (the costly part of judging it)."""
    oversize = max_bytes is not None and len(content) > max_bytes
    limit = SNIFF_BYTES if max_bytes is None else min(SNIFF_BYTES, max_bytes)
    prefix = content[:limit]
    detected = sniff(prefix)
    # Containers are opened only when the whole file is within the limit.
    finding = _judge_content(detected, prefix, None if oversize else content)
    return Inspection(
        effective_extension(filename), detected, finding, oversize, len(content), max_bytes
    )


def decide(
    filename: str | None,
    inspection: Inspection,
    *,
    forbidden_extensions: Collection[str] = DEFAULT_FORBIDDEN_EXTENSIONS,
) -> Verdict:
    """The verdict on an inspected attachment under one desk's forbidden extensions."""
    extension, detected = inspection.extension, inspection.detected
    # Content outranks the name (its guidance is more specific).
    if inspection.finding is not None:
        reason, what = inspection.finding
        return Verdict(False, reason, detected, _content_detail(what, extension), extension)
    if extension in _normalise(forbidden_extensions):
        detail = f"files with the extension .{extension} cannot be received"
        return Verdict(False, R.FORBIDDEN_EXTENSION, detected, detail, extension)
    if inspection.oversize:
        limit = inspection.max_bytes
        detail = f"the file has {inspection.size} bytes; the limit is {limit} bytes"
        return Verdict(False, R.TOO_LARGE, detected, detail, extension)
    return _accepted(filename, detected, extension)


def not_kept(
    filename: str | None,
    declared_type: str,
    reason: AttachmentReason,
    size: int,
    *,
    max_bytes: int | None,
) -> Verdict:
    """The verdict on a part the parser did not keep (``reason``: one of NOT_KEPT_REASONS)."""
    detail = {
        R.MESSAGE_TOO_LARGE: "the mail was over the size limit; the file was not read",
        R.TOO_MANY_PARTS: "the mail had more parts than are read",
        R.TOO_DEEP: "the file was nested deeper than is read",
    }.get(reason, "the file was not read")
    if max_bytes is not None and size > max_bytes:
        detail += f"; the file has about {size} bytes, over the {max_bytes}-byte limit for a file"
    return Verdict(False, reason, declared_type, detail, effective_extension(filename))


def judge(
    filename: str | None,
    content: bytes,
    *,
    forbidden_extensions: Collection[str] = DEFAULT_FORBIDDEN_EXTENSIONS,
    max_bytes: int | None = None,
    sniff: Sniffer = sniff_mime,
) -> Verdict:
    """Judge one attachment by its Windows-visible extension and its real content."""
    return decide(
        filename,
        inspect(filename, content, max_bytes=max_bytes, sniff=sniff),
        forbidden_extensions=forbidden_extensions,
    )


def _accepted(filename: str | None, detected: str, extension: str) -> Verdict:
    if not windows_name(filename):
        return Verdict(True, R.EMPTY_NAME_OK, detected, f"unnamed file of type {detected}", "")
    shown = f".{extension}" if extension else "no extension"
    return Verdict(True, R.OK, detected, f"{shown} file of type {detected}", extension)


def _content_detail(what: str, extension: str) -> str:
    named = f"named .{extension}" if extension else "with no extension"
    return f"the content is {what} ({named})"


def _normalise(extensions: Collection[str]) -> Collection[str]:
    if extensions is DEFAULT_FORBIDDEN_EXTENSIONS:
        return extensions
    return {e.lstrip(".").casefold() for e in extensions}


def _judge_content(detected: str, prefix: bytes, whole: bytes | None) -> Finding | None:
    """Return (reason, what the content is) if the content alone is forbidden."""
    for rule in (_by_signature, _by_text):
        finding = rule(detected, prefix)
        if finding is not None:
            return finding
    if whole is None:
        return None
    if prefix.startswith(_ZIP_SIGNATURES) or detected in _ZIP_TYPES:
        return _judge_zip(whole)
    if prefix.startswith(_OLE2_SIGNATURE):
        return _judge_ole2(whole)
    return None


def _by_signature(detected: str, prefix: bytes) -> Finding | None:
    """Binary formats recognised by libmagic or by their leading bytes."""
    if detected.startswith("text/"):
        return None  # a note that begins "MZ" or "ITSF" is still a note
    if prefix.startswith(b"MZ"):
        return R.EXECUTABLE_CONTENT, f"a Windows/MS-DOS executable, {detected}"
    if prefix.startswith(b"\x7fELF"):
        return R.EXECUTABLE_CONTENT, f"an ELF executable, {detected}"
    if detected in _EXECUTABLE_TYPES:
        return R.EXECUTABLE_CONTENT, f"{_EXECUTABLE_TYPES[detected]}, {detected}"
    if detected == "application/x-ms-shortcut" or prefix.startswith(_LNK_HEADER):
        return R.SHORTCUT, f"a Windows shortcut, {detected}"
    if detected == "application/vnd.ms-htmlhelp" or prefix.startswith(b"ITSF"):
        return R.HELP_FILE, f"a compiled HTML help file, {detected}"
    if detected == "application/x-shockwave-flash" or _is_flash(prefix):
        return R.FLASH, f"a Flash movie, {detected}"
    if detected == "application/x-lzh-compressed" or _LZH.match(prefix[:8]):
        return R.ARCHIVE, f"an LZH archive, {detected}"
    return None


def _is_flash(prefix: bytes) -> bool:
    return len(prefix) >= 8 and prefix[:3] in _FLASH_SIGNATURES and prefix[3] < 64


def _by_text(detected: str, prefix: bytes) -> Finding | None:
    """Markup and script content: SVG, HTA, scripts by type, shebang or WSH markers."""
    if detected == "image/svg+xml":
        return R.SVG, f"an SVG image, {detected}"
    if detected in _SCRIPT_TYPES:
        return R.SCRIPT_CONTENT, f"{_SCRIPT_TYPES[detected]}, {detected}"
    if not detected.startswith("text/") and detected != "application/xml":
        return None
    text = prefix.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"#!"):
        return R.SCRIPT_CONTENT, f"a script with a #! line, {detected}"
    if text.startswith(b"#@~^"):
        return R.SCRIPT_CONTENT, f"an encoded Windows script (.vbe/.jse), {detected}"
    if _HTA_MARKER.search(text):
        return R.SCRIPT_CONTENT, f"an HTML application (HTA), {detected}"
    if text.startswith(b"<") and _SVG_ROOT.search(text):
        return R.SVG, f"an SVG image, {detected}"
    if _WSF_JOB.search(text) or _WSH_MARKERS.search(text):
        return R.SCRIPT_CONTENT, f"a Windows Script Host script, {detected}"
    return None


def _judge_zip(content: bytes) -> Finding | None:
    """A ZIP is refused unless it is an Office Open XML or OpenDocument file without macros."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return _judge_zip_members(archive)
    except _CONTAINER_ERRORS as error:
        log.debug("unreadable ZIP: %s", error)
        return R.ARCHIVE, "a ZIP archive (damaged)"


def _judge_zip_members(archive: zipfile.ZipFile) -> Finding | None:
    members = archive.infolist()
    if any(info.flag_bits & 0x1 for info in members):
        return R.ENCRYPTED_ARCHIVE, "a password-protected ZIP archive"
    names = {info.filename for info in members}
    lowered = {name.casefold() for name in names}
    if "meta-inf/manifest.mf" in lowered and "[Content_Types].xml" not in names:
        return R.EXECUTABLE_CONTENT, "a Java archive (JAR)"
    if "[Content_Types].xml" in names:
        return _judge_ooxml(archive, lowered)
    if "mimetype" in names and _read_member(archive, "mimetype").startswith(
        b"application/vnd.oasis.opendocument"
    ):
        return _judge_opendocument(lowered)
    return R.ARCHIVE, "a ZIP archive"


def _judge_ooxml(archive: zipfile.ZipFile, lowered: set[str]) -> Finding | None:
    content_types = _read_member(archive, "[Content_Types].xml").lower()
    has_vba = any(name.rsplit("/", 1)[-1] == "vbaproject.bin" for name in lowered)
    if has_vba or b"macroenabled" in content_types or b"vbaproject" in content_types:
        return R.MACRO_DOCUMENT, "an Office document with macros (VBA project)"
    return None


def _judge_opendocument(lowered: set[str]) -> Finding | None:
    if any(name.startswith(("basic/", "scripts/")) for name in lowered):
        return R.MACRO_DOCUMENT, "an OpenDocument file with macros"
    return None


def _read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    with archive.open(name) as member:
        return member.read(MEMBER_READ_BYTES)


def _judge_ole2(content: bytes) -> Finding | None:
    """An OLE2 file is refused when it holds a VBA project, an Excel 4.0 macro sheet or a
    PowerPoint 97 VBA reference; encrypted packages are fine."""
    try:
        with olefile.OleFileIO(io.BytesIO(content)) as ole:
            paths: list[list[str]] = ole.listdir(streams=True, storages=True)
            if any(part.upper() in _VBA_STORAGES for path in paths for part in path):
                return R.MACRO_DOCUMENT, "a legacy Office document with macros (VBA project)"
            for name in _BIFF_STREAMS:
                if ole.exists(name):
                    sheet = _biff_macro_sheet(ole.openstream(name).read())
                    if sheet is not None:
                        return R.MACRO_DOCUMENT, f"a legacy Excel workbook with {sheet}"
            if ole.exists(_PPT_STREAM) and _ppt_has_vba(ole.openstream(_PPT_STREAM).read()):
                return R.MACRO_DOCUMENT, "a legacy PowerPoint file with macros (VBA project)"
    except _CONTAINER_ERRORS as error:
        log.debug("unreadable OLE2 file: %s", error)
        return R.MALFORMED_DOCUMENT, "a damaged OLE2 (legacy Office) file"
    return None


# [MS-XLS]: the workbook stream is a run of records (type, size, body). The globals substream
# lists every sheet in a BoundSheet8 record whose dt byte says what the sheet is; a macro sheet
# (Excel 4.0 "XLM" formulas, which run on open) or a VBA module sheet is code. A FilePass record
# means what follows is encrypted (dt included), so nothing can be read after it.
_BIFF_STREAMS = ("Workbook", "Book")
_BIFF_BOUNDSHEET, _BIFF_EOF, _BIFF_FILEPASS = 0x0085, 0x000A, 0x002F
_MACRO_SHEETS = {0x01: "an Excel 4.0 macro sheet", 0x06: "a VBA module sheet"}
# [MS-PPT]: records have an 8-byte header (version/instance, type, length); version 0xF marks a
# container. A VBAInfoContainer/VBAInfoAtom exists only when the presentation has a VBA project.
_PPT_STREAM = "PowerPoint Document"
_PPT_VBA_RECORDS = frozenset({0x03FF, 0x0400})
_PPT_MAX_DEPTH = 16


def _biff_macro_sheet(stream: bytes) -> str | None:
    """What kind of code sheet the workbook globals list, if any."""
    position = 0
    while position + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, position)
        body = stream[position + 4 : position + 4 + size]
        if kind in (_BIFF_FILEPASS, _BIFF_EOF):
            return None  # encrypted from here on, or the end of the sheet list
        if kind == _BIFF_BOUNDSHEET and len(body) >= 6 and body[5] in _MACRO_SHEETS:
            return _MACRO_SHEETS[body[5]]
        position += 4 + size
    return None


def _ppt_has_vba(stream: bytes, start: int = 0, end: int | None = None, depth: int = 0) -> bool:
    """Whether the PowerPoint records from ``start`` to ``end`` hold a VBA information record."""
    end = len(stream) if end is None else end
    position = start
    while position + 8 <= end:
        version, kind, size = struct.unpack_from("<HHI", stream, position)
        if kind in _PPT_VBA_RECORDS:
            return True
        body_end = min(position + 8 + size, end)
        is_container = version & 0x000F == 0x000F
        if (
            is_container
            and depth < _PPT_MAX_DEPTH
            and _ppt_has_vba(stream, position + 8, body_end, depth + 1)
        ):
            return True
        position = position + 8 + size
    return False
