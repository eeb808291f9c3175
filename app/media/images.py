"""Checking and re-encoding uploaded pictures with Pillow. Pure functions of bytes.

Nothing of an upload is kept as sent: the picture is decoded (JPEG, PNG or WebP only, judged by
its content, never by its name), turned upright by its EXIF orientation, and encoded anew at
a few widths, as WebP with a JPEG fallback. The new files carry no metadata at all, so the
camera's EXIF (GPS position, serial numbers, time taken) is gone.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
# Decoded size allowed: 40 megapixels is more than any phone takes, and decodes to ~120 MB.
# A "decompression bomb" (a small file that decodes to gigabytes) is refused from its header.
MAX_PIXELS = 40_000_000
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
# The widths people's browsers choose from (srcset); smaller pictures are never enlarged.
WIDTHS = (480, 960, 1600)
MIN_SIDE = 64
WEBP_QUALITY = 80
JPEG_QUALITY = 82
BACKGROUND = (255, 255, 255)  # behind transparent parts: JPEG has no transparency

REFUSALS = {
    "too_large": _l("The picture is larger than 10 MB. Please choose a smaller file."),
    "not_an_image": _l(
        "This file is not a picture we can read. Upload a JPEG, PNG or WebP photo."
    ),
    "too_many_pixels": _l(
        "The picture has too many pixels (at most 40 megapixels). Please resize it first."
    ),
    "too_small": _l("The picture is too small (at least 64 pixels wide and high)."),
}


class ImageRefused(Exception):
    """The upload is not an acceptable picture. `code` is a key of REFUSALS."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return str(REFUSALS[self.code])


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    webp: bytes
    jpeg: bytes


@dataclass(frozen=True)
class Processed:
    """The re-encoded picture: `digest` names its files (it changes with their content, so
    they can be cached for ever), `renditions` go from the smallest width to the largest."""

    digest: str
    width: int
    height: int
    renditions: list[Rendition]


def rendition_widths(width: int) -> list[int]:
    """The widths made of a picture `width` pixels wide (after the largest is capped)."""
    top = min(width, WIDTHS[-1])
    return [w for w in WIDTHS if w < top] + [top]


def scaled_height(width: int, height: int, to_width: int) -> int:
    return max(1, round(height * to_width / width))


def _decode(data: bytes) -> Image.Image:
    """The picture in `data`, upright and fully decoded, or ImageRefused."""
    if len(data) > MAX_BYTES:
        raise ImageRefused("too_large")
    try:
        with warnings.catch_warnings():
            # Pillow warns, then fails, on bombs; our own limit below is stricter anyway.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
            if probe.width * probe.height > MAX_PIXELS:
                raise ImageRefused("too_many_pixels")
            probe.verify()
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
            image.load()
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused("too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ImageRefused("not_an_image") from None
    upright: Image.Image = ImageOps.exif_transpose(image)
    if min(upright.size) < MIN_SIDE:
        raise ImageRefused("too_small")
    return upright


def _flatten(image: Image.Image) -> Image.Image:
    """An RGB copy with no metadata (transparent parts on white)."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L"):
        # 16-bit greyscale PNG: scaled to 8 bits (a plain conversion would clip to white).
        image = image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, BACKGROUND)
        flat.paste(rgba, mask=rgba.getchannel("A"))
    else:
        flat = image.convert("RGB")
    clean = Image.new("RGB", flat.size)
    clean.paste(flat)
    return clean


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "WEBP":
        image.save(out, "WEBP", quality=WEBP_QUALITY, method=4, exif=b"")
    else:
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True, exif=b"")
    return out.getvalue()


def process(data: bytes) -> Processed:
    """Check the uploaded bytes and re-encode them at every width; ImageRefused otherwise."""
    image = _flatten(_decode(data))
    width, height = image.size
    renditions = []
    for w in rendition_widths(width):
        h = scaled_height(width, height, w)
        sized = image if w == width else image.resize((w, h), Image.Resampling.LANCZOS)
        renditions.append(Rendition(w, h, _encode(sized, "WEBP"), _encode(sized, "JPEG")))
    largest = renditions[-1]
    digest = hashlib.sha256(largest.webp + largest.jpeg).hexdigest()[:32]
    return Processed(digest, largest.width, largest.height, renditions)


def file_key(digest: str, width: int, ext: str) -> str:
    """The storage key of one file: content-addressed, two characters of fan-out."""
    return f"{digest[:2]}/{digest}-{width}.{ext}"
