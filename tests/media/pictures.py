"""Pictures made on the fly for the photo tests (no binary fixtures in the repository)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import ExifTags, Image

CAMERA = "GongganTestCam"


def picture(size=(600, 400), fmt="JPEG", color=(40, 120, 200), **save) -> bytes:
    out = io.BytesIO()
    mode = "RGBA" if fmt == "PNG" and save.pop("alpha", False) else "RGB"
    Image.new(mode, size, color).save(out, fmt, **save)
    return out.getvalue()


def with_exif(size=(600, 400), orientation: int = 1) -> bytes:
    """A JPEG with a camera name, a GPS position and an orientation in its EXIF. Its left half
    is red, its right half blue, so the tests can see which way up it was turned."""
    image = Image.new("RGB", size, (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = CAMERA
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (37.0, 33.0, 59.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (126.0, 58.0, 40.0),
    }
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def bomb(width=10_000, height=10_000) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels: decoding it would need
    gigabytes, so it must be refused from the header alone."""
    data = bytearray(picture((64, 64), "PNG"))
    # Bytes 16-24 are IHDR's width and height, followed by depth/colour/…, then the CRC.
    data[16:24] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF
    data[29:33] = struct.pack(">I", crc)
    return bytes(data)
