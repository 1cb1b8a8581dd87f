"""Geometry of the process diagram, drawn server-side as SVG from a ``FlowMap``.

Columns are the BFS layers of the layout, rows the order within a layer. A transition to a
later column is a curve from the source's right side to the target's left side. A transition
back (or within a column) leaves the source on its left, runs in the gap before its column,
over the top of the diagram in a lane of its own to the gap before the target's column, and
enters the target from the left; so no line crosses a box. A transition that stays in its
state is a small loop on the box's top right. A transition from several states writes its
label once; every arrow carries it as its tooltip."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .process import FlowMap, StateNode

BOX_W, BOX_H = 200, 74
GAP_X, GAP_Y = 130, 36
LANE = 9  # spacing of the lanes in a gap and above the diagram


@dataclass
class Box:
    state: StateNode
    x: int
    y: int
    count_text: str
    median_text: str
    w: int = BOX_W
    h: int = BOX_H

    @property
    def cx(self) -> int:
        return self.x + self.w // 2


@dataclass
class Arrow:
    action: str
    label: str
    source: str
    target: str
    d: str  # SVG path
    lx: int  # where the label goes
    ly: int
    back: bool
    anchor: str = "middle"
    text: str = ""  # the label written on the line: once per transition, on its first source's arrow


@dataclass
class Diagram:
    width: int
    height: int
    boxes: list[Box]
    arrows: list[Arrow]


def duration(seconds: float | None) -> str:
    """A short, readable duration: 3 d 4 h, 5 h 12 min, 40 min, < 1 min."""
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    if minutes:
        return _("%(minutes)s min") % {"minutes": minutes}
    return _("< 1 min")


def diagram(flow: FlowMap) -> Diagram:
    edges = [(source, edge) for edge in flow.edges for source in edge.sources]
    by_code = {state.code: state for state in flow.states}
    # lanes: one per backward edge in the gap before each column, and one each above the boxes
    gap_lanes: dict[int, int] = defaultdict(int)
    plans = []
    top_lanes = 0
    for source, edge in edges:
        s, t = by_code[source], by_code[edge.target]
        if source == edge.target or t.depth > s.depth:
            plans.append((source, edge, None, None, None))
            continue
        gap_lanes[s.depth] += 1
        out_lane = gap_lanes[s.depth]
        if t.depth != s.depth:
            gap_lanes[t.depth] += 1
            in_lane = gap_lanes[t.depth]
            top_lanes += 1
            top = top_lanes
        else:
            in_lane, top = out_lane, None
        plans.append((source, edge, out_lane, in_lane, top))

    left = 24 + LANE * gap_lanes.get(0, 0)
    top_margin = 28 + LANE * top_lanes
    boxes = {
        state.code: Box(
            state=state,
            x=left + state.depth * (BOX_W + GAP_X),
            y=top_margin + state.row * (BOX_H + GAP_Y),
            count_text=ngettext("%(count)s document", "%(count)s documents", state.count) % {"count": state.count},
            median_text=_("median %(duration)s") % {"duration": duration(state.median_seconds)},
        )
        for state in flow.states
    }
    arrows = []
    labelled: set[str] = set()
    for source, edge, out_lane, in_lane, top in plans:
        a, b = boxes[source], boxes[edge.target]
        anchor = "middle"
        if source == edge.target:
            x0, y0 = a.x + a.w - 28, a.y
            d = f"M{x0},{y0} C{x0},{y0 - 26} {a.x + a.w + 26},{a.y + 8} {a.x + a.w},{a.y + 18}"
            lx, ly = a.x + a.w - 20, a.y - 16
        elif out_lane is None:
            x0, y0, x1, y1 = a.x + a.w, a.y + a.h // 2, b.x, b.y + b.h // 2
            bend = (x1 - x0) // 2
            d = f"M{x0},{y0} C{x0 + bend},{y0} {x1 - bend},{y1} {x1},{y1}"
            lx, ly = (x0 + x1) // 2, (y0 + y1) // 2 - 4
        else:
            y0, y1 = a.y + a.h // 2 + 10, b.y + b.h // 2 + 10
            gx0, gx1 = a.x - LANE * out_lane, b.x - LANE * in_lane
            if top is None:
                d = f"M{a.x},{y0} H{gx0} V{y1} H{b.x}"
                lx, ly, anchor = gx0 - 4, (y0 + y1) // 2, "end"
            else:
                lane_y = top_margin - 14 - LANE * (top - 1)
                d = f"M{a.x},{y0} H{gx0} V{lane_y} H{gx1} V{y1} H{b.x}"
                lx, ly = (gx0 + gx1) // 2, lane_y - 3
        label = str(edge.label)
        text = "" if edge.action in labelled else label
        labelled.add(edge.action)
        arrows.append(Arrow(edge.action, label, source, edge.target, d, lx, ly, out_lane is not None, anchor, text))
    width = max(box.x + box.w for box in boxes.values()) + 40
    height = max(box.y + box.h for box in boxes.values()) + 24
    return Diagram(width=width, height=height, boxes=list(boxes.values()), arrows=arrows)
