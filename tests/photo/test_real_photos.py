"""The real photos of ``../shared/assets/photos``: landmarks, contours against a hand-made
ground-truth mask, the yoga pose, refusals, several people and no person.

Skipped when the assets or the 'photo' extra are absent.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from calfsim.domain import Side
from calfsim.errors import InvalidInputError
from calfsim.io import read_protocol

from .conftest import PHOTOS, asset

STANDING = ("pifu-ryota.png", "tfex-standing-suit.jpeg")
#: The acceptance bound: traced contours within 3 px of the ground-truth mask's boundary.
CONTOUR_TOLERANCE_PX = 3.0


@pytest.fixture(scope="module")
def found(read):
    from calfsim.photo import find_legs_in_photo

    return {name: find_legs_in_photo(read(name)) for name in (*STANDING, "tfex-yoga-leggings.jpeg")}


@pytest.mark.parametrize("name", STANDING)
def test_knees_and_ankles_are_found_on_the_standing_photos(found, name):
    legs = found[name]
    for side in ("left", "right"):
        hip, knee, ankle = (legs.landmarks[f"{side}_{j}"] for j in ("hip", "knee", "ankle"))
        for point in (hip, knee, ankle):
            assert point.is_in_image
            assert point.visibility >= 0.5
        # Standing: hip above knee above ankle, the lower leg about as long as the thigh.
        assert hip.y_px < knee.y_px < ankle.y_px
        thigh, shin = knee.y_px - hip.y_px, ankle.y_px - knee.y_px
        assert 0.6 < shin / thigh < 1.6
    # Both photos are front views: the person's left leg is on the image right.
    assert legs.view == "front"
    assert legs.landmarks["left_knee"].x_px > legs.landmarks["right_knee"].x_px


def _mask_edges(mask_row, x):
    """Boundaries (pixel edges) of the run of True in a row around column x."""
    falses = np.flatnonzero(~mask_row)
    return falses[falses < x][-1] + 0.5, falses[falses > x][0] - 0.5


def test_traced_calves_lie_within_3_px_of_the_ground_truth_mask(found):
    mask = np.asarray(Image.open(asset(PHOTOS / "pifu-ryota-mask.png")).convert("L")) > 127
    legs = found["pifu-ryota.png"]
    assert set(legs.usable_sides) == {Side.LEFT, Side.RIGHT}
    for side in (Side.LEFT, Side.RIGHT):
        contour = legs.legs[side].contour
        assert contour is not None
        errors = []
        for y, left, right in zip(contour.y_px, contour.left_x_px, contour.right_x_px, strict=True):
            truth = _mask_edges(mask[int(y)], round((left + right) / 2))
            errors.append((left - truth[0], right - truth[1]))
        errors = np.abs(np.array(errors))
        assert errors.max() <= CONTOUR_TOLERANCE_PX, (side, errors.max(axis=0))
        assert errors.mean() < 1.0
        # The medial contour is the one towards the other leg.
        other = legs.legs[Side.RIGHT if side is Side.LEFT else Side.LEFT].contour
        towards = contour.medial_x_px - contour.lateral_x_px
        assert np.all(
            np.sign(towards) == np.sign(other.left_x_px.mean() - contour.left_x_px.mean())
        )


def test_the_yoga_pose_warps_the_standing_leg_only(found, read, example_path):
    from calfsim.photo import silhouette_changes, tryon_photo

    legs = found["tfex-yoga-leggings.jpeg"]
    bent = legs.legs[Side.RIGHT]
    assert not bent.is_usable
    assert bent.reason == "bent"
    assert "straight" in bent.advice
    standing = legs.legs[Side.LEFT]
    assert standing.is_usable
    # Standing on one leg, under the body's midline: medial is still towards the other hip
    # (the person's right, on the image left in this front view).
    assert standing.contour.is_medial_left
    rgb = read("tfex-yoga-leggings.jpeg")
    changes = silhouette_changes(read_protocol(example_path), day=84, n_samples=400, rng=1)
    result = tryon_photo(rgb, changes, legs=legs)
    assert set(result.displacements) == {Side.LEFT}
    assert any("right knee is bent" in note for note in result.notes)
    changed = np.any(result.after != rgb, axis=2)
    rows, cols = np.nonzero(changed)
    contour = standing.contour
    # Only the standing lower leg and its immediate background moved.
    assert rows.min() >= contour.knee_xy_px[1] and rows.max() <= contour.ankle_xy_px[1]
    width = float(np.max(contour.width_px))
    assert cols.min() >= contour.left_x_px.min() - width and cols.max() <= (
        contour.right_x_px.max() + width
    )
    # The bent leg (its knee is far to the image left) is untouched.
    knee = legs.landmarks["right_knee"]
    assert not changed[:, : int(knee.x_px) + 20].any()


def test_the_suit_photo_is_refused_with_advice(found, read, example_path):
    from calfsim.photo import silhouette_changes, tryon_photo

    legs = found["tfex-standing-suit.jpeg"]
    assert legs.usable_sides == ()
    changes = silhouette_changes(read_protocol(example_path), day=84, n_samples=200, rng=1)
    with pytest.raises(InvalidInputError) as info:
        tryon_photo(read("tfex-standing-suit.jpeg"), changes, legs=legs)
    assert info.value.field == "photo"
    assert len(info.value.problems) == 2
    assert all("hip-width apart" in problem for problem in info.value.problems)


def test_no_person_is_refused(mediapipe_ok):
    from calfsim.photo import find_legs_in_photo

    rng = np.random.default_rng(1)
    noise = (rng.random((480, 640, 3)) * 255).astype(np.uint8)
    for image in (np.full((480, 640, 3), 128, np.uint8), noise):
        with pytest.raises(InvalidInputError, match="no person") as info:
            find_legs_in_photo(image)
        assert info.value.field == "photo"


def test_two_people_are_refused(read):
    from calfsim.photo import find_legs_in_photo

    one = read("pifu-ryota.png")[:, 100:420]
    with pytest.raises(InvalidInputError, match="2 people"):
        find_legs_in_photo(np.ascontiguousarray(np.concatenate([one, one], axis=1)))


def test_the_view_option_names_the_legs(read):
    from calfsim.photo import find_legs_in_photo

    rgb = read("pifu-ryota.png")
    front = find_legs_in_photo(rgb, view="front")
    back = find_legs_in_photo(rgb, view="back")
    assert front.view == "front" and back.view == "back"
    # Seen from behind, the person's left leg is the image-left one.
    assert back.landmarks["left_knee"].x_px < back.landmarks["right_knee"].x_px
    assert back.landmarks["left_knee"].x_px == front.landmarks["right_knee"].x_px
    with pytest.raises(InvalidInputError) as info:
        find_legs_in_photo(rgb, view="side")
    assert info.value.field == "view"
