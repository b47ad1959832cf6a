"""Reading and writing photos safely (Pillow): size limits, EXIF orientation, no metadata out.

A photo comes from a person's phone, so it is treated as hostile input:

- the file size is capped before anything is read (`MAX_FILE_BYTES`);
- only JPEG, PNG and WebP are opened, and the pixel count is read from the header and checked
  against `MAX_PIXELS` **before** the image is decoded, so a decompression bomb (a small file
  declaring a huge image) or a 100-megapixel photo is refused in milliseconds;
- a truncated or corrupt file is refused (no half-decoded images);
- the EXIF orientation is applied (phones store portrait photos sideways plus a flag);
- every output is written from pixels only: no EXIF, GPS, maker notes or comments.

Pillow reads the header, the format and the EXIF orientation (without decoding); OpenCV decodes
and encodes the pixels (about twice as fast as Pillow plus its conversion to numpy for a 12 MP
JPEG). OpenCV decodes a truncated JPEG without complaint, so completeness is checked from the
file structure first: the main image's end-of-image marker (JPEG), the IEND chunk (PNG), the
RIFF size (WebP).
"""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError

from calfsim.errors import InvalidInputError, MissingExtraError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_PIXELS",
    "MIN_SIDE_PX",
    "encode_image",
    "read_photo",
]

#: Largest photo file accepted, bytes (a 50 MP phone JPEG is about 25 MB).
MAX_FILE_BYTES = 40 * 1024 * 1024
#: Largest photo accepted, pixels: 50 MP covers every phone's default mode (12-50 MP) and keeps
#: one decoded RGB copy under 150 MB.
MAX_PIXELS = 50_000_000
#: Smallest side accepted: below this the legs cannot be traced.
MIN_SIDE_PX = 256
_FORMATS = ("JPEG", "PNG", "WEBP")  # JPEG includes multi-picture (MPO) files
_EXIF_ORIENTATION = 0x0112


def _refuse(message: str) -> InvalidInputError:
    return InvalidInputError(message, field="photo")


def read_photo(source: str | Path | bytes, *, max_pixels: int = MAX_PIXELS) -> NDArray[np.uint8]:
    """Decode a photo to an upright RGB array, refusing anything unsafe or unusable.

    Parameters
    ----------
    source : str, Path or bytes
        A JPEG, PNG or WebP file, or its bytes.
    max_pixels : int, optional
        Largest accepted width x height (default `MAX_PIXELS`).

    Returns
    -------
    ndarray of uint8, shape (height, width, 3)
        The pixels, rotated and mirrored as the EXIF orientation says.

    Raises
    ------
    InvalidInputError
        ``field="photo"``: missing, too large a file, not a supported image, more than
        ``max_pixels`` pixels, too small, truncated or corrupt.
    """
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
        name = "the photo"
        if len(data) > MAX_FILE_BYTES:
            raise _refuse(
                f"the photo is {len(data) / 1e6:.1f} MB; at most "
                f"{MAX_FILE_BYTES / 1e6:.0f} MB are accepted"
            )
    else:
        path = Path(source)
        name = str(path)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise _refuse(f"cannot read {name}: {exc.strerror or exc}") from None
        if not path.is_file():
            raise _refuse(f"{name} is not a file")
        if size > MAX_FILE_BYTES:
            raise _refuse(
                f"{name} is {size / 1e6:.1f} MB; at most {MAX_FILE_BYTES / 1e6:.0f} MB are accepted"
            )
        data = path.read_bytes()
    try:
        with warnings.catch_warnings():
            # Pillow warns (and above 2x its limit raises) on huge headers; the size check
            # below gives the person a clearer message first.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=_FORMATS)
    except Image.DecompressionBombError:
        raise _refuse(
            f"{name} declares an enormous image (a decompression bomb?); at most "
            f"{max_pixels / 1e6:.0f} megapixels are accepted"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise _refuse(
            f"{name} is not a JPEG, PNG or WebP image (HEIC photos: export them as JPEG)"
        ) from None
    width, height = image.size
    if width * height > max_pixels:
        raise _refuse(
            f"{name} is {width} x {height} = {width * height / 1e6:.0f} megapixels; at most "
            f"{max_pixels / 1e6:.0f} megapixels are accepted (resize it)"
        )
    if min(width, height) < MIN_SIDE_PX:
        raise _refuse(
            f"{name} is {width} x {height} pixels; the shorter side must be at least "
            f"{MIN_SIDE_PX} pixels"
        )
    if not _is_complete(data, image.format or ""):
        raise _refuse(f"{name} is truncated or corrupt (it ends before the image does)")
    orientation = _orientation(image)
    cv2 = _cv2()
    # OpenCV >= 4.10 decodes straight to RGB (no 12 MP colour conversion afterwards).
    as_rgb = getattr(cv2, "IMREAD_COLOR_RGB", None)
    flags = (cv2.IMREAD_COLOR if as_rgb is None else as_rgb) | cv2.IMREAD_IGNORE_ORIENTATION
    pixels = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
    if pixels is None or pixels.shape[:2] != (height, width):
        raise _refuse(f"{name} is truncated or corrupt (it cannot be decoded)")
    if as_rgb is None:  # pragma: no cover - older OpenCV
        pixels = cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
    result: NDArray[np.uint8] = np.ascontiguousarray(_upright(pixels, orientation, cv2))
    return result


def _cv2() -> Any:
    try:
        import cv2
    except ImportError:  # pragma: no cover - depends on the installation
        raise MissingExtraError(
            "reading photos needs the 'photo' extra (OpenCV): pip install 'calfsim[photo]'"
        ) from None
    return cv2


def _orientation(image: Image.Image) -> int:
    """EXIF orientation (1-8; 1 = upright) from the header, without decoding."""
    try:
        value = image.getexif().get(_EXIF_ORIENTATION, 1)
    except (OSError, ValueError, SyntaxError, struct.error):
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _upright(pixels: NDArray[np.uint8], orientation: int, cv2: Any) -> NDArray[np.uint8]:
    """Rotate and mirror stored pixels as the EXIF orientation says (as Pillow's exif_transpose)."""
    ops: dict[int, Any] = {
        2: lambda p: cv2.flip(p, 1),
        3: lambda p: cv2.rotate(p, cv2.ROTATE_180),
        4: lambda p: cv2.flip(p, 0),
        5: lambda p: cv2.transpose(p),
        6: lambda p: cv2.rotate(p, cv2.ROTATE_90_CLOCKWISE),
        7: lambda p: cv2.rotate(cv2.transpose(p), cv2.ROTATE_180),
        8: lambda p: cv2.rotate(p, cv2.ROTATE_90_COUNTERCLOCKWISE),
    }
    op = ops.get(orientation)
    result: NDArray[np.uint8] = pixels if op is None else op(pixels)
    return result


def _is_complete(data: bytes, kind: str) -> bool:
    """Whether the file holds its whole image (checked from its structure, not by decoding)."""
    if kind == "PNG":
        return data.rfind(b"IEND") > 8
    if kind == "WEBP":
        return len(data) >= 12 and struct.unpack("<I", data[4:8])[0] + 8 <= len(data)
    if kind in ("JPEG", "MPO"):
        start = _jpeg_scan_start(data)
        return start is not None and data.find(b"\xff\xd9", start) != -1
    return False


def _jpeg_scan_start(data: bytes) -> int | None:
    """Offset of the main image's first scan (after the headers, skipping EXIF thumbnails)."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        length = int(struct.unpack(">H", data[pos + 2 : pos + 4])[0])
        if marker == 0xDA:  # start of scan
            return pos + 2 + length
        pos += 2 + length
    return None


def encode_image(pixels: NDArray[np.uint8], *, suffix: str, quality: int = 92) -> bytes:
    """Encode RGB pixels as JPEG or PNG, with no metadata at all.

    Parameters
    ----------
    pixels : ndarray of uint8, shape (h, w, 3)
    suffix : {".jpg", ".jpeg", ".png"}
        Output format, by file suffix.
    quality : int, default 92
        JPEG quality.

    Returns
    -------
    bytes

    Raises
    ------
    InvalidInputError
        If the suffix is not a supported format.
    """
    kind = suffix.lower()
    cv2 = _cv2()
    bgr = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2BGR)
    if kind in (".jpg", ".jpeg"):
        ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    elif kind == ".png":
        ok, encoded = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    else:
        raise InvalidInputError(
            f"output must be a .jpg, .jpeg or .png file; got {suffix!r}", field="out"
        )
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 RGB array
        raise InvalidInputError("the image could not be encoded", field="out")
    return bytes(encoded.tobytes())
