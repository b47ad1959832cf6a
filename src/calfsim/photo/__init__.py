"""The photo try-on: a person's own photo, with the calves changed by the model's amount.

Core-style modules (pure numpy/scipy, no image library): the model's silhouette change per
level and side (`silhouette_change`), contour tracing by dynamic programming, and the
displacement field. Adapters: reading and writing photos safely (Pillow), the pose model
(MediaPipe) and the warp (OpenCV). Needs the ``photo`` extra (see ``docs/photo.md``).

Typical use (``protocol`` from :func:`calfsim.io.read_protocol`)::

    from calfsim.photo import compare_image, read_photo, silhouette_changes, tryon_photo

    result = tryon_photo(read_photo("legs.jpg"), silhouette_changes(protocol, day=84))
    result.after, compare_image(result)  # RGB arrays; encode_image writes them without metadata
"""

from calfsim.photo._change import (
    BANDS,
    SilhouetteChange,
    predict_for_photo,
    silhouette_change,
    silhouette_change_from_prediction,
    silhouette_changes,
)
from calfsim.photo._contour import LegContour, subpixel_peak, trace_edge
from calfsim.photo._detect import (
    DETECT_LONG_SIDE_PX,
    VIEWS,
    LegFinding,
    PhotoLegs,
    PoseDetector,
    find_legs_in_photo,
)
from calfsim.photo._field import (
    FADE_WIDTH_RATIO,
    LegDisplacement,
    WarpGrid,
    leg_displacement,
    warp_grid,
)
from calfsim.photo._image import MAX_FILE_BYTES, MAX_PIXELS, MIN_SIDE_PX, encode_image, read_photo
from calfsim.photo._landmarks import ADVICE, Landmark, knee_bend_deg, leg_problem
from calfsim.photo._tryon import (
    TryOn,
    compare_image,
    remap_region,
    tryon_photo,
    tryon_to_dict,
    warp_photo,
)

__all__ = [
    "ADVICE",
    "BANDS",
    "DETECT_LONG_SIDE_PX",
    "FADE_WIDTH_RATIO",
    "MAX_FILE_BYTES",
    "MAX_PIXELS",
    "MIN_SIDE_PX",
    "VIEWS",
    "Landmark",
    "LegContour",
    "LegDisplacement",
    "LegFinding",
    "PhotoLegs",
    "PoseDetector",
    "SilhouetteChange",
    "TryOn",
    "WarpGrid",
    "compare_image",
    "encode_image",
    "find_legs_in_photo",
    "knee_bend_deg",
    "leg_displacement",
    "leg_problem",
    "predict_for_photo",
    "read_photo",
    "remap_region",
    "silhouette_change",
    "silhouette_change_from_prediction",
    "silhouette_changes",
    "subpixel_peak",
    "trace_edge",
    "tryon_photo",
    "tryon_to_dict",
    "warp_grid",
    "warp_photo",
]
