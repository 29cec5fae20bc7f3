"""The protocol-level load benchmark, small: a few simulated students against a real server.

The benchmark's figures come from ``python -m benchmarks load``; here only that the simulated
browser works against this app: every page found from the app's own navigation, no errors,
and every moved slider changes the page.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from benchmarks import bench_load, protocol

pytestmark = pytest.mark.slow


def free_port() -> int:
    """A free loopback port in this suite's range (8600-8799)."""
    for port in range(8780, 8800):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8780-8799")


def test_a_small_class_has_no_errors_and_sliders_change_the_page():
    with bench_load.one_process(free_port()) as served:
        paths, with_slider = asyncio.run(protocol.discover_pages(served.url))
        assert {"descent", "regression", "classification"} <= set(paths)  # found by URL, not by import
        assert {"descent", "classification"} <= with_slider
        pages = sorted(with_slider)
        results = asyncio.run(protocol.classroom(served.url, pages, len(pages), moves=2, pause=(0.2, 0.5), front_end=True))
        # the first-page CPU measure: new students one after another, each page opening without an error
        (first_page,) = bench_load.first_page_cost(served, ["descent"], visits=2)
    assert first_page.startswith("  descent: median ") and " ms" in first_page
    assert [e for r in results for e in r.errors] == []
    assert all(r.first_page_s is not None and len(r.changed) == 2 for r in results)
    assert all(all(r.changed) for r in results)


def test_the_app_s_error_box_counts_as_an_error():
    """The checker itself: an error box in the deltas is reported (fed a real ForwardMsg)."""
    from streamlit.proto.Alert_pb2 import Alert
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = ForwardMsg()
    msg.delta.new_element.alert.body = "boom"
    msg.delta.new_element.alert.format = Alert.ERROR
    tab = protocol.Tab("http://127.0.0.1:1", "descent")
    assert tab._on_delta(msg, (0, 1)) == ["error box: boom"]
    msg.delta.new_element.alert.format = Alert.INFO
    assert tab._on_delta(msg, (0, 1)) == []
