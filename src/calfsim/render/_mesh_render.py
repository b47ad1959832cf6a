"""Headless renders of leg meshes: before/after grids and strips of weeks (moderngl over EGL).

Frame and views. Meshes are in calfsim's frame: metres, +Z up, the person facing -Y (so the
back of the leg faces +Y) with their left towards +X. The views are orthographic, so that sizes
in the image are proportional to sizes on the leg and a narrower calf reads as a narrower
silhouette:

- ``"back"``: seen from behind (from +Y); the person's left leg is on the left of the image, as
  on the injection map;
- ``"front"``: seen from the front (from -Y); the person's left leg is on the right;
- ``"side"``: seen from the person's right (from -X); the person faces the right of the image.

Comparable pictures need one camera: :func:`frame_camera` frames the union of every mesh it is
given, and :func:`before_after_png` and :func:`weeks_strip_png` frame all their states at once.
A thin outline of the first state's silhouette is drawn over the later ones, so that a change of
a few millimetres is visible.

Shading: smooth vertex normals, Lambert key and fill lights from the camera's upper left, an
ambient term and a rim term that brightens the silhouette, computed in linear colour and shown
in sRGB; edges are 4x multisampled. Colours with alpha < 1 are blended (x-ray inner meshes) after
the opaque ones, farthest first.

One OpenGL context per process is created on first use (``moderngl``, EGL backend: no display
needed; Mesa's llvmpipe renders on the CPU).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from calfsim.errors import InvalidInputError, MissingExtraError

__all__ = ["MeshCamera", "before_after_png", "frame_camera", "render_meshes", "weeks_strip_png"]

#: A mesh to draw: vertices (n, 3) in metres, triangles (m, 3), colour (r, g, b, a) in [0, 1].
RenderMesh = tuple[Any, Any, Sequence[float]]

#: For each view: direction the camera looks along, and the image's up, in calfsim's frame.
_VIEWS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "back": ((0.0, -1.0, 0.0), (0.0, 0.0, 1.0)),
    "front": ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
    "side": ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
}
_WHITE = (1.0, 1.0, 1.0, 1.0)
_SAMPLES = 4  # multisampling: smooth silhouettes at a small cost on llvmpipe
_OUTLINE_RGB = (40, 90, 160)  # border of the reference silhouette, over later states
_GHOST_RGB = (150, 185, 230)  # tint of the area the reference covered and this state does not
_OUTLINE_PX = 2
_LABEL_RGB = (30, 30, 30)
_NOTE_RGB = (110, 110, 110)
_MAX_SIDE_PX = 8192  # beyond this a render is surely a mistake (and costs seconds)

_VERTEX_SHADER = """
#version 330
uniform mat4 view_projection;
uniform mat3 view_rotation;
in vec3 in_position;
in vec3 in_normal;
out vec3 normal_view;
void main() {
    gl_Position = view_projection * vec4(in_position, 1.0);
    normal_view = view_rotation * in_normal;
}
"""

_FRAGMENT_SHADER = """
#version 330
uniform vec4 color;
in vec3 normal_view;
out vec4 frag_color;
const vec3 KEY = normalize(vec3(-0.65, 0.45, 0.60));
const vec3 FILL = normalize(vec3(0.70, -0.20, 0.45));
void main() {
    vec3 n = normalize(normal_view);
    if (!gl_FrontFacing) n = -n;  // two-sided: closed meshes of either winding look the same
    vec3 base = pow(color.rgb, vec3(2.2));
    float key = max(dot(n, KEY), 0.0);
    float fill = max(dot(n, FILL), 0.0);
    float facing = clamp(n.z, 0.0, 1.0);  // the camera looks along -z in view space
    float rim = pow(1.0 - facing, 3.0);
    vec3 halfway = normalize(KEY + vec3(0.0, 0.0, 1.0));
    float specular = pow(max(dot(n, halfway), 0.0), 40.0);
    float ambient = 0.15 + 0.10 * (n.y * 0.5 + 0.5);  // a little more light from above
    vec3 lit = base * (ambient + 0.85 * key + 0.18 * fill) + 0.22 * rim + 0.05 * specular;
    frag_color = vec4(pow(clamp(lit, 0.0, 1.0), vec3(1.0 / 2.2)), color.a);
}
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class MeshCamera:
    """An orthographic camera for one view; the same camera gives comparable images.

    Parameters
    ----------
    view : {"back", "front", "side"}
        Direction of view (see the module notes for the frame).
    center_m : tuple of 3 float
        Point shown at the centre of the image, metres.
    height_m : float
        Height of the scene the image spans from bottom to top, metres; the width follows the
        image's aspect ratio.
    """

    view: str
    center_m: tuple[float, float, float]
    height_m: float

    def __post_init__(self) -> None:
        if self.view not in _VIEWS:
            raise InvalidInputError(
                f"view must be one of {sorted(_VIEWS)}; got {self.view!r}", field="view"
            )
        center = tuple(float(c) for c in self.center_m)
        if len(center) != 3 or not all(np.isfinite(center)):
            raise InvalidInputError(
                f"center_m must be 3 finite coordinates; got {self.center_m!r}", field="center_m"
            )
        if not (np.isfinite(self.height_m) and self.height_m > 0):
            raise InvalidInputError(
                f"height_m must be > 0 m; got {self.height_m!r}", field="height_m"
            )
        object.__setattr__(self, "center_m", center)
        object.__setattr__(self, "height_m", float(self.height_m))

    def axes(self) -> np.ndarray:
        """Return the camera's right, up and backward (towards the viewer) unit vectors, (3, 3)."""
        forward, up = (np.asarray(v, dtype=np.float64) for v in _VIEWS[self.view])
        right = np.cross(forward, up)
        return np.stack([right, up, -forward])


@dataclass(frozen=True, slots=True)
class _Mesh:
    vertices: np.ndarray  # float32 (n, 3)
    normals: np.ndarray  # float32 (n, 3)
    faces: np.ndarray  # uint32 (m, 3)
    rgba: tuple[float, float, float, float]
    is_inside_out: bool  # triangles wound clockwise seen from outside (negative volume)


def _check_size(size: Sequence[int]) -> tuple[int, int]:
    try:
        width, height = (int(s) for s in size)
    except (TypeError, ValueError):
        raise InvalidInputError(f"size must be (width, height) pixels; got {size!r}") from None
    if not (1 <= width <= _MAX_SIDE_PX and 1 <= height <= _MAX_SIDE_PX):
        raise InvalidInputError(
            f"size must be between 1 and {_MAX_SIDE_PX} pixels a side; got {size!r}",
            field="size",
        )
    return width, height


def _check_meshes(meshes: Sequence[RenderMesh], what: str = "meshes") -> list[_Mesh]:
    """Validate ``(vertices_m, faces, rgba)`` triples and compute their smooth normals."""
    if isinstance(meshes, str | bytes) or not isinstance(meshes, Sequence) or not meshes:
        raise InvalidInputError(
            f"{what} must be a non-empty sequence of (vertices_m, faces, rgba)", field=what
        )
    out = []
    for i, item in enumerate(meshes):
        where = f"{what}[{i}]"
        if not (isinstance(item, tuple | list) and len(item) == 3):
            raise InvalidInputError(f"{where} must be (vertices_m, faces, rgba)", field=where)
        vertices = np.asarray(item[0], dtype=np.float64)
        faces = np.asarray(item[1])
        if vertices.ndim != 2 or vertices.shape[1] != 3 or len(vertices) < 3:
            raise InvalidInputError(f"{where}: vertices_m must have shape (n >= 3, 3)", field=where)
        if not np.isfinite(vertices).all():
            raise InvalidInputError(f"{where}: vertices_m has NaN or infinite values", field=where)
        if faces.ndim != 2 or faces.shape[1] != 3 or len(faces) == 0:
            raise InvalidInputError(f"{where}: faces must have shape (m >= 1, 3)", field=where)
        if not np.issubdtype(faces.dtype, np.integer) or faces.min() < 0:
            raise InvalidInputError(f"{where}: faces must be vertex indices >= 0", field=where)
        if faces.max() >= len(vertices):
            raise InvalidInputError(
                f"{where}: face index {faces.max()} is out of range for {len(vertices)} vertices",
                field=where,
            )
        rgba = tuple(float(c) for c in item[2])
        if len(rgba) != 4 or not all(0.0 <= c <= 1.0 for c in rgba):
            raise InvalidInputError(f"{where}: rgba must be 4 floats in [0, 1]", field=where)
        normals, volume = _normals_and_volume(vertices, faces)
        out.append(
            _Mesh(
                vertices=vertices.astype(np.float32),
                normals=normals.astype(np.float32),
                faces=faces.astype(np.uint32),
                rgba=(rgba[0], rgba[1], rgba[2], rgba[3]),
                is_inside_out=volume < 0,
            )
        )
    return out


def _normals_and_volume(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, float]:
    """Smooth area-weighted unit vertex normals, and the signed volume enclosed (m^3).

    The volume is negative when the triangles are wound clockwise seen from outside. Vertices
    of no face get the normal (0, 0, 1).
    """
    first, second, third = (faces[:, k].astype(np.intp) for k in range(3))
    origin = vertices[first]
    e1, e2 = vertices[second] - origin, vertices[third] - origin
    # Written-out cross product (2x faster than np.cross); its length is twice the face area.
    face_normals = np.empty_like(e1)
    face_normals[:, 0] = e1[:, 1] * e2[:, 2] - e1[:, 2] * e2[:, 1]
    face_normals[:, 1] = e1[:, 2] * e2[:, 0] - e1[:, 0] * e2[:, 2]
    face_normals[:, 2] = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    # Tetrahedra from the origin: v0 . ((v1 - v0) x (v2 - v0)) = v0 . (v1 x v2).
    volume = float(np.einsum("ij,ij->", origin, face_normals)) / 6.0
    n = len(vertices)
    corners = np.concatenate([first, second, third])
    normals = np.column_stack(
        [
            np.bincount(corners, weights=np.tile(face_normals[:, a], 3), minlength=n)
            for a in range(3)
        ]
    )
    length = np.sqrt(np.einsum("ij,ij->i", normals, normals))
    unused = length < 1e-300
    normals[unused] = (0.0, 0.0, 1.0)
    length[unused] = 1.0
    return normals / length[:, None], volume


def frame_camera(
    meshes: Sequence[RenderMesh],
    *,
    view: str = "back",
    size: Sequence[int] = (600, 900),
    margin_frac: float = 0.05,
) -> MeshCamera:
    """Return the orthographic camera that frames every given mesh in an image of ``size``.

    Pass the meshes of every state to compare (before and after, or all weeks) so that one
    camera frames them all.

    Parameters
    ----------
    meshes : sequence of (vertices_m, faces, rgba)
        Vertices (n, 3) in metres; faces and colours are not used for framing.
    view : {"back", "front", "side"}, default "back"
        Direction of view.
    size : (int, int), default (600, 900)
        Image width and height in pixels (only their ratio matters).
    margin_frac : float, default 0.05
        Empty border on each side, as a fraction of the image height, in [0, 0.4].

    Returns
    -------
    MeshCamera

    Raises
    ------
    InvalidInputError
        If a mesh, the view, the size or the margin is invalid.

    Examples
    --------
    >>> import numpy as np
    >>> tri = (np.array([[0, 0, 0], [0.1, 0, 0], [0, 0, 0.4]]), np.array([[0, 1, 2]]), (1, 0, 0, 1))
    >>> camera = frame_camera([tri], view="back", size=(300, 600), margin_frac=0.0)
    >>> [round(c, 3) for c in camera.center_m], round(camera.height_m, 3)
    ([0.05, 0.0, 0.2], 0.4)
    """
    if not 0.0 <= margin_frac <= 0.4:
        raise InvalidInputError(
            f"margin_frac must be in [0, 0.4]; got {margin_frac}", field="margin_frac"
        )
    return _frame(_check_meshes(meshes), _check_view(view), _check_size(size), margin_frac)


def _check_view(view: str) -> str:
    if view not in _VIEWS:
        raise InvalidInputError(f"view must be one of {sorted(_VIEWS)}; got {view!r}", field="view")
    return view


def _frame(
    meshes: Sequence[_Mesh], view: str, size: tuple[int, int], margin_frac: float = 0.05
) -> MeshCamera:
    width, height = size
    # Coordinates as rows (3, N): reductions along contiguous rows are ~10x faster.
    points = np.concatenate([mesh.vertices.T for mesh in meshes], axis=1).astype(np.float64)
    center = (points.min(axis=1) + points.max(axis=1)) / 2
    axes = MeshCamera(view=view, center_m=(0.0, 0.0, 0.0), height_m=1.0).axes()
    screen = axes[:2] @ points  # along the image's right and up
    extent = screen.max(axis=1) - screen.min(axis=1)
    needed = max(extent[1], extent[0] * height / width, 1e-6)
    return MeshCamera(
        view=view,
        center_m=(float(center[0]), float(center[1]), float(center[2])),
        height_m=float(needed / (1.0 - 2.0 * margin_frac)),
    )


class _Renderer:
    """The process's OpenGL context, shader program and framebuffers (created on first use)."""

    _lock = threading.Lock()
    _instance: _Renderer | None = None

    def __init__(self) -> None:
        try:
            import moderngl
        except ImportError as error:  # pragma: no cover - moderngl is a core dependency
            raise MissingExtraError(
                "3D renders need moderngl: pip install 'moderngl>=5.10'"
            ) from error
        # Any: moderngl's stubs lag its API (backend=, per-framebuffer depth_mask, ...).
        create_context: Any = moderngl.create_standalone_context
        try:
            self.ctx: Any = create_context(backend="egl", require=330)
        except Exception as error:  # moderngl raises a bare Exception when EGL is missing
            raise RuntimeError(
                "headless OpenGL (EGL) is unavailable, so meshes cannot be rendered: "
                f"{error}. Install Mesa's EGL and software renderer "
                "(Debian: apt-get install libegl1 libgl1-mesa-dri)."
            ) from error
        self.moderngl: Any = moderngl
        self.program: Any = self.ctx.program(
            vertex_shader=_VERTEX_SHADER, fragment_shader=_FRAGMENT_SHADER
        )
        self._framebuffers: dict[tuple[int, int], tuple[Any, Any]] = {}

    @classmethod
    def get(cls) -> _Renderer:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def framebuffers(self, size: tuple[int, int]) -> tuple[Any, Any]:
        """Multisampled framebuffer to draw into and a plain one to resolve and read."""
        if size not in self._framebuffers:
            if len(self._framebuffers) > 8:  # bounded cache: sizes are usually few
                for draw, resolve in self._framebuffers.values():
                    draw.release()
                    resolve.release()
                self._framebuffers.clear()
            ctx = self.ctx
            draw = ctx.framebuffer(
                color_attachments=[ctx.renderbuffer(size, 4, samples=_SAMPLES)],
                depth_attachment=ctx.depth_renderbuffer(size, samples=_SAMPLES),
            )
            resolve = ctx.framebuffer(color_attachments=[ctx.renderbuffer(size, 4)])
            self._framebuffers[size] = (draw, resolve)
        return self._framebuffers[size]

    def render(
        self,
        meshes: list[_Mesh],
        camera: MeshCamera,
        size: tuple[int, int],
        background: tuple[float, float, float, float],
    ) -> np.ndarray:
        gl = self.moderngl
        ctx = self.ctx
        axes = camera.axes()
        center = np.asarray(camera.center_m)
        # Depth range from the meshes themselves: it clips nothing and does not change the image.
        depth = np.concatenate([mesh.vertices @ axes[2] for mesh in meshes]) - center @ axes[2]
        near, far = -float(depth.max()) - 0.01, -float(depth.min()) + 0.01
        half_h = camera.height_m / 2
        half_w = half_h * size[0] / size[1]
        projection = np.diag([1 / half_w, 1 / half_h, -2 / (far - near), 1.0])
        projection[2, 3] = -(far + near) / (far - near)
        view = np.eye(4)
        view[:3, :3] = axes
        view[:3, 3] = -axes @ center
        self.program["view_projection"].write((projection @ view).T.astype("f4").tobytes())
        self.program["view_rotation"].write(axes.T.astype("f4").tobytes())

        draw, resolve = self.framebuffers(size)
        draw.use()
        ctx.viewport = (0, 0, *size)
        draw.clear(*background, depth=1.0)
        ctx.enable(gl.DEPTH_TEST)
        ctx.disable(gl.CULL_FACE)
        opaque = [m for m in meshes if m.rgba[3] >= 1.0]
        # See-through meshes after the opaque ones, farthest first, without writing depth.
        see_through = sorted(
            (m for m in meshes if m.rgba[3] < 1.0),
            key=lambda m: float((m.vertices.mean(axis=0) - center) @ axes[2]),
        )
        ctx.disable(gl.BLEND)
        for mesh in opaque:
            self._draw(mesh)
        if see_through:
            ctx.enable(gl.BLEND)
            ctx.blend_func = (gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA, gl.ONE, gl.ONE_MINUS_SRC_ALPHA)
            draw.depth_mask = False  # see-through surfaces do not hide what is behind them
            ctx.enable(gl.CULL_FACE)
            ctx.front_face = "ccw"
            for mesh in see_through:
                # Far side first, then near side: blending in triangle order instead would mix
                # the two sides differently from pixel to pixel (a moire of the triangles).
                culled_in_turn = ("back", "front") if mesh.is_inside_out else ("front", "back")
                for culled in culled_in_turn:
                    ctx.cull_face = culled
                    self._draw(mesh)
            ctx.disable(gl.CULL_FACE)
            draw.depth_mask = True
            ctx.disable(gl.BLEND)
        ctx.copy_framebuffer(resolve, draw)
        pixels = np.frombuffer(resolve.read(components=4, alignment=1), dtype=np.uint8)
        return np.ascontiguousarray(pixels.reshape(size[1], size[0], 4)[::-1])

    def _draw(self, mesh: _Mesh) -> None:
        ctx = self.ctx
        interleaved = np.hstack([mesh.vertices, mesh.normals]).astype("f4")
        vbo = ctx.buffer(interleaved.tobytes())
        ibo = ctx.buffer(mesh.faces.tobytes())
        vao = ctx.vertex_array(
            self.program,
            [(vbo, "3f 3f", "in_position", "in_normal")],
            index_buffer=ibo,
            index_element_size=4,
        )
        try:
            self.program["color"].value = mesh.rgba
            vao.render(self.moderngl.TRIANGLES)
        finally:
            vao.release()
            vbo.release()
            ibo.release()


def render_meshes(
    meshes: Sequence[RenderMesh],
    *,
    view: str | None = None,
    size: Sequence[int] = (600, 900),
    camera: MeshCamera | None = None,
    background_rgba: Sequence[float] = _WHITE,
) -> np.ndarray:
    """Render meshes offscreen and return the image.

    Parameters
    ----------
    meshes : sequence of (vertices_m, faces, rgba)
        Vertices (n, 3) in metres (calfsim frame: +Z up, the person facing -Y), triangles
        (m, 3) as vertex indices, colour as 4 floats in [0, 1] (alpha < 1 is see-through).
    view : {"back", "front", "side"}, optional
        Direction of view; defaults to the camera's view, or ``"back"`` without a camera.
    size : (int, int), default (600, 900)
        Image width and height in pixels.
    camera : MeshCamera, optional
        Use this camera (from :func:`frame_camera` on the union of states to compare); by
        default the meshes are framed on their own.
    background_rgba : 4 floats, default white
        Background colour; with alpha 0 the image's alpha channel is the meshes' coverage.

    Returns
    -------
    numpy.ndarray of uint8, shape (height, width, 4)
        RGBA pixels, top row first.

    Raises
    ------
    InvalidInputError
        If a mesh, the view, the size or the colour is invalid, or ``view`` differs from the
        camera's view.
    RuntimeError
        If no headless OpenGL context (EGL) can be created on this machine.
    """
    checked = _check_meshes(meshes)
    width, height = _check_size(size)
    background = tuple(float(c) for c in background_rgba)
    if len(background) != 4 or not all(0.0 <= c <= 1.0 for c in background):
        raise InvalidInputError(
            f"background_rgba must be 4 floats in [0, 1]; got {background_rgba!r}",
            field="background_rgba",
        )
    if camera is None:
        camera = _frame(checked, _check_view(view or "back"), (width, height))
    elif view is not None and view != camera.view:
        raise InvalidInputError(
            f"view {view!r} differs from the camera's view {camera.view!r}", field="view"
        )
    return _Renderer.get().render(
        checked,
        camera,
        (width, height),
        (background[0], background[1], background[2], background[3]),
    )


# -- composed images -----------------------------------------------------------------------------


def _font(size_px: int, *, is_bold: bool = False) -> Any:
    """DejaVu Sans from matplotlib's data folder (always installed with it), else PIL's default."""
    import matplotlib
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if is_bold else "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(
            str(Path(matplotlib.get_data_path(), "fonts", "ttf", name)), size_px
        )
    except OSError:  # pragma: no cover - a matplotlib without its fonts
        return ImageFont.load_default(size=size_px)


def _grow(mask: np.ndarray, steps: int) -> np.ndarray:
    """Dilate a boolean mask by ``steps`` pixels (4-neighbourhood)."""
    grown = mask.copy()
    for _ in range(steps):
        grown[1:] |= grown[:-1].copy()
        grown[:-1] |= grown[1:].copy()
        grown[:, 1:] |= grown[:, :-1].copy()
        grown[:, :-1] |= grown[:, 1:].copy()
    return grown


def _panel(
    meshes: list[_Mesh],
    camera: MeshCamera,
    size: tuple[int, int],
    reference: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Render an RGB panel and its coverage mask; mark where ``reference`` covered more.

    Where the reference silhouette (an earlier state) extends beyond this one, the lost area is
    tinted and its border drawn in blue; where the two coincide nothing is drawn.
    """
    pixels = _Renderer.get().render(meshes, camera, size, (1.0, 1.0, 1.0, 0.0))
    image, mask = pixels[..., :3].copy(), pixels[..., 3] >= 128
    if reference is not None:
        near = _grow(mask, 1)
        lost = reference & ~mask
        image[lost] = (0.55 * image[lost] + 0.45 * np.array(_GHOST_RGB)).astype(np.uint8)
        edge = reference & ~_shrink(reference, _OUTLINE_PX) & ~near
        image[edge] = _OUTLINE_RGB
    return image, mask


def _shrink(mask: np.ndarray, steps: int) -> np.ndarray:
    return ~_grow(~mask, steps)


def _legend(draw: Any, xy: tuple[int, int], reference_label: str, font: Any) -> None:
    """Explain the reference marks, centred at ``xy`` (top)."""
    text = f"blue: where the {reference_label.lower()} silhouette was larger"
    draw.text(xy, text, fill=_OUTLINE_RGB, font=font, anchor="ma")


def _save(canvas: Any, path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out, format="PNG", compress_level=3)  # level 3: 2-3x faster than 6, ~10 % larger
    return out


def _check_labels(labels: Sequence[str], n: int, name: str) -> list[str]:
    if isinstance(labels, str) or len(labels) != n:
        raise InvalidInputError(f"{name} must be {n} strings; got {labels!r}", field=name)
    return [str(label) for label in labels]


def before_after_png(
    before: Sequence[RenderMesh],
    after: Sequence[RenderMesh],
    path: str | Path,
    *,
    views: Sequence[str] = ("back", "side"),
    labels: Sequence[str] = ("Before", "After"),
    size: Sequence[int] = (420, 640),
    title: str | None = None,
    has_reference_outline: bool = True,
) -> Path:
    """Write a before/after grid: one row per view, columns before and after, one camera per row.

    Parameters
    ----------
    before, after : sequence of (vertices_m, faces, rgba)
        The two states (see :func:`render_meshes`); each row's camera frames both.
    path : str or Path
        Output PNG; its folder is created if missing.
    views : sequence of {"back", "front", "side"}, default ("back", "side")
        One row per view, top to bottom.
    labels : (str, str), default ("Before", "After")
        Column headings.
    size : (int, int), default (420, 640)
        Width and height of each panel, pixels.
    title : str, optional
        A line above the grid.
    has_reference_outline : bool, default True
        Draw the "before" silhouette as a thin blue line over the "after" panels.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InvalidInputError
        If a mesh, a view, the labels or the size is invalid.
    RuntimeError
        If no headless OpenGL context (EGL) can be created on this machine.
    """
    from PIL import Image, ImageDraw

    states = [_check_meshes(before, "before"), _check_meshes(after, "after")]
    columns = _check_labels(labels, 2, "labels")
    views = list(views)
    if not views or any(v not in _VIEWS for v in views):
        raise InvalidInputError(
            f"views must be a non-empty list of {sorted(_VIEWS)}; got {views!r}", field="views"
        )
    width, height = _check_size(size)
    unit = max(12, height // 32)  # text size follows the panel size
    heading_px = int(unit * 2.4) + (int(unit * 2.0) if title else 0)
    footer_px = int(unit * 1.8) if has_reference_outline else 0
    canvas = Image.new("RGB", (2 * width, heading_px + len(views) * height + footer_px), "white")
    draw = ImageDraw.Draw(canvas)
    y = 0
    if title:
        draw.text(
            (width, int(unit * 0.4)),
            title,
            fill=_LABEL_RGB,
            font=_font(int(unit * 1.2), is_bold=True),
            anchor="ma",
        )
        y = int(unit * 2.0)
    for column, label in enumerate(columns):
        draw.text(
            (column * width + width // 2, y + int(unit * 0.5)),
            label,
            fill=_LABEL_RGB,
            font=_font(int(unit * 1.3), is_bold=True),
            anchor="ma",
        )
    small = _font(int(unit * 0.9))
    for row, view in enumerate(views):
        camera = _frame(states[0] + states[1], view, (width, height))
        top = heading_px + row * height
        reference = None
        for column, state in enumerate(states):
            panel, mask = _panel(state, camera, (width, height), reference)
            if has_reference_outline:
                reference = mask
            canvas.paste(Image.fromarray(panel), (column * width, top))
            draw.text(
                (column * width + unit // 2, top + unit // 3),
                f"{view} view",
                fill=_NOTE_RGB,
                font=small,
            )
    if has_reference_outline:
        _legend(draw, (width, canvas.height - footer_px + unit // 3), columns[0], small)
    return _save(canvas, path)


def weeks_strip_png(
    frames: Sequence[tuple[str, Sequence[RenderMesh]]],
    path: str | Path,
    *,
    view: str = "back",
    size: Sequence[int] = (260, 420),
    title: str | None = None,
    has_reference_outline: bool = True,
) -> Path:
    """Write a horizontal strip of states over time (e.g. weeks 0, 4, 12, 26, 52), one camera.

    Parameters
    ----------
    frames : sequence of (str, sequence of (vertices_m, faces, rgba))
        Label (e.g. ``"week 12"``) and meshes of each state, left to right.
    path : str or Path
        Output PNG; its folder is created if missing.
    view : {"back", "front", "side"}, default "back"
        Direction of view of every frame.
    size : (int, int), default (260, 420)
        Width and height of each frame, pixels.
    title : str, optional
        A line above the strip.
    has_reference_outline : bool, default True
        Draw the first frame's silhouette as a thin blue line over the later frames.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InvalidInputError
        If a frame, the view or the size is invalid.
    RuntimeError
        If no headless OpenGL context (EGL) can be created on this machine.
    """
    from PIL import Image, ImageDraw

    if isinstance(frames, str) or not isinstance(frames, Sequence) or not frames:
        raise InvalidInputError(
            "frames must be a non-empty sequence of (label, meshes)", field="frames"
        )
    labels, states = [], []
    for i, frame in enumerate(frames):
        if not (isinstance(frame, tuple | list) and len(frame) == 2):
            raise InvalidInputError(f"frames[{i}] must be (label, meshes)", field=f"frames[{i}]")
        labels.append(str(frame[0]))
        states.append(_check_meshes(frame[1], f"frames[{i}]"))
    view = _check_view(view)
    width, height = _check_size(size)
    unit = max(11, height // 28)
    heading_px = int(unit * 2.0) if title else 0
    label_px = int(unit * 2.0)
    footer_px = int(unit * 1.8) if has_reference_outline and len(states) > 1 else 0
    small = _font(int(unit * 0.9))
    canvas = Image.new(
        "RGB", (len(states) * width, heading_px + label_px + height + footer_px), "white"
    )
    draw = ImageDraw.Draw(canvas)
    if title:
        draw.text(
            (canvas.width // 2, int(unit * 0.4)),
            title,
            fill=_LABEL_RGB,
            font=_font(int(unit * 1.2), is_bold=True),
            anchor="ma",
        )
    camera = _frame([mesh for state in states for mesh in state], view, (width, height))
    font = _font(int(unit * 1.1), is_bold=True)
    reference = None
    for i, (label, state) in enumerate(zip(labels, states, strict=True)):
        panel, mask = _panel(state, camera, (width, height), reference)
        if i == 0 and has_reference_outline:
            reference = mask
        canvas.paste(Image.fromarray(panel), (i * width, heading_px + label_px))
        draw.text(
            (i * width + width // 2, heading_px + int(unit * 0.4)),
            label,
            fill=_LABEL_RGB,
            font=font,
            anchor="ma",
        )
    if has_reference_outline and len(states) > 1:
        _legend(draw, (canvas.width // 2, canvas.height - footer_px + unit // 3), labels[0], small)
    return _save(canvas, path)
