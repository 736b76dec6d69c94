"""Where a drawing's numbers go: each node's forward value above a line leaving it and
its gradient below, clear of the nodes, the weight labels, the other numbers and the lines.

Boxes are (centre x, centre y, width, height) in pixels; a line is a polyline of points.
"""

from __future__ import annotations

import math
from typing import Any

from derive.notes.diagram import at_length
from derive.printing.mathml import esc

# Where on a line its value may sit (a fraction of the way from its source).
FLOW_POS = (0.5, 0.6, 0.4, 0.7, 0.3, 0.55, 0.45, 0.65, 0.35, 0.75, 0.25, 0.8, 0.2)
# A leaf with one line (into the gate it feeds, beside other leaves' lines): its numbers go
# near the leaf, where the lines are still apart (the TikZ figure sets them at 0.3).
LEAF_POS = (0.3, 0.25, 0.35, 0.2, 0.4, 0.45, 0.5, 0.55, 0.6)


def flows(
    spans: list,
    boxes: list,
    forward: dict,
    grads: dict,
    swept: Any,
    num: Any,
    dsts: Any,
    texts: list,
    lines: list,
) -> list[str]:
    """Return each node's forward value above a line leaving it and its dL/dv below it.

    A node that feeds several lines is labelled once, on the line and at the first of
    :data:`FLOW_POS` where the pair overlaps no node, weight label, pair placed before it
    or line (else where it overlaps least): every line from it carries the same value.
    """
    out = []
    taken = list(boxes)
    segments = [(id(line), seg) for line in lines for seg in zip(line, line[1:], strict=False)]
    by_src: dict[str, list] = {}
    fed = set(dsts)
    for src, line in spans:
        if src in forward:
            by_src.setdefault(src, []).append(line)
    for src, own in by_src.items():
        text, grad = num(forward[src]), grads.get(src, "")
        w = 7 * max(len(text), len(grad)) + 4
        ts = LEAF_POS if src not in fed and len(own) == 1 else FLOW_POS
        spots = [_flow_spot(line, t, w, off) for off in (0, 8) for t in ts for line in own]
        mine = {id(line) for line in own}  # the numbers sit beside their own lines
        others = [seg for i, seg in segments if i not in mine]
        room = [
            sum(_overlap(box, b) for box in pair for b in taken)
            + LINE_COST * sum(_crosses(box, seg) for box in pair for seg in others)
            for pair in spots
        ]
        best = next((i for i, r in enumerate(room) if r == 0), room.index(min(room)))
        taken += spots[best]
        (vx, vy, _, _), (gx, gy, _, _) = spots[best]
        texts += [("fwd", src, vx, vy, text), ("grad", src, gx, gy, grad)]
        on = " swept" if src in swept else ""
        out.append(
            f'<g class="flow{on}" data-flow="{esc(src)}"><text class="fwd" data-value="{esc(src)}" '
            f'x="{vx:.1f}" y="{vy + 4:.1f}">{text}</text><text class="grad" '
            f'data-grad="{esc(src)}" x="{gx:.1f}" y="{gy + 4:.1f}">{esc(grad)}</text></g>'
        )
    return out


# What a line through a number costs, against the area (px²) it overlaps other boxes by.
LINE_COST = 1500


def _crosses(box: tuple, seg: tuple) -> bool:
    """Return whether a segment passes through a box (centre x, centre y, width, height),
    grown by 2 px (Liang-Barsky clipping)."""
    (ax, ay), (bx, by) = seg
    x0, x1 = box[0] - box[2] / 2 - 2, box[0] + box[2] / 2 + 2
    y0, y1 = box[1] - box[3] / 2 - 2, box[1] + box[3] / 2 + 2
    if max(ax, bx) < x0 or min(ax, bx) > x1 or max(ay, by) < y0 or min(ay, by) > y1:
        return False
    lo, hi = 0.0, 1.0
    for p, q in ((ax - bx, ax - x0), (bx - ax, x1 - ax), (ay - by, ay - y0), (by - ay, y1 - ay)):
        if p == 0:
            if q < 0:
                return False
        elif p < 0:
            lo = max(lo, q / p)
        else:
            hi = min(hi, q / p)
    return lo <= hi


def _flow_spot(line: list, t: float, w: float, off: float = 0) -> tuple[tuple, tuple]:
    """Return the boxes of a value above a line (a polyline) at ``t`` of its length and of
    a gradient below, each turned off the line's direction there (``off`` pixels further)."""
    (ax, ay), (bx, by), along = at_length(line, t)
    t = min(along / (math.dist((ax, ay), (bx, by)) or 1.0), 1.0)
    length = max(((bx - ax) ** 2 + (by - ay) ** 2) ** 0.5, 1.0)
    nx, ny = (by - ay) / length, -(bx - ax) / length  # a normal, turned to point up
    if ny > 0 or (ny == 0 and nx > 0):
        nx, ny = -nx, -ny
    # How far from the line a text's box must sit to keep clear of it (half its extent across).
    d = 2 + off + w / 2 * abs((by - ay) / length) + 6 * abs((bx - ax) / length)
    x, y = ax + t * (bx - ax), ay + t * (by - ay)
    return (x + d * nx, y + d * ny, w, 14), (x - d * nx, y - d * ny, w, 14)


def pill_box(cx: float, cy: float, label: str, grad: str) -> tuple[float, float, float, float]:
    """Return the box a weight's label and the gradient written beside it cover."""
    w, side = 9 + 8 * len(label), 7 * len(grad) + 3 if grad else 0
    return (cx + side / 2, cy, w + side, 18)


def _overlap(a: tuple, b: tuple) -> float:
    """Return the area two boxes (centre x, centre y, width, height) share."""
    dx = min(a[0] + a[2] / 2, b[0] + b[2] / 2) - max(a[0] - a[2] / 2, b[0] - b[2] / 2)
    dy = min(a[1] + a[3] / 2, b[1] + b[3] / 2) - max(a[1] - a[3] / 2, b[1] - b[3] / 2)
    return max(dx, 0) * max(dy, 0)
