"""Reading and writing photos safely (Pillow): size limits, EXIF orientation, no metadata out.

A photo comes from a person's phone, so it is treated as hostile input:

- the file size is capped before anything is read (`MAX_FILE_BYTES`);
- only JPEG, PNG and WebP are opened, and the pixel count is read from the header and checked
  against `MAX_PIXELS` **before** the image is decoded, so a decompression bomb (a small file
  declaring a huge image) or a 100-megapixel photo is refused in milliseconds;
- a truncated or corrupt file is refused (no half-decoded images);
- the EXIF orientation is applied (phones store portrait photos sideways plus a flag);
- every output is written from pixels only: no EXIF, GPS, maker notes or comments.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from calfsim.errors import InvalidInputError

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
    try:
        image.load()
        upright = ImageOps.exif_transpose(image)
        rgb = upright.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise _refuse(f"{name} is truncated or corrupt ({exc})") from None
    return np.asarray(rgb, dtype=np.uint8)


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
    image = Image.fromarray(np.ascontiguousarray(pixels))
    out = io.BytesIO()
    if kind in (".jpg", ".jpeg"):
        image.save(out, format="JPEG", quality=quality, subsampling=0, optimize=False)
    elif kind == ".png":
        image.save(out, format="PNG", compress_level=1)
    else:
        raise InvalidInputError(
            f"output must be a .jpg, .jpeg or .png file; got {suffix!r}", field="out"
        )
    return out.getvalue()
