"""Many parallel plane sections of a triangle mesh at once, as loops (vectorised numpy).

A plane ``x · normal = offset`` cuts a triangle when its vertices fall on both sides; each cut
edge gives one point and each cut triangle one segment joining two of them. Segments sharing a
cut edge belong to the same loop, so the loops of every plane are the connected components of
one sparse graph whose nodes are (edge, plane) pairs. A loop is *closed* when every node has
exactly two segments (a manifold, hole-free surface around it).

A vertex lying exactly on a plane counts as above it, so every cut triangle has exactly two cut
edges and neighbouring triangles agree on the shared point (no special cases).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull, QhullError

__all__ = ["Loops", "cut_loops", "hull_perimeters", "mesh_topology", "plane_basis"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


def mesh_topology(faces: IntArray, n_vertices: int) -> tuple[IntArray, IntArray, IntArray]:
    """Return the unique edges of a triangle mesh and the three edge indices of each face.

    Parameters
    ----------
    faces : ndarray of int, shape (m, 3)
        Vertex indices of each triangle.
    n_vertices : int
        Number of vertices (bounds the edge keys).

    Returns
    -------
    edges : ndarray of int64, shape (e, 2)
        Each undirected edge once, smaller vertex index first.
    face_edges : ndarray of int64, shape (m, 3)
        Index into ``edges`` of the edges (0-1, 1-2, 2-0) of each face.
    edge_face_counts : ndarray of int64, shape (e,)
        Number of faces using each edge (2 everywhere on a closed manifold surface).
    """
    pairs = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2).astype(np.int64)
    pairs.sort(axis=1)
    key = pairs[:, 0] * np.int64(max(n_vertices, 1)) + pairs[:, 1]
    unique, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    n = np.int64(max(n_vertices, 1))
    edges = np.column_stack([unique // n, unique % n]).astype(np.int64)
    return edges, inverse.reshape(-1, 3).astype(np.int64), counts.astype(np.int64)


@dataclass(frozen=True, slots=True, eq=False)
class Loops:
    """The loops of a set of parallel sections (internal; arrays indexed by loop).

    Attributes
    ----------
    level : ndarray of int64, shape (n_loops,)
        Index of the plane (into the ``offsets`` given to :func:`cut_loops`).
    is_closed : ndarray of bool, shape (n_loops,)
        True if the loop closes (every point joins exactly two segments).
    centroid_m : ndarray, shape (n_loops, 3)
        Length-weighted centroid of the loop's segments (independent of point density).
    length_m : ndarray, shape (n_loops,)
        Length of the loop (sum of its segments).
    points_m : ndarray, shape (n_points, 3)
        All loop points, grouped by loop; loop ``i`` is ``points_m[starts[i]:starts[i + 1]]``.
    starts : ndarray of int64, shape (n_loops + 1,)
        Offsets of each loop's points in ``points_m``.
    """

    level: IntArray
    is_closed: BoolArray
    centroid_m: FloatArray
    length_m: FloatArray
    points_m: FloatArray
    starts: IntArray

    def points(self, i: int) -> FloatArray:
        """Points of loop ``i``, shape (k, 3)."""
        return self.points_m[self.starts[i] : self.starts[i + 1]]

    def __len__(self) -> int:
        return int(self.level.shape[0])


def _empty_loops() -> Loops:
    return Loops(
        level=np.zeros(0, np.int64),
        is_closed=np.zeros(0, np.bool_),
        centroid_m=np.zeros((0, 3)),
        length_m=np.zeros(0),
        points_m=np.zeros((0, 3)),
        starts=np.zeros(1, np.int64),
    )


def _crossings(lo: FloatArray, hi: FloatArray, offsets: FloatArray) -> tuple[IntArray, IntArray]:
    """First plane index above ``lo`` and the number of planes in ``(lo, hi]`` per element."""
    k0 = np.searchsorted(offsets, lo, side="right").astype(np.int64)
    k1 = np.searchsorted(offsets, hi, side="right").astype(np.int64)
    return k0, k1 - k0


def _expand(counts: IntArray, first: IntArray) -> tuple[IntArray, IntArray]:
    """Repeat each element ``counts`` times: (element index, first + 0..counts-1)."""
    owners = np.flatnonzero(counts)
    c = counts[owners]
    total = int(c.sum())
    element = np.repeat(owners, c)
    block_start = np.cumsum(c) - c
    within = np.arange(total, dtype=np.int64) - np.repeat(block_start, c)
    return element.astype(np.int64), first[element] + within


def cut_loops(
    vertices_m: FloatArray,
    faces: IntArray,
    edges: IntArray,
    face_edges: IntArray,
    normal: FloatArray,
    offsets: FloatArray,
) -> Loops:
    """Cut a mesh with the planes ``x · normal = offset`` and return every loop.

    Parameters
    ----------
    vertices_m : ndarray, shape (n, 3)
        Vertex positions in metres.
    faces, edges, face_edges : ndarray of int
        The mesh and its topology (see :func:`mesh_topology`).
    normal : ndarray, shape (3,)
        Unit normal shared by all planes.
    offsets : ndarray, shape (k,)
        Plane offsets in metres along ``normal``, strictly increasing.

    Returns
    -------
    Loops
        One entry per connected piece of any section; empty if no plane meets the mesh.
    """
    d = vertices_m @ normal
    de = d[edges]
    lo_e = de.min(axis=1)
    hi_e = de.max(axis=1)
    k0_e, n_e = _crossings(lo_e, hi_e, offsets)
    node_start = np.cumsum(n_e) - n_e
    node_edge, node_k = _expand(n_e, k0_e)
    n_nodes = int(node_edge.shape[0])
    if n_nodes == 0:
        return _empty_loops()
    a = edges[node_edge, 0]
    b = edges[node_edge, 1]
    t = (offsets[node_k] - d[a]) / (d[b] - d[a])
    pts = vertices_m[a] + t[:, None] * (vertices_m[b] - vertices_m[a])

    df = d[faces]
    k0_f, n_f = _crossings(df.min(axis=1), df.max(axis=1), offsets)
    pair_face, pair_k = _expand(n_f, k0_f)
    fe = face_edges[pair_face]
    s = offsets[pair_k][:, None]
    crosses = (lo_e[fe] < s) & (s <= hi_e[fe])
    ok = crosses.sum(axis=1) == 2  # always true for finite input; guards against NaN
    nodes = node_start[fe] + pair_k[:, None] - k0_e[fe]
    seg = nodes[ok][crosses[ok]].reshape(-1, 2)
    na, nb = seg[:, 0], seg[:, 1]

    graph = coo_matrix((np.ones(na.shape[0]), (na, nb)), shape=(n_nodes, n_nodes))
    n_loops, labels = connected_components(graph, directed=False)
    labels = labels.astype(np.int64)
    degree = np.bincount(na, minlength=n_nodes) + np.bincount(nb, minlength=n_nodes)
    n_bad = np.bincount(labels, weights=(degree != 2).astype(np.float64), minlength=n_loops)

    seg_loop = labels[na]
    seg_len = np.linalg.norm(pts[na] - pts[nb], axis=1)
    mid = 0.5 * (pts[na] + pts[nb])
    length = np.bincount(seg_loop, weights=seg_len, minlength=n_loops)
    node_count = np.bincount(labels, minlength=n_loops).astype(np.float64)
    centroid = np.empty((n_loops, 3))
    safe = np.where(length > 0, length, 1.0)
    for j in range(3):
        weighted = np.bincount(seg_loop, weights=seg_len * mid[:, j], minlength=n_loops) / safe
        plain = np.bincount(labels, weights=pts[:, j], minlength=n_loops) / node_count
        centroid[:, j] = np.where(length > 0, weighted, plain)
    level = np.zeros(n_loops, np.int64)
    level[labels] = node_k
    order = np.argsort(labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(node_count.astype(np.int64))]).astype(np.int64)
    return Loops(
        level=level,
        is_closed=n_bad == 0,
        centroid_m=centroid,
        length_m=length.astype(np.float64),
        points_m=pts[order],
        starts=starts,
    )


def plane_basis(normal: FloatArray) -> FloatArray:
    """Two orthonormal vectors spanning the plane perpendicular to ``normal``, shape (2, 3)."""
    n = normal / np.linalg.norm(normal)
    helper = np.eye(3)[int(np.argmin(np.abs(n)))]
    u = np.cross(n, helper)
    u /= np.linalg.norm(u)
    return np.stack([u, np.cross(n, u)])


def hull_perimeters(loops: Loops, indices: IntArray, normal: FloatArray) -> FloatArray:
    """Perimeter of the 2D convex hull of each chosen loop in its plane (a tape's length).

    Parameters
    ----------
    loops : Loops
        Sections from :func:`cut_loops` with the same ``normal``.
    indices : ndarray of int
        Loops to measure.
    normal : ndarray, shape (3,)
        Plane normal.

    Returns
    -------
    ndarray, shape (len(indices),)
        Hull perimeter in metres; NaN for a degenerate loop (fewer than 3 non-collinear points).
    """
    basis = plane_basis(normal)
    out = np.full(indices.shape[0], np.nan)
    for j, i in enumerate(indices):
        pts = loops.points(int(i)) @ basis.T
        if pts.shape[0] < 3:
            continue
        try:
            out[j] = float(ConvexHull(pts).area)  # in 2D, qhull's "area" is the perimeter
        except QhullError:
            continue
    return out
