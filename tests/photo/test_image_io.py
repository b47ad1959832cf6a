"""Hostile and awkward photo files: refused before decoding, clear messages, no metadata out."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from PIL import Image

from calfsim.errors import InvalidInputError
from calfsim.photo import MAX_PIXELS, encode_image, read_photo


def _png_header_only(width, height):
    """A PNG that declares width x height pixels and holds a few bytes of (zero) data."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _jpeg(width=400, height=300, **save):
    rng = np.random.default_rng(0)
    pixels = (rng.random((height, width, 3)) * 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", **save)
    return out.getvalue()


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail the test if any image is decoded."""

    def refuse(self, *args, **kwargs):
        raise AssertionError("the image was decoded")

    monkeypatch.setattr(Image.Image, "load", refuse)
    monkeypatch.setattr(Image.Image, "convert", refuse)
    cv2 = pytest.importorskip("cv2")
    monkeypatch.setattr(cv2, "imdecode", refuse)


def _refused(source, match):
    with pytest.raises(InvalidInputError, match=match) as info:
        read_photo(source)
    assert info.value.field == "photo"
    return info.value


def test_not_an_image(tmp_path):
    path = tmp_path / "legs.jpg"
    path.write_text("this is not a photo", encoding="utf-8")
    _refused(path, "not a JPEG, PNG or WebP")
    _refused(b"%PDF-1.7 not a photo", "not a JPEG, PNG or WebP")


def test_missing_file_and_folder(tmp_path):
    _refused(tmp_path / "missing.jpg", "cannot read")
    _refused(tmp_path, "not a file")


def test_truncated_file(tmp_path):
    data = _jpeg(800, 600)
    _refused(data[: len(data) // 2], "truncated or corrupt")


def test_decompression_bomb_is_refused_from_its_header(no_decoding):
    tracemalloc.start()
    try:
        error = _refused(_png_header_only(60_000, 60_000), "megapixels")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # a few MB at most: nothing of the declared 10 GB was allocated
    assert "3600 megapixels" in error.message or "enormous" in error.message


@pytest.fixture(scope="module")
def photo_100mp():
    """A genuine 100 MP PNG (one bit per pixel keeps the test small)."""
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, format="PNG")
    return out.getvalue()


def test_a_100_megapixel_photo_is_refused_before_decoding(photo_100mp, no_decoding):
    _refused(photo_100mp, f"at most {MAX_PIXELS / 1e6:.0f} megapixels")


def test_too_small_a_photo():
    _refused(_jpeg(200, 150), "at least 256")


def test_exif_orientation_is_applied_and_no_metadata_is_written():
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 deg clockwise to display
    exif[0x010F] = "PhoneMaker"  # make
    gps = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    exif[0x8825] = gps
    data = _jpeg(400, 300, exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).getexif().get(0x0112) == 6
    pixels = read_photo(data)
    assert pixels.shape == (400, 300, 3)  # upright: portrait
    for suffix in (".jpg", ".png"):
        written = Image.open(io.BytesIO(encode_image(pixels, suffix=suffix)))
        assert len(written.getexif()) == 0
        assert "exif" not in written.info
        assert written.size == (300, 400)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillow(orientation):
    from PIL import ImageOps

    rng = np.random.default_rng(orientation)
    # Large flat blocks, so that JPEG artefacts do not matter.
    blocks = (rng.random((6, 8, 3)) * 255).astype(np.uint8)
    pixels = np.kron(blocks, np.ones((48, 48, 1), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=95, exif=exif.tobytes())
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(out.getvalue()))), int)
    got = read_photo(out.getvalue()).astype(int)
    assert got.shape == expected.shape
    assert np.abs(got - expected).mean() < 2.0


def test_a_jpeg_with_exif_but_without_its_end_is_truncated():
    exif = Image.Exif()
    exif[0x0112] = 1
    data = _jpeg(800, 600, exif=exif.tobytes())
    assert read_photo(data).shape == (600, 800, 3)
    _refused(data[:-200], "truncated or corrupt")


def test_encode_rejects_other_formats():
    with pytest.raises(InvalidInputError) as info:
        encode_image(np.zeros((300, 300, 3), np.uint8), suffix=".gif")
    assert info.value.field == "out"


def test_rgba_and_grey_photos_become_rgb():
    for mode in ("RGBA", "L", "P"):
        out = io.BytesIO()
        Image.new(mode, (320, 300)).save(out, format="PNG")
        assert read_photo(out.getvalue()).shape == (300, 320, 3)
