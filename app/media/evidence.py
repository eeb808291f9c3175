"""Evidence files for verification claims (a scan of a 주민등록등본, a welfare card): checked by
their content and stored privately.

A PDF must parse with pypdf and is written anew page by page (the document's scripts, forms
and metadata are left behind); a JPEG or PNG is decoded and re-encoded as JPEG with Pillow as
the space photos are (app.media.images), so nothing of the upload is kept as sent. Keys are
random, under `evidence/`, and never served by the public /media route.
"""

from __future__ import annotations

import io
import secrets
import warnings

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError

from app.media.images import MAX_PIXELS, _flatten

MAX_BYTES = 10 * 1024 * 1024
MAX_PAGES = 20
JPEG_QUALITY = 88

REFUSALS = {
    "too_large": _l("The file is larger than 10 MB. Please choose a smaller file."),
    "unreadable": _l("This file is not a PDF, JPEG or PNG we can read."),
    "too_many_pages": _l("The PDF has too many pages (at most 20)."),
    "too_many_pixels": _l(
        "The picture has too many pixels (at most 40 megapixels). Please resize it first."
    ),
}


class EvidenceRefused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return str(REFUSALS[self.code])


def rewrite_pdf(data: bytes) -> bytes:
    """The PDF written anew page by page (scripts, forms and metadata left behind), or
    EvidenceRefused."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted or not 0 < len(reader.pages) <= MAX_PAGES:
            raise EvidenceRefused("too_many_pages" if len(reader.pages) > MAX_PAGES
                                  else "unreadable")
        writer = PdfWriter()
        for page in reader.pages:
            writer.add_page(page)
        out = io.BytesIO()
        writer.write(out)
    except EvidenceRefused:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError,
            RecursionError):
        raise EvidenceRefused("unreadable") from None
    return out.getvalue()


def _picture(data: bytes) -> bytes:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data), formats=("JPEG", "PNG"))
            if probe.width * probe.height > MAX_PIXELS:
                raise EvidenceRefused("too_many_pixels")
            probe.verify()
            image = Image.open(io.BytesIO(data), formats=("JPEG", "PNG"))
            image.load()
    except EvidenceRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise EvidenceRefused("too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise EvidenceRefused("unreadable") from None
    clean = _flatten(ImageOps.exif_transpose(image))
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=JPEG_QUALITY, exif=b"")
    return out.getvalue()


def process(data: bytes) -> tuple[bytes, str]:
    """The cleaned file and its extension ("pdf" or "jpg"); EvidenceRefused otherwise."""
    if len(data) > MAX_BYTES:
        raise EvidenceRefused("too_large")
    if data.startswith(b"%PDF-"):
        return rewrite_pdf(data), "pdf"
    return _picture(data), "jpg"


def new_key(ext: str) -> str:
    return f"evidence/{secrets.token_hex(16)}.{ext}"
