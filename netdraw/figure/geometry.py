"""2-D geometry for figures: polygons, segments, overlaps, hulls (in any one unit)."""

from __future__ import annotations

import math
from collections.abc import Sequence

Point = tuple[float, float]
Polygon = list[Point]


def rect(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def bbox(poly: Sequence[Point]) -> tuple[float, float, float, float]:
    xs = [p[0] for p in poly]
    ys = [p[1] for p in poly]
    return min(xs), min(ys), max(xs), max(ys)


def rotated_rect(cx: float, cy: float, w: float, h: float, degrees: float) -> Polygon:
    a = math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    out = []
    for px, py in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)):
        out.append((cx + px * c - py * s, cy + px * s + py * c))
    return out


def shrink(poly: Sequence[Point], margin: float) -> Polygon:
    """The polygon moved ``margin`` towards its centroid (so touching is not crossing)."""
    cx = sum(p[0] for p in poly) / len(poly)
    cy = sum(p[1] for p in poly) / len(poly)
    out = []
    for x, y in poly:
        dx, dy = x - cx, y - cy
        dist = math.hypot(dx, dy) or 1.0
        k = max(0.0, dist - margin) / dist
        out.append((cx + dx * k, cy + dy * k))
    return out


def inside(point: Point, poly: Sequence[Point]) -> bool:
    """Strictly inside a convex-or-simple polygon (ray casting)."""
    x, y = point
    result = False
    n = len(poly)
    for i in range(n):
        (x1, y1), (x2, y2) = poly[i], poly[(i + 1) % n]
        if (y1 > y) != (y2 > y):
            xc = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if xc > x:
                result = not result
    return result


def _orient(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def segments_cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """Proper intersection of two segments (touching at an end point does not count)."""
    d1, d2 = _orient(q1, q2, p1), _orient(q1, q2, p2)
    d3, d4 = _orient(p1, p2, q1), _orient(p1, p2, q2)
    return (d1 * d2 < 0) and (d3 * d4 < 0)


def segment_hits_polygon(a: Point, b: Point, poly: Sequence[Point]) -> bool:
    """Whether segment ``a``–``b`` enters the polygon's interior."""
    if inside(a, poly) or inside(b, poly):
        return True
    mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
    if inside(mid, poly):
        return True
    n = len(poly)
    return any(segments_cross(a, b, poly[i], poly[(i + 1) % n]) for i in range(n))


def polyline_hits_polygon(points: Sequence[Point], poly: Sequence[Point]) -> bool:
    return any(segment_hits_polygon(points[i], points[i + 1], poly)
               for i in range(len(points) - 1))


def polygons_overlap(p: Sequence[Point], q: Sequence[Point]) -> bool:
    """Whether two convex polygons share interior (separating-axis test)."""
    for poly in (p, q):
        n = len(poly)
        for i in range(n):
            (x1, y1), (x2, y2) = poly[i], poly[(i + 1) % n]
            nx, ny = y2 - y1, x1 - x2
            pa = [nx * x + ny * y for x, y in p]
            qa = [nx * x + ny * y for x, y in q]
            if max(pa) <= min(qa) + 1e-9 or max(qa) <= min(pa) + 1e-9:
                return False
    return True


def circle(cx: float, cy: float, r: float, n: int = 24) -> Polygon:
    return [(cx + r * math.cos(2 * math.pi * k / n), cy + r * math.sin(2 * math.pi * k / n))
            for k in range(n)]


def convex_hull(points: Sequence[Point]) -> Polygon:
    """The convex hull of points, counter-clockwise (Andrew's monotone chain)."""
    pts = sorted(set(points))
    if len(pts) <= 2:
        return list(pts)

    def half(seq: list[Point]) -> list[Point]:
        out: list[Point] = []
        for p in seq:
            while len(out) >= 2 and _orient(out[-2], out[-1], p) <= 0:
                out.pop()
            out.append(p)
        return out
    lower, upper = half(pts), half(pts[::-1])
    return lower[:-1] + upper[:-1]


def flip(poly: Sequence[Point]) -> Polygon:
    """The polygon mirrored top to bottom (y -> -y): from y-down drawing to y-up layout."""
    return [(x, -y) for x, y in poly]
