"""What an uploaded file is, from its own bytes (never from the browser's word or the file's name)."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass


@dataclass(frozen=True)
class FileType:
    code: str  # as SEND_UPLOAD_TYPES names it
    content_type: str
    extension: str
    words: str  # as a person says it


TYPES: dict[str, FileType] = {
    t.code: t
    for t in (
        FileType("pdf", "application/pdf", "pdf", "PDF"),
        FileType(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
            "Word document (.docx)",
        ),
        FileType("png", "image/png", "png", "PNG image"),
        FileType("jpeg", "image/jpeg", "jpg", "JPEG image"),
    )
}


def sniff(data: bytes) -> FileType | None:
    """The file's type from its first bytes (a .docx: a zip holding word/document.xml); None: unknown."""
    if data.startswith(b"%PDF-"):
        return TYPES["pdf"]
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return TYPES["png"]
    if data.startswith(b"\xff\xd8\xff"):
        return TYPES["jpeg"]
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "word/document.xml" in archive.namelist():
                    return TYPES["docx"]
        except zipfile.BadZipFile:
            return None
    return None


def allowed(codes: str) -> list[FileType]:
    """The types a setting such as 'pdf,docx,png,jpeg' allows (unknown codes ignored)."""
    return [TYPES[c.strip()] for c in codes.split(",") if c.strip() in TYPES]


def safe_name(name: str, file_type: FileType) -> str:
    """The file's name as shown to staff: no path, only plain characters, the right extension."""
    stem = re.sub(r"[^\w .()-]+", "", name.replace("\\", "/").rpartition("/")[2]).strip(" .")
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    return f"{(stem or 'upload')[:80]}.{file_type.extension}"


def size_words(size: int) -> str:
    """'1.2 MB', '340 KB'."""
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{max(1, round(size / 1024))} KB"
