"""No English on a Chinese page, apart from the course's own technical words: every page is rendered in
zh with AppTest and every text a student can see is scanned — titles, markdown, captions, alerts, widget
labels, options and help, expander and tab labels, table headers and cells, chart axis, legend and
tooltip titles (a raw field name counts: it shows) and the chart values a legend, tooltip or text mark shows.

The rules are tests/vocabulary.py's, the same as tests/test_glossary.py applies to the string table: the
allow-list is the glossary's ``[english_in_zh]`` (the course notes' own technical words such as loss, lr,
MNIST, ReLU, each checked to be in the notes; a few the notes spell another way such as sigmoid and MSE;
library names and file formats), never a list of today's strings. Code (identifiers with ``_`` or ``.``,
`inline code`, ``st.code`` blocks) and the maths inside LaTeX (except ``\\text{...}``, which reads as
words) are not prose.
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import open_page
from google.protobuf.json_format import MessageToDict
from vocabulary import WORD, allowed_english, glossary, is_code, prose

from app import ui
from app.i18n import LANGUAGES, STRINGS

pytestmark = pytest.mark.slow  # whole pages in AppTest: left out of make test-fast

UNIT = re.compile(r"\d\s*(s|ms|min|sec|h)\b")  # "3.2 s", "2 min": the course writes 秒 and 分鐘
# Proto fields that a student reads: the text of an element, its label, help, options, captions.
TEXT_FIELDS = {"body", "label", "help", "options", "placeholder", "captions", "value", "formattedValue",
               "delta", "text", "title"}
NOT_TEXT = {"labelVisibility", "type", "id", "formId"}  # enum names and ids, never shown
SKIP_ELEMENTS = {"code", "html", "empty", "iframe", "imgs"}  # code is code; html/iframe are not text here
CHANNELS_SHOWN = {"x", "y", "x2", "y2", "color", "fill", "stroke", "shape", "size", "opacity", "tooltip", "text",
                  "row", "column", "facet", "strokeDash", "theta", "radius"}
NAMED_VALUES = {"color", "fill", "stroke", "shape", "tooltip", "text", "row", "column", "facet", "strokeDash"}

# The draw and handwriting pages train a model on their first visit (slow); the rest are quick.
SLOW_PAGES = {"draw", "handwriting", "mnist_train", "quickstart"}
PAGE_PARAMS = [pytest.param(s, id=s.name, marks=[pytest.mark.slow] if s.name in SLOW_PAGES else [])
               for s in ui.PAGES]


def allowed_words() -> set[str]:
    """The English words a zh page may show: the glossary's ``[english_in_zh]``, lower-cased."""
    return allowed_english()


def _prose(text: str) -> str:
    """What a student reads as words (tests/vocabulary.py's ``prose``)."""
    return prose(text)


def _strings(value, key: str | None = None):
    """Visible strings inside a proto rendered as a dict: the values of TEXT_FIELDS, recursively."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k not in NOT_TEXT:
                yield from _strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)
    elif isinstance(value, str) and key in TEXT_FIELDS:
        yield value


def _channel_titles(spec):
    """The titles a chart shows: each shown channel's title, else its field name (Vega-Lite's default).
    An x2/y2 field shows only where its x/y channel has no title of its own."""
    if isinstance(spec, dict):
        encoding = spec.get("encoding") or {}
        for name, channel in encoding.items():
            for ch in channel if isinstance(channel, list) else [channel]:
                if not isinstance(ch, dict) or name not in CHANNELS_SHOWN:
                    continue
                guide = ch.get("axis", ch.get("legend", ch.get("header", {})))
                if guide is None:  # axis=None / legend=None: no title shown
                    continue
                if name in ("x2", "y2"):
                    primary = encoding.get(name[0]) or {}
                    if "title" in primary or "title" in (primary.get("axis") or {}) or primary.get("axis", {}) is None:
                        continue
                title = ch.get("title", (guide or {}).get("title", ch.get("field")))
                if isinstance(title, str):
                    yield title
                elif isinstance(title, list):
                    yield from (t for t in title if isinstance(t, str))
        for value in spec.values():
            yield from _channel_titles(value)
        if isinstance(spec.get("title"), str):
            yield spec["title"]
    elif isinstance(spec, list):
        for value in spec:
            yield from _channel_titles(value)


def _shown_fields(spec, found=None) -> set[str]:
    """Fields whose values a chart prints: legend entries, tooltips, text marks, facet headers."""
    found = set() if found is None else found
    if isinstance(spec, dict):
        for name, channel in (spec.get("encoding") or {}).items():
            for ch in channel if isinstance(channel, list) else [channel]:
                if name not in NAMED_VALUES or not isinstance(ch, dict) or not isinstance(ch.get("field"), str):
                    continue
                legend_hidden = "legend" in ch and ch["legend"] is None
                if name in ("tooltip", "text", "row", "column", "facet") or not legend_hidden:
                    found.add(ch["field"])
        for value in spec.values():
            _shown_fields(value, found)
    elif isinstance(spec, list):
        for value in spec:
            _shown_fields(value, found)
    return found


def _chart_texts(element) -> list[str]:
    """The titles and the shown values of one altair chart element."""
    spec = json.loads(element.proto.spec)
    texts = list(_channel_titles(spec))
    fields = _shown_fields(spec)
    import pyarrow as pa

    frames = [spec.get("datasets", {}).values()]
    for data in element.proto.datasets:
        table = pa.ipc.open_stream(data.data.data).read_all()
        frames.append([table.to_pylist()])
    if element.proto.HasField("data") and element.proto.data.data:
        frames.append([pa.ipc.open_stream(element.proto.data.data).read_all().to_pylist()])
    for group in frames:
        for rows in group:
            for row in rows:
                texts += [str(v) for f, v in row.items() if f in fields and isinstance(v, str)]
    return texts


def _table_texts(element) -> list[str]:
    frame = element.value
    texts = [str(c) for c in frame.columns]
    texts += [v for col in frame.columns for v in frame[col].tolist() if isinstance(v, str)]
    return texts


def visible_texts(at) -> list[str]:
    """Every text a student can read on the rendered page (main area and sidebar)."""
    texts: list[str] = []

    def walk(node):
        kind = getattr(node, "type", None)
        proto = getattr(node, "proto", None)
        if kind in SKIP_ELEMENTS:
            return
        if kind == "vega_lite_chart" or kind == "arrow_vega_lite_chart":
            texts.extend(_chart_texts(node))
        elif kind in ("dataframe", "arrow_data_frame", "table", "arrow_table"):
            texts.extend(_table_texts(node))
        elif proto is not None:
            texts.extend(_strings(MessageToDict(proto)))
        children = getattr(node, "children", None) or {}
        for child in children.values() if isinstance(children, dict) else children:
            walk(child)

    walk(at._tree)
    # The language switch names each language in its own script, on purpose, and a citation quotes its
    # source (the glossary's quoted_keys): not leaks.
    quoted = {STRINGS[key]["zh"].strip() for key in glossary()["english_in_zh"]["quoted_keys"] if key in STRINGS}
    switch = {STRINGS["app.language"]["zh"], *LANGUAGES.values()}
    return [text for text in texts if text not in switch and text.strip() not in quoted]


def english_words(texts: list[str], allowed: set[str]) -> dict[str, str]:
    """Each word outside the allow-list, with the first text it appears in."""
    found: dict[str, str] = {}
    for text in texts:
        for unit in UNIT.findall(_prose(text)):
            found.setdefault(f"{unit} (unit)", text.strip()[:120])
        for word in WORD.findall(_prose(text)):
            if not is_code(word) and word.lower() not in allowed and word not in found:
                found[word] = text.strip()[:120]
    return found


def test_the_allow_list_is_the_course_notes_technical_words():
    allowed = allowed_words()
    for word in ("lr", "loss", "sgd", "adam", "rmsprop", "mnist", "relu", "pytorch", "epsilon", "sigmoid", "mse"):
        assert word in allowed, word
    # Words of the notes that are not technical words (a heading, the code's prose) stay English.
    for word in ("iteration", "value", "digit", "step", "min", "what", "line", "error", "nutshell", "logistic",
                 "epoch", "app", "one-hot"):
        assert word not in allowed, word


def test_the_scan_finds_english_where_it_is_and_not_in_code_or_maths():
    allowed = allowed_words()
    texts = ["學習率 lr 與 loss", "`F.mse_loss(pred, Y)`", r"$\delta x = \text{lr} \cdot f'(x)$",
             r"$x_{k+1} = x_k - \text{step}$", "iteration", "3.2 s", "[說明](https://example.org/page)"]
    assert set(english_words(texts, allowed)) == {"step", "iteration", "s (unit)"}


@pytest.mark.parametrize("spec", PAGE_PARAMS)
def test_a_chinese_page_shows_no_english_outside_the_course_words(spec):
    allowed = allowed_words()
    at = open_page(spec.path, lang="zh", timeout=300)
    assert not at.exception, [e.value for e in at.exception]
    leaks = english_words(visible_texts(at), allowed)
    assert not leaks, f"{spec.name} (zh) shows English: " + "; ".join(f"{w!r} in {t!r}" for w, t in leaks.items())
