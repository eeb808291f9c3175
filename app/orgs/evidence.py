"""The evidence document of an application (a business registration certificate, a letter of
establishment): PDF, JPEG or PNG up to 10 MB, judged by its content. A PDF is written anew
page by page as verification evidence is (app.media.evidence.rewrite_pdf: its scripts, forms
and metadata are left behind); a picture is decoded and re-encoded by Pillow (nothing of the
sent file is kept, its metadata neither). Stored under a private key (app.media.storage) that
the public /media/ route never serves."""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from app.media import evidence as media_evidence
from app.media.images import MAX_PIXELS
from app.media.storage import storage

log = logging.getLogger(__name__)

MAX_BYTES = media_evidence.MAX_BYTES

REFUSALS = {
    **media_evidence.REFUSALS,
    "empty": _l("Attach a document that shows the organisation exists."),
}


class EvidenceRefused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return str(REFUSALS[self.code])


@dataclass(frozen=True)
class Evidence:
    data: bytes
    ext: str  # pdf, png or jpg
    content_type: str


def _pdf(data: bytes) -> Evidence:
    try:
        cleaned = media_evidence.rewrite_pdf(data)
    except media_evidence.EvidenceRefused as exc:
        raise EvidenceRefused(exc.code) from None
    return Evidence(cleaned, "pdf", "application/pdf")


def _picture(data: bytes) -> Evidence:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data), formats=("JPEG", "PNG"))
            if probe.width * probe.height > MAX_PIXELS:
                raise EvidenceRefused("too_many_pixels")
            fmt = probe.format
            probe.verify()
            image = Image.open(io.BytesIO(data), formats=("JPEG", "PNG"))
            image.load()
    except EvidenceRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, UnidentifiedImageError,
            OSError, SyntaxError, ValueError, EOFError):
        raise EvidenceRefused("unreadable") from None
    upright = ImageOps.exif_transpose(image)
    clean = Image.new("RGB", upright.size, (255, 255, 255))
    clean.paste(upright.convert("RGBA"), mask=upright.convert("RGBA").getchannel("A"))
    out = io.BytesIO()
    if fmt == "PNG":
        clean.save(out, "PNG", optimize=True)
        return Evidence(out.getvalue(), "png", "image/png")
    clean.save(out, "JPEG", quality=90)
    return Evidence(out.getvalue(), "jpg", "image/jpeg")


def check(data: bytes) -> Evidence:
    """The document to keep, or EvidenceRefused."""
    if not data:
        raise EvidenceRefused("empty")
    if len(data) > MAX_BYTES:
        raise EvidenceRefused("too_large")
    if data[:5] == b"%PDF-":
        return _pdf(data)
    return _picture(data)


def store(evidence: Evidence) -> str:
    """Put the document in storage; its private key."""
    digest = hashlib.sha256(evidence.data).hexdigest()[:32]
    key = f"private/{digest[:2]}/{digest}.{evidence.ext}"
    storage().put(key, evidence.data)
    return key
