"""Speed of the photo try-on on a 12-megapixel photo, and of its warp against a bare remap.

Run with ``make bench``; medians go to docs/benchmarks.md. Targets (issue 6): a 12 MP photo end
to end (decode, detect, contour, warp, encode) under 1.5 s, and the warp step within 3x a bare
``cv2.remap`` of the same image. The photo is the real PIFu photo (``../shared/assets``) scaled
to 3464 x 3464 pixels (12.0 MP) and stored as a JPEG; the detector is built and warmed up
before timing (one per process), and the model's change is predicted once beforehand (its own
cost is `test_predict_for_photo`).
"""

import io
from pathlib import Path

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")
pytest.importorskip("mediapipe")

from PIL import Image  # noqa: E402

from calfsim.io import read_protocol  # noqa: E402
from calfsim.photo import (  # noqa: E402
    encode_image,
    find_legs_in_photo,
    leg_displacement,
    read_photo,
    silhouette_changes,
    tryon_photo,
    warp_photo,
)

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT.parent / "shared" / "assets" / "photos" / "pifu-ryota.png"
SIDE_PX = 3464  # 3464^2 = 12.0 MP


@pytest.fixture(scope="module")
def jpeg_12mp():
    if not PHOTO.is_file():
        pytest.skip(f"{PHOTO} is absent")
    image = Image.open(PHOTO).convert("RGB").resize((SIDE_PX, SIDE_PX), Image.Resampling.BICUBIC)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=92)
    return out.getvalue()


@pytest.fixture(scope="module")
def changes():
    protocol = read_protocol(ROOT / "examples" / "protocol.json")
    return silhouette_changes(protocol, day=84, band="p10", rng=1)


@pytest.fixture(scope="module")
def warmed(jpeg_12mp):
    rgb = read_photo(jpeg_12mp)
    legs = find_legs_in_photo(rgb)  # builds the models and runs them once
    assert len(legs.usable_sides) == 2
    return rgb, legs


def test_tryon_12mp_end_to_end(benchmark, jpeg_12mp, changes, warmed):
    def run():
        rgb = read_photo(jpeg_12mp)
        result = tryon_photo(rgb, changes)
        return encode_image(result.after, suffix=".jpg")

    data = benchmark(run)
    assert data[:2] == b"\xff\xd8"


def test_detect_and_trace_12mp(benchmark, warmed):
    rgb, _ = warmed
    legs = benchmark(find_legs_in_photo, rgb)
    assert len(legs.usable_sides) == 2


def test_warp_step_12mp(benchmark, changes, warmed):
    rgb, legs = warmed
    moves = [leg_displacement(legs.legs[s].contour, changes[s]) for s in legs.usable_sides]
    after = benchmark(warp_photo, rgb, moves)
    assert after.shape == rgb.shape and not np.array_equal(after, rgb)


def test_bare_remap_12mp(benchmark, warmed):
    """The floor: one cv2.remap of the whole image with float maps (bilinear)."""
    rgb, _ = warmed
    height, width = rgb.shape[:2]
    map_x = np.broadcast_to(np.arange(width, dtype=np.float32) + 0.3, (height, width)).copy()
    map_y = np.broadcast_to(np.arange(height, dtype=np.float32)[:, None], (height, width)).copy()
    out = benchmark(cv2.remap, rgb, map_x, map_y, cv2.INTER_LINEAR)
    assert out.shape == rgb.shape


def test_predict_for_photo(benchmark):
    protocol = read_protocol(ROOT / "examples" / "protocol.json")
    result = benchmark(silhouette_changes, protocol, day=84, rng=1)
    assert len(result) == 2
