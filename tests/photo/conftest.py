"""Fixtures of the photo try-on tests: the real photos (skipped when absent) and the detector."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ASSETS = Path(__file__).resolve().parents[2].parent / "shared" / "assets"
PHOTOS = ASSETS / "photos"
SCANS = ASSETS / "scans"


def asset(path: Path) -> Path:
    """The asset at ``path``, or skip the test when the shared assets are absent."""
    if not path.is_file():
        pytest.skip(f"real test asset {path} is absent (../shared/assets is not on this machine)")
    return path


@pytest.fixture(scope="session")
def mediapipe_ok() -> None:
    """Skip when the 'photo' extra (mediapipe, OpenCV) is not installed."""
    pytest.importorskip("cv2", reason="the 'photo' extra is not installed (opencv)")
    pytest.importorskip("mediapipe", reason="the 'photo' extra is not installed (mediapipe)")


@pytest.fixture(scope="session")
def read(mediapipe_ok: None):
    """Read an asset photo with calfsim's reader."""
    from calfsim.photo import read_photo

    def _read(name: str) -> np.ndarray:
        return read_photo(asset(PHOTOS / name))

    return _read
