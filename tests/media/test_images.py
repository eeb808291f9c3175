"""Uploaded pictures are checked by their content and re-encoded: nothing of the original file
is kept, its metadata least of all."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.media import images
from tests.media.pictures import CAMERA, bomb, picture, with_exif


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def refusal(data: bytes) -> str:
    with pytest.raises(images.ImageRefused) as caught:
        images.process(data)
    return caught.value.code


def test_three_widths_as_webp_and_jpeg():
    result = images.process(picture((2000, 1500)))
    assert [(r.width, r.height) for r in result.renditions] == [
        (480, 360), (960, 720), (1600, 1200)
    ]
    assert (result.width, result.height) == (1600, 1200)
    for r in result.renditions:
        assert decoded(r.webp).format == "WEBP"
        assert decoded(r.jpeg).format == "JPEG"
        assert decoded(r.webp).size == decoded(r.jpeg).size == (r.width, r.height)
    assert images.rendition_widths(result.width) == [480, 960, 1600]


def test_small_pictures_are_not_enlarged():
    result = images.process(picture((700, 500), "PNG"))
    assert [r.width for r in result.renditions] == [480, 700]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_each_accepted_format(fmt):
    assert images.process(picture((300, 200), fmt)).width == 300


def test_transparent_png_is_flattened_on_white():
    result = images.process(picture((200, 200), "PNG", color=(0, 0, 0, 0), alpha=True))
    assert decoded(result.renditions[0].jpeg).getpixel((10, 10)) == pytest.approx(
        (255, 255, 255), abs=3
    )


def test_exif_and_gps_are_stripped_from_every_file():
    original = with_exif()
    assert CAMERA.encode() in original and b"Exif" in original
    result = images.process(original)
    for r in result.renditions:
        for data in (r.webp, r.jpeg):
            assert CAMERA.encode() not in data
            assert b"Exif" not in data and b"EXIF" not in data
            image = decoded(data)
            assert not image.getexif()
            assert "exif" not in image.info


def test_orientation_is_applied():
    # Orientation 6: the camera was turned; the picture must be rotated 90° clockwise, so the
    # red left half ends up on top.
    result = images.process(with_exif((800, 600), orientation=6))
    assert (result.width, result.height) == (600, 800)
    largest = decoded(result.renditions[-1].jpeg).convert("RGB")
    top = largest.getpixel((300, 100))
    bottom = largest.getpixel((300, 700))
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60


def test_non_image_with_an_image_name_is_refused():
    assert refusal(b"<?php system($_GET['c']); ?>" + b"\0" * 100) == "not_an_image"
    assert refusal(b"%PDF-1.4 not a photo") == "not_an_image"


def test_other_image_formats_are_refused():
    assert refusal(picture((200, 200), "GIF")) == "not_an_image"
    assert refusal(picture((200, 200), "BMP")) == "not_an_image"


def test_truncated_image_is_refused():
    assert refusal(picture((600, 400))[:500]) == "not_an_image"


def test_decompression_bomb_is_refused():
    data = bomb()
    assert len(data) < 10_000
    assert refusal(data) == "too_many_pixels"


def test_larger_than_ten_megabytes_is_refused():
    data = picture((64, 64))
    assert refusal(data + b"\0" * (images.MAX_BYTES + 1 - len(data))) == "too_large"


def test_tiny_image_is_refused():
    assert refusal(picture((20, 20), "PNG")) == "too_small"


def test_names_change_with_the_content():
    one = images.process(picture(color=(1, 2, 3)))
    two = images.process(picture(color=(200, 2, 3)))
    assert one.digest != two.digest
    assert images.process(picture(color=(1, 2, 3))).digest == one.digest
    assert images.file_key(one.digest, 480, "webp") == f"{one.digest[:2]}/{one.digest}-480.webp"


def test_sixteen_bit_greyscale_keeps_its_tones():
    out = io.BytesIO()
    Image.new("I;16", (200, 200), 30000).save(out, "PNG")
    result = images.process(out.getvalue())
    grey = decoded(result.renditions[0].jpeg).getpixel((5, 5))
    assert grey == pytest.approx((117, 117, 117), abs=3)


def test_cmyk_jpeg_becomes_rgb():
    out = io.BytesIO()
    Image.new("CMYK", (200, 200), (0, 255, 0, 0)).save(out, "JPEG")
    result = images.process(out.getvalue())
    assert decoded(result.renditions[0].webp).mode == "RGB"
