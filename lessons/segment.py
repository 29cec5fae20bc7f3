"""A number of several digits, cut into its digits, left to right, each prepared as MNIST's were.

A drawing, an upload or a camera photo of "27" or "2026" becomes ink (``canvas.ink_map``), the
paper and its shading are divided out (``canvas.remove_paper``), and the lines of ruled or squared
paper are taken away (long straight runs of ink: no digit is as long as the sheet is wide). The
ink falls apart into connected blobs; blobs that share most of their columns are one digit (a
"5" whose flag was lifted, a speck over a "1"), tiny blobs far from any digit are dropped, a part
much flatter than a digit (a flag drawn apart, a 2's long tail) stays with its neighbour, and a blob
much wider than a digit is tall once its slant is taken out (two digits that touch) is cut at its
thinnest columns, never through a closed loop (a wide "0"). Given the network that will read the
digits, the ways a blob can be cut at the valleys of its ink, and two narrow neighbours joined (a
"1" drawn in two strokes), are tried and the one the network reads most surely is kept.
Each digit is then cropped, thickened, scaled and centred exactly as ``canvas`` prepares one.

Pure numpy (its image operations in ``lessons.imaging``): no torch, no streamlit; the network is a
function passed in.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from lessons import canvas, imaging

RULE_SPAN = 0.6  # a straight run of ink this share of the sheet's width (height) may be a ruled line ...
RULES_AT_LEAST = 2  # ... when there are at least this many parallel ones
RULE_APART = 3  # parallel lines more than this many px apart are separate lines
RULE_BRIDGE = 4  # ink this near on both sides of a line is a stroke crossing it, kept
MAX_SLANT = 0.6  # the most slant (x per y) taken out before judging a blob's width
LOOP_AREA = 9  # paper enclosed by ink over at least this many px (its box) is a loop, not a pinhole
FLAT_PART = 0.35  # a part flatter than this share of a digit's height is a stroke of its neighbour
SPECK_SHARE = 0.04  # a blob with less ink than this share of the biggest is a speck ...
SPECK_GAP = 0.5  # ... dropped when farther than this share of the digits' height from every digit
SAME_DIGIT_OVERLAP = 0.5  # blobs sharing this share of the narrower one's columns are one digit
TOUCHING_WIDTH = 1.45  # a blob wider than this many times the tallest digit (slant taken out) holds several: a wide "0" or a long-tailed "2" is up to about 1.4
DIGIT_WIDTH = 0.85  # a digit's width with its share of the joint, as a share of the tallest (how many a blob holds)
SAME_DIGIT_WIDTH = 1.15  # two blobs sharing columns and together no wider than this share of their height: one digit
CUT_WINDOW = 0.3  # a cut is sought within this share of a digit's width around where it is expected
SPLIT_FROM = 0.9  # with a network to judge, a unit this wide (a share of the tallest) may hold two digits
MIN_DIGIT_WIDTH = 0.3  # ... each at least this wide (a "1")
MAX_PIECES = 4  # ... and at most this many in one unit
MIN_PIECE = 0.12  # no cut nearer an end than this share of a digit's height
VALLEY_DEPTH = 0.6  # a valley is at most this share of the ink on both its sides
VALLEYS = 4  # the deepest this many valleys of a unit are tried as cuts
JOIN_GAP = 0.1  # neighbours this near (a share of the height) ...
JOIN_WIDTH = 0.6  # ... and together this narrow may be one digit in two pieces


class Digit(NamedTuple):
    """One digit of a number: its MNIST-style 28×28 image and where it was in the input."""

    image: np.ndarray  # 28×28 float32 in [0, 1], ink high, centre of mass at (14, 14)
    box: tuple[int, int, int, int]  # (x0, y0, x1, y1) in the input's pixels, x1 and y1 exclusive


def remove_rules(ink: np.ndarray) -> np.ndarray:
    """The ink without the lines of ruled or squared paper: at least ``RULES_AT_LEAST`` parallel
    straight runs, each along ``RULE_SPAN`` of the sheet. One long straight stroke (a tall "1", a
    7's bar) is a digit's, so a lone line stays, as do the side-by-side slivers of one thick stroke. A
    stroke crossing a line keeps its ink, on the line too, so the line does not cut the digit in two."""
    height, width = ink.shape
    strokes = ink > canvas.CROP_LEVEL
    lines = np.zeros_like(strokes)
    for axis, span in ((1, width), (0, height)):
        length = max(3, int(RULE_SPAN * span))
        shape = (1, length) if axis == 1 else (length, 1)
        found = imaging.binary_opening(strokes, shape)
        # parallel lines lie apart: the slivers of one thick slanted stroke (a "1") lie side by side
        where = np.flatnonzero(found.any(axis=axis))
        if where.size and 1 + int((np.diff(where) > RULE_APART).sum()) >= RULES_AT_LEAST:
            lines |= found & ~_crossing(strokes & ~found, axis)
    if not lines.any():
        return ink
    return np.where(lines, 0.0, ink).astype(np.float32)


def _crossing(off_lines: np.ndarray, axis: int) -> np.ndarray:
    """Where a stroke crosses a line: ink within ``RULE_BRIDGE`` px on both sides of it, across the line."""
    before = np.zeros_like(off_lines)
    after = np.zeros_like(off_lines)
    across = 0 if axis == 1 else 1  # horizontal lines are crossed along the rows' axis
    size = off_lines.shape[across]
    for step in range(1, RULE_BRIDGE + 1):
        if step >= size:
            break
        ahead = [slice(None)] * 2
        behind = [slice(None)] * 2
        ahead[across], behind[across] = slice(step, None), slice(None, -step)
        before[tuple(ahead)] |= off_lines[tuple(behind)]
        after[tuple(behind)] |= off_lines[tuple(ahead)]
    return before & after


def _blobs(ink: np.ndarray) -> tuple[np.ndarray, list[tuple[slice, slice]], np.ndarray]:
    """Connected blobs of ink (8-neighbours): their label image, boxes and amounts of ink."""
    labels, count = imaging.label(ink > canvas.CROP_LEVEL)
    if count == 0:
        return labels, [], np.zeros(0)
    mass = imaging.sum_labels(ink, labels, np.arange(1, count + 1))
    return labels, imaging.find_objects(labels), mass


def _columns_shared(a: tuple[int, int], b: tuple[int, int]) -> float:
    """The share of the narrower column range that the two ranges have in common."""
    common = min(a[1], b[1]) - max(a[0], b[0])
    return max(common, 0) / max(1, min(a[1] - a[0], b[1] - b[0]))


def _one_digit(cols: tuple[int, int], span: tuple[int, int], boxes: list[tuple[slice, slice]],
               group: list[int], box: tuple[slice, slice]) -> bool:
    """Whether a blob (columns ``cols``) is part of the digit made of ``group`` (columns ``span``):
    they share most of the narrower one's columns, or they share some and together are no wider
    than one digit is tall (a "5" whose flag was drawn apart from its body)."""
    shared = _columns_shared(cols, span)
    if shared >= SAME_DIGIT_OVERLAP:
        return True
    top = min([box[0].start, *(boxes[j][0].start for j in group)])
    bottom = max([box[0].stop, *(boxes[j][0].stop for j in group)])
    width = max(cols[1], span[1]) - min(cols[0], span[0])
    return shared > 0 and width <= SAME_DIGIT_WIDTH * (bottom - top)


def _group(boxes: list[tuple[slice, slice]], mass: np.ndarray) -> list[list[int]]:
    """Blob indices grouped into digits: blobs sharing most of their columns belong together;
    specks far from every digit are left out. Groups are in left-to-right order."""
    order = sorted(range(len(boxes)), key=lambda i: boxes[i][1].start)
    big = [i for i in order if mass[i] >= SPECK_SHARE * mass.max()]
    groups: list[list[int]] = []
    spans: list[tuple[int, int]] = []
    for i in big:
        cols = (boxes[i][1].start, boxes[i][1].stop)
        for g, span in enumerate(spans):
            if _one_digit(cols, span, boxes, groups[g], boxes[i]):
                groups[g].append(i)
                spans[g] = (min(span[0], cols[0]), max(span[1], cols[1]))
                break
        else:
            groups.append([i])
            spans.append(cols)
    if not groups:
        return []
    height = float(np.median([max(boxes[i][0].stop for i in g) - min(boxes[i][0].start for i in g) for g in groups]))
    for i in order:  # a speck joins the digit whose columns it shares, if it is near enough
        if i in big:
            continue
        rows, cols = boxes[i]
        for g, span in enumerate(spans):
            top = min(boxes[j][0].start for j in groups[g])
            bottom = max(boxes[j][0].stop for j in groups[g])
            gap = max(top - rows.stop, rows.start - bottom, span[0] - cols.stop, cols.start - span[1], 0)
            if gap <= SPECK_GAP * height and _columns_shared((cols.start, cols.stop), span) > 0:
                groups[g].append(i)
                break
    return [groups[g] for g in sorted(range(len(groups)), key=lambda g: spans[g][0])]


def _ink_height(part: np.ndarray) -> int:
    """Rows from the piece's top ink to its bottom ink (0 without ink)."""
    rows = np.flatnonzero((part > canvas.CROP_LEVEL).any(axis=1))
    return int(rows[-1] - rows[0] + 1) if rows.size else 0


def _join_flat(groups: list[list[int]], boxes: list[tuple[slice, slice]]) -> list[list[int]]:
    """Groups flatter than ``FLAT_PART`` of the tallest (a 5's flag drawn apart, a 7's bar) join the
    group nearest them across the columns: no digit is that flat. Left-to-right order is kept."""
    def extent(group: list[int]) -> tuple[int, int, int, int]:
        return (min(boxes[i][0].start for i in group), max(boxes[i][0].stop for i in group),
                min(boxes[i][1].start for i in group), max(boxes[i][1].stop for i in group))

    groups = [list(g) for g in groups]
    while len(groups) > 1:
        spans = [extent(g) for g in groups]
        tallest = max(bottom - top for top, bottom, _, _ in spans)
        flat = [k for k, (top, bottom, _, _) in enumerate(spans) if bottom - top < FLAT_PART * tallest]
        if not flat:
            break
        k = flat[0]
        near = min((j for j in range(len(groups)) if j != k),
                   key=lambda j: max(spans[j][2] - spans[k][3], spans[k][2] - spans[j][3]))
        groups[near] = groups[near] + groups[k]
        del groups[k]
    return sorted(groups, key=lambda g: extent(g)[2])


def _cuts(ink: np.ndarray, pieces: int) -> list[int]:
    """Where to cut a blob of ``pieces`` touching digits: at each expected border, the column with
    the least ink within ``CUT_WINDOW`` of a digit's width around it."""
    width = ink.shape[1]
    # never through a closed loop: a cut there halves one wide "0", not two digits that touch
    profile = np.where(_loop_columns(ink), np.inf, imaging.uniform_filter1d(ink.sum(axis=0), size=3))
    step = width / pieces
    window = max(1, int(CUT_WINDOW * step))
    cuts = []
    for k in range(1, pieces):
        expected = round(k * step)
        lo, hi = max(1, expected - window), min(width - 1, expected + window + 1)
        if hi > lo and np.isfinite(profile[lo:hi]).any():
            cuts.append(lo + int(np.argmin(profile[lo:hi])))
    return cuts


def _loop_columns(ink: np.ndarray) -> np.ndarray:
    """Per column, whether a closed loop of the blob (paper enclosed by ink, as in 0, 6, 8, 9) spans it."""
    labels, count = imaging.label(ink <= canvas.CROP_LEVEL)
    spanned = np.zeros(ink.shape[1], bool)
    if count == 0:
        return spanned
    edge = set(np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])).tolist())
    for i, (rows, cols) in enumerate(imaging.find_objects(labels), start=1):
        if i not in edge and (rows.stop - rows.start) * (cols.stop - cols.start) >= LOOP_AREA:
            spanned[cols] = True
    return spanned


def _without_flat_pieces(part: np.ndarray, edges: list[int], height: float) -> list[int]:
    """The cut positions, less those that leave a piece flatter than ``FLAT_PART`` of a digit's
    height (a 2's long tail, a 5's flag): such a piece stays with its neighbour."""
    edges = list(edges)
    while len(edges) > 2:
        tall = [_ink_height(part[:, a:b]) for a, b in itertools.pairwise(edges)]
        flat = [k for k, h in enumerate(tall) if h < FLAT_PART * height]
        if not flat:
            break
        k = flat[0]
        del edges[k + 1 if k == 0 else k]
    return edges


def _pieces(ink: np.ndarray, height: float) -> int:
    """How many touching digits a blob ``height`` tall holds, judging by its width."""
    width = _upright_width(ink)
    if width <= TOUCHING_WIDTH * height:
        return 1
    return max(2, round(width / (DIGIT_WIDTH * height)))


def _upright_width(ink: np.ndarray) -> float:
    """The blob's width once its slant is taken out (its ink's shear, x on y, up to ``MAX_SLANT``):
    a slanted "0" is wider than it is tall, but not wider than an upright one."""
    rows, cols = np.nonzero(ink > canvas.CROP_LEVEL)
    if rows.size < 2 or np.ptp(rows) == 0:
        return float(ink.shape[1])
    dy = rows - rows.mean()
    slant = float(np.clip((dy * (cols - cols.mean())).sum() / (dy * dy).sum(), -MAX_SLANT, MAX_SLANT))
    upright = cols - slant * dy
    return float(min(ink.shape[1], np.ptp(upright) + 1))


def _prepare(part: np.ndarray) -> np.ndarray:
    """One digit's ink, prepared as ``canvas.preprocessing_steps`` prepares a single digit."""
    cropped = canvas.crop_to_ink(part)
    return canvas.place_by_centre_of_mass(canvas.fit_longer_side(canvas.thicken(cropped)))


def _valleys(part: np.ndarray, height: float) -> list[int]:
    """Columns where two touching digits may meet: the deepest ``VALLEYS`` local minima of the column
    profile that are at most ``VALLEY_DEPTH`` of the lower of the peaks on their two sides, never in
    a closed loop, and at least ``MIN_PIECE`` of a digit's height from either end."""
    width = part.shape[1]
    profile = np.where(_loop_columns(part), np.inf, imaging.uniform_filter1d(part.sum(axis=0), size=3))
    margin = max(1, int(MIN_PIECE * height))
    found = []
    for x in range(margin, width - margin):
        value = profile[x]
        if not np.isfinite(value) or value > profile[x - 1] or value > profile[x + 1]:
            continue
        left, right = profile[:x][np.isfinite(profile[:x])], profile[x + 1:][np.isfinite(profile[x + 1:])]
        # a valley between two digits, not a dip in one digit's stroke: ink rises well above it on both sides
        peaks = min(left.max(initial=0.0), right.max(initial=0.0))
        if value <= VALLEY_DEPTH * peaks:
            found.append((value / max(peaks, 1e-6), x))
    chosen: list[int] = []
    for _, x in sorted(found):  # deepest first, one per valley
        if all(abs(x - c) >= margin for c in chosen):
            chosen.append(x)
        if len(chosen) == VALLEYS:
            break
    return sorted(chosen)


class _Unit(NamedTuple):
    """A group of blobs (one digit, or several that touch) as its own ink, with where it sits."""

    part: np.ndarray  # the group's ink alone, cropped to its box
    left: int
    top: int


def _unit(cleaned: np.ndarray, labels: np.ndarray, boxes: list[tuple[slice, slice]], group: list[int]) -> _Unit:
    """The group's own ink (its blobs only, not a neighbour's stroke inside its box) and where it sits."""
    top = min(boxes[i][0].start for i in group)
    bottom = max(boxes[i][0].stop for i in group)
    left = min(boxes[i][1].start for i in group)
    right = max(boxes[i][1].stop for i in group)
    own = np.isin(labels[top:bottom, left:right], [i + 1 for i in group])
    return _Unit(np.where(own, cleaned[top:bottom, left:right], 0.0).astype(np.float32), left, top)


def _joined(a: _Unit, b: _Unit) -> _Unit:
    """Two neighbouring units as one (their ink together in the box round both)."""
    top, left = min(a.top, b.top), min(a.left, b.left)
    bottom = max(a.top + a.part.shape[0], b.top + b.part.shape[0])
    right = max(a.left + a.part.shape[1], b.left + b.part.shape[1])
    part = np.zeros((bottom - top, right - left), np.float32)
    for u in (a, b):
        region = part[u.top - top:u.top - top + u.part.shape[0], u.left - left:u.left - left + u.part.shape[1]]
        np.maximum(region, u.part, out=region)
    return _Unit(part, left, top)


def _splits(unit: _Unit, height: float, read: bool) -> list[tuple[int, ...]]:
    """Ways to cut a unit, as column edges: the unit's width decides the first (how many digits of
    ``DIGIT_WIDTH`` fit); with a network to judge, cuts at every valley of the profile are offered too,
    into as many pieces as ``MIN_DIGIT_WIDTH`` allows, when the unit is at least ``SPLIT_FROM`` wide."""
    part = unit.part
    width = part.shape[1]
    first = tuple(_without_flat_pieces(part, [0, *_cuts(part, _pieces(part, height)), width], height))
    ways = [first]
    if not read:
        return ways
    if len(first) > 2:
        ways.append((0, width))
    upright = _upright_width(part)
    if upright < SPLIT_FROM * height:
        return ways
    valleys = _valleys(part, height)
    most = min(MAX_PIECES, max(2, int(upright / (MIN_DIGIT_WIDTH * height))))
    for k in range(1, most):
        for cuts in itertools.combinations(valleys, k):
            edges = tuple(_without_flat_pieces(part, [0, *cuts, width], height))
            if edges not in ways:
                ways.append(edges)
    return ways


def _piece(unit: _Unit, a: int, b: int) -> Digit | None:
    """The digit between columns ``a`` and ``b`` of a unit, or None where that holds too little ink."""
    piece = unit.part[:, a:b]
    if canvas.is_near_empty(piece) or not (piece > canvas.CROP_LEVEL).any():
        return None
    rows = np.flatnonzero((piece > canvas.CROP_LEVEL).any(axis=1))
    cols = np.flatnonzero((piece > canvas.CROP_LEVEL).any(axis=0))
    box = (unit.left + a + int(cols[0]), unit.top + int(rows[0]), unit.left + a + int(cols[-1]) + 1,
           unit.top + int(rows[-1]) + 1)
    return Digit(_prepare(piece), box)


def _may_join(a: _Unit, b: _Unit, height: float) -> bool:
    """Whether two neighbouring units may be one digit drawn in two pieces (a 1 drawn in two strokes):
    at most ``JOIN_GAP`` of a digit's height apart, and together no wider than ``JOIN_WIDTH`` of it."""
    gap = b.left - (a.left + a.part.shape[1])
    return gap <= JOIN_GAP * height and _upright_width(_joined(a, b).part) <= JOIN_WIDTH * height


Reader = Callable[[np.ndarray], np.ndarray]  # (n, 28, 28) images -> (n, 10) probabilities


def segment_digits(image: np.ndarray, read: Reader | None = None) -> list[Digit]:
    """The digits of a number written on ``image`` (an RGBA drawing or photo, ``canvas``'s input),
    left to right, each as MNIST-style 28×28 with its box in the input. Empty for a blank image.

    Without ``read``, the shapes alone decide: a unit of touching digits is cut into as many as its
    width holds. With ``read`` (the network that will read the digits), a small search weighs each way
    of cutting a unit at the valleys of its ink and of joining two narrow neighbours, by how sure the
    network is of every digit it makes: the way with the highest sum of log-probabilities wins. A
    half of a wide "0" or a 2's tail alone is a shaky digit; both digits of a touching "30" are sure.
    The shapes still decide what may be tried: a network is as sure of "44" read as one 4."""
    ink = canvas.ink_map(image)
    if ink is None:
        return []
    cleaned = remove_rules(canvas.remove_paper(ink))
    labels, boxes, mass = _blobs(cleaned)
    groups = _join_flat(_group(boxes, mass), boxes)
    if not groups:
        return []
    # The tallest digit: digits of one number are about as tall, and a wide "0" is also a low one.
    height = float(max(max(boxes[i][0].stop for i in g) - min(boxes[i][0].start for i in g) for g in groups))
    units = [_unit(cleaned, labels, boxes, g) for g in groups]
    # Each option covers units i..j-1 with a list of pieces (unit, a, b); the search picks a path.
    options: dict[tuple[int, int], list[list[tuple[_Unit, int, int]]]] = {}
    for i, unit in enumerate(units):
        options[i, i + 1] = [[(unit, a, b) for a, b in itertools.pairwise(edges)]
                             for edges in _splits(unit, height, read is not None)]
        if read is not None and i + 1 < len(units) and _may_join(unit, units[i + 1], height):
            both = _joined(unit, units[i + 1])
            options[i, i + 2] = [[(both, 0, both.part.shape[1])]]
    made: dict[tuple[int, int, int], Digit | None] = {}
    for ways in options.values():
        for way in ways:
            for unit, a, b in way:
                key = (id(unit), a, b)
                if key not in made:
                    made[key] = _piece(unit, a, b)
    found = [d for d in made.values() if d is not None]
    if read is None or not found:
        return [made[id(u), a, b] for i in range(len(units)) for u, a, b in options[i, i + 1][0]
                if made[id(u), a, b] is not None]
    sureness = np.log(np.clip(np.asarray(read(np.stack([d.image for d in found]))).max(axis=1), 1e-9, 1.0))
    score_of = {id(d): float(s) for d, s in zip(found, sureness, strict=True)}
    # best[j]: the best score and digits covering units 0..j-1
    best: list[tuple[float, list[Digit]]] = [(0.0, [])]
    for j in range(1, len(units) + 1):
        candidates = []
        for (i, stop), ways in options.items():
            if stop != j:
                continue
            for way in ways:
                digits = [made[id(u), a, b] for u, a, b in way]
                digits = [d for d in digits if d is not None]
                candidates.append((best[i][0] + sum(score_of[id(d)] for d in digits), best[i][1] + digits))
        best.append(max(candidates, key=lambda c: c[0]))
    return best[-1][1]


def read_number(digits: list[Digit], probabilities: np.ndarray) -> str:
    """The number the digits spell, each read as its most likely digit (``probabilities``: one row per digit)."""
    return "".join(str(int(row.argmax())) for row in np.asarray(probabilities).reshape(len(digits), -1))
