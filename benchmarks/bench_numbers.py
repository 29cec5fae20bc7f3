"""Numbers of several digits: strings of 2–6 real handwritten digits read whole by the draw page.

Each string is built from the development set (``../shared/data/handwriting``, evaluation only:
nothing here trains or tunes on it): every digit cropped to its ink, scaled (the string about
70–130 px tall, each digit ±10 %), slanted (a shear of ±0.25, each digit ±0.05), set on a baseline
that wanders ±8 px, with 0–4 px between one digit's ink and the next, on plain, ruled or shaded
paper. ``canvas.segment_digits`` cuts it (the reading network judging doubtful cuts, as on the draw
page) and the draw page's default network (``mlp.DRAW_DEFAULT``,
trained once through ``classroom.models.train_cached`` and kept in the model store, as the class
server warms it) reads each digit. Goal: the whole number right in ≥ 0.93 of the strings.
"""

from __future__ import annotations

import time

import numpy as np
from PIL import Image

from benchmarks import common
from lessons import canvas, handwriting, mlp, segment

STRINGS = 200  # per paper kind
PAPERS = ("plain", "ruled", "shaded")
LENGTHS = (2, 6)  # digits in a string, inclusive
HEIGHT = (70, 130)  # the string's digit height in px
SIZE_JITTER = 0.1
SLANT = 0.25  # the string's shear (x moves by SLANT per px up)
SLANT_JITTER = 0.05
BASELINE = 8  # px up or down, per digit
GAP = (0, 4)  # px between neighbouring digits' ink, inclusive
MARGIN = 30
GOAL = 0.93


def verdict(ok: bool) -> str:
    """'ok' or 'FAIL' for a report line."""
    return "ok" if ok else "FAIL"


def ink_of(grey: np.ndarray) -> np.ndarray:
    """A development-set image (ink dark on white) as ink in [0, 1], cropped to its ink."""
    ink = (255.0 - grey.astype(np.float32)) / 255.0
    rows, cols = np.flatnonzero((ink > 0.1).any(axis=1)), np.flatnonzero((ink > 0.1).any(axis=0))
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def shaped(ink: np.ndarray, height: int, shear: float) -> np.ndarray:
    """``ink`` scaled to ``height`` px tall and slanted by ``shear`` (tops lean right for > 0), cropped again."""
    width = max(1, round(ink.shape[1] * height / ink.shape[0]))
    big = Image.fromarray(ink).resize((width, height), Image.Resampling.BILINEAR)
    pad = int(abs(shear) * height) + 2
    out = (width + 2 * pad, height)
    # output (x, y) samples input (x + shear * (y - height) - pad + ..., y): the bottom stays, the top moves
    sheared = big.transform(out, Image.Transform.AFFINE, (1, shear, -pad - shear * height, 0, 1, 0),
                            resample=Image.Resampling.BILINEAR)
    array = np.asarray(sheared, dtype=np.float32)
    cols = np.flatnonzero((array > 0.1).any(axis=0))
    return array[:, cols[0]:cols[-1] + 1]


def paper_of(kind: str, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """The paper as RGB in [0, 1]: white, ruled (light blue lines) or shaded (a shadow across it)."""
    paper = np.ones((height, width, 3), np.float32)
    if kind == "ruled":
        spacing = int(rng.integers(28, 45))
        for row in range(int(rng.integers(5, spacing)), height, spacing):
            paper[row:row + int(rng.integers(1, 3))] = (0.62, 0.76, 0.95)
    elif kind == "shaded":
        angle = rng.uniform(0, 2 * np.pi)
        y, x = np.mgrid[0:height, 0:width].astype(np.float32)
        ramp = (np.cos(angle) * x / width + np.sin(angle) * y / height + 1.5) / 3.0  # 0.17 .. 0.83 across
        darkest = rng.uniform(0.5, 0.75)
        paper *= (darkest + (1.0 - darkest) * ramp)[..., None]
        paper *= rng.uniform(0.97, 1.0, (height, width, 1)).astype(np.float32)  # the paper's grain
    return paper


def compose(inks: list[np.ndarray], kind: str, rng: np.random.Generator) -> np.ndarray:
    """The digits written side by side as an RGBA picture (see the module's docstring)."""
    tall = int(rng.integers(HEIGHT[0], HEIGHT[1] + 1))
    slant = rng.uniform(-SLANT, SLANT)
    shapes = [shaped(ink, int(tall * rng.uniform(1 - SIZE_JITTER, 1 + SIZE_JITTER)),
                     slant + rng.uniform(-SLANT_JITTER, SLANT_JITTER)) for ink in inks]
    drops = [int(rng.integers(-BASELINE, BASELINE + 1)) for _ in shapes]
    gaps = [int(rng.integers(GAP[0], GAP[1] + 1)) for _ in shapes[1:]] + [0]
    width = sum(s.shape[1] for s in shapes) + sum(gaps) + 2 * MARGIN
    baseline = MARGIN + max(s.shape[0] for s in shapes) + BASELINE
    sheet = np.zeros((baseline + BASELINE + MARGIN, width), np.float32)
    x = MARGIN
    for piece, drop, gap in zip(shapes, drops, gaps, strict=True):
        bottom = baseline + drop
        region = sheet[bottom - piece.shape[0]:bottom, x:x + piece.shape[1]]
        np.maximum(region, piece, out=region)
        x += piece.shape[1] + gap
    paper = paper_of(kind, *sheet.shape, rng)
    darkness = rng.uniform(0.75, 0.95)  # pencil to dark ink
    rgb = paper * (1.0 - darkness * sheet[..., None])
    alpha = np.ones((*sheet.shape, 1), np.float32)
    return (np.concatenate([rgb, alpha], axis=2) * 255).round().astype(np.uint8)


def read_strings(model, strings: list[tuple[np.ndarray, str]]) -> tuple[float, float]:
    """(whole-number accuracy, right-count share) of ``model`` on (picture, number) pairs."""
    whole = counted = 0

    def read(images: np.ndarray) -> np.ndarray:
        return mlp.predict_proba(model, images)

    for picture, number in strings:
        found = canvas.segment_digits(picture, read)  # as the draw page cuts: its network judges doubtful cuts
        if len(found) != len(number):
            continue
        counted += 1
        proba = mlp.predict_proba(model, np.stack([d.image for d in found]))
        whole += segment.read_number(found, proba) == number
    return whole / len(strings), counted / len(strings)


def make_strings(dev: handwriting.HandwritingSet, seed: int = 24) -> dict[str, list[tuple[np.ndarray, str]]]:
    """``STRINGS`` numbers per paper kind, built from the development set's digits."""
    rng = np.random.default_rng(seed)
    inks = [ink_of(g) for g in dev.images]
    made = {}
    for kind in PAPERS:
        made[kind] = []
        for _ in range(STRINGS):
            picked = rng.integers(0, len(dev), int(rng.integers(LENGTHS[0], LENGTHS[1] + 1)))
            number = "".join(str(int(dev.labels[i])) for i in picked)
            made[kind].append((compose([inks[i] for i in picked], kind, rng), number))
    return made


def main() -> list[str]:
    setup = common.load()
    if isinstance(setup, str):
        return [setup]
    data, dev = setup.data, setup.dev
    strings = make_strings(dev)
    lines = [(f"{STRINGS} strings of {LENGTHS[0]}–{LENGTHS[1]} digits per paper ({', '.join(PAPERS)}), "
             f"built from the {len(dev)} digits of {dev.folder}")]
    for name in (mlp.DRAW_DEFAULT, "course"):
        trained, ready = common.shared_model(name, data)
        start = time.perf_counter()
        by_paper = {kind: read_strings(trained.model, strings[kind]) for kind in PAPERS}
        seconds = time.perf_counter() - start
        whole = float(np.mean([w for w, _ in by_paper.values()]))
        count = float(np.mean([c for _, c in by_paper.values()]))
        line = (f"{name}: numbers read whole {whole:.3f}, digit count right {count:.3f}; "
                + ", ".join(f"{k} {w:.3f} (count {c:.3f})" for k, (w, c) in by_paper.items())
                + f"; network ready in {ready:.1f} s, {1000 * seconds / (STRINGS * len(PAPERS)):.0f} ms a string")
        if name == mlp.DRAW_DEFAULT:
            line += f" (>= {GOAL}: {verdict(whole >= GOAL)})"
        lines.append(line)
    return lines


if __name__ == "__main__":
    print("\n".join(main()))
