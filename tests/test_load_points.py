"""``load_points``: every well-formed CSV reads exactly; every bad one is refused with what and where."""

import io
import string

import numpy as np
import pytest
from conftest import shared_file
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from app.i18n import STRINGS
from lessons import regression
from lessons.regression import (
    ERROR_MESSAGES,
    PointsFileError,
    load_points,
    points_to_csv,
)


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


# ------------------------------------------------------------------------------ good files


def test_reads_the_courses_data_csv_as_numpy_does():
    path = shared_file("data", "regression", "data.csv")
    points = load_points(path)
    assert points.dtype == np.float64 and points.shape == (100, 2)
    assert np.array_equal(points, np.genfromtxt(path, delimiter=","))
    assert np.array_equal(load_points(str(path)), points)


@pytest.mark.parametrize("make_source", [
    lambda b: b,
    bytearray,
    memoryview,
    io.BytesIO,
    lambda b: io.StringIO(b.decode("utf-8")),
], ids=["bytes", "bytearray", "memoryview", "BytesIO", "StringIO"])
def test_every_kind_of_source(make_source):
    points = load_points(make_source(b"x,y\n1,2\n3.5,-4e-3\n"))
    assert np.array_equal(points, [[1.0, 2.0], [3.5, -0.004]])


def test_an_upload_already_read_once_is_read_whole_again():
    upload = io.BytesIO(b"1,2\n3,4\n")
    upload.read()  # Streamlit keeps the same object across reruns; its position may be at the end
    assert load_points(upload).shape == (2, 2)


def test_a_path(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("1,2\n3,4\n", encoding="utf-8")
    assert np.array_equal(load_points(path), [[1, 2], [3, 4]])
    assert np.array_equal(load_points(str(path)), [[1, 2], [3, 4]])


@pytest.mark.parametrize("content", [
    b"1,2\r\n3,4\r\n",  # Windows line ends
    b"\xef\xbb\xbf1,2\n3,4",  # Excel's UTF-8 byte-order mark, no final newline
    b"\n\n1,2\n\n3,4\n\n",  # blank lines
    b' "1" , "2"\n  3 ,4  \n',  # quotes and spaces
    b"x,y\n1,2\n3,4\n",  # a header
    b"\"x value\",\"y value\"\n1,2\n3,4\n",  # a quoted header
    b"1.0e0,+2\n3,4.000\n",  # other spellings of the same numbers
])
def test_well_formed_variants(content):
    assert np.array_equal(load_points(content), [[1.0, 2.0], [3.0, 4.0]])


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(2, 40), st.just(2)),
              elements=st.floats(allow_nan=False, allow_infinity=False)))
def test_round_trip_is_exact(points):
    for header in (("x", "y"), None):
        back = load_points(points_to_csv(points, header=header).encode())
        assert back.dtype == np.float64
        assert np.array_equal(back, points)


# ------------------------------------------------------------------------------- bad files


BAD = [
    # content, code, fields that must be reported
    (b"", "empty", {}),
    (b"\n \n\t\n", "empty", {}),
    (b"x,y\n", "header_only", {"line": 1}),
    (b"\n\nx,y\n\n", "header_only", {"line": 3}),
    (b"1,2\n", "too_few_rows", {"line": 1}),
    (b"x,y\n\n5,6\n", "too_few_rows", {"line": 3}),
    (b"1\n2\n3\n", "columns", {"line": 1, "found": 1}),
    (b"1,2,3\n4,5,6\n", "columns", {"line": 1, "found": 3}),
    (b"a,b,c\n1,2,3\n", "columns", {"line": 1, "found": 3}),
    (b"1,2\n3,4\n5,6,7\n", "ragged", {"line": 3, "found": 3, "first": 1}),
    (b"x,y\n1,2\n3\n", "ragged", {"line": 3, "found": 1, "first": 1}),
    (b"1,2\n3,abc\n", "text", {"line": 2, "column": 2, "cell": "abc"}),
    (b"1,2\nx,y\n", "text", {"line": 2, "column": 1, "cell": "x"}),
    (b"1_000,2\n3,4\n", "text", {"line": 1, "column": 1, "cell": "1_000"}),
    (b"0x10,2\n3,4\n", "text", {"line": 1, "column": 1, "cell": "0x10"}),
    ("1,2\n\u0663,4\n".encode(), "text", {"line": 2, "column": 1, "cell": "\u0663"}),  # an Arabic-Indic digit
    (b"1,2\n,4\n", "empty_cell", {"line": 2, "column": 1}),
    (b"1,\n3,4\n", "empty_cell", {"line": 1, "column": 2}),
    (b"1,nan\n2,3\n", "not_finite", {"line": 1, "column": 2, "cell": "nan"}),
    (b"1,2\n-Infinity,3\n", "not_finite", {"line": 2, "column": 1, "cell": "-Infinity"}),
    (b"1,2\n3,inf\n", "not_finite", {"line": 2, "column": 2, "cell": "inf"}),
    (b"1,2\n1e999,3\n", "overflow", {"line": 2, "column": 1, "cell": "1e999"}),
    (b"1,2\n3,-" + b"9" * 400 + b"\n", "overflow", {"line": 2, "column": 2}),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary", {"line": 3}),
    (b"PK\x03\x04\x14\x00\x06\x00", "binary", {"line": 1}),
    (b"1,2\n3,\x01\n", "binary", {"line": 2}),
    ("x,y\n1,2\n身高,3\n".encode("big5"), "encoding", {"line": 3}),
    ("x,y\ncafé,1\n".encode("latin-1"), "encoding", {"line": 2}),
    ("x,y\n1,2\n3,4\n".encode("utf-16"), "utf16", {}),
]


@pytest.mark.parametrize(("content", "code", "where"), BAD, ids=[f"{c}-{i}" for i, (_, c, _) in enumerate(BAD)])
def test_bad_files_are_refused_with_what_and_where(content, code, where):
    with pytest.raises(PointsFileError) as info:
        load_points(content)
    error = info.value
    assert isinstance(error, ValueError)
    assert error.code == code
    assert where.items() <= error.fields.items(), error.fields
    assert str(error) == ERROR_MESSAGES[code].format(**error.fields)
    if "line" in where:
        assert f"line {where['line']}" in str(error).lower()
        assert error.line == where["line"]
    if "column" in where:
        assert error.column == where["column"]


def test_random_binary_is_refused():
    rng = np.random.default_rng(0)
    for _ in range(20):
        with pytest.raises(PointsFileError) as info:
            load_points(rng.bytes(3000))
        assert info.value.code == "binary"


def test_a_long_cell_is_shortened_in_the_message():
    with pytest.raises(PointsFileError) as info:
        load_points(b"1,2\n3," + b"a" * 500 + b"\n")
    assert info.value.code == "text" and len(info.value.fields["cell"]) <= 24


@pytest.mark.slow  # a million rows parsed: the limit's logic is checked fast below, on a limit of five
def test_more_than_a_million_rows_is_refused():
    content = b"1,2\n" * (regression.MAX_ROWS + 1)
    with pytest.raises(PointsFileError) as info:
        load_points(content)
    assert info.value.code == "too_many_rows"
    assert info.value.line == regression.MAX_ROWS + 1


def test_the_row_limit_is_inclusive(monkeypatch):
    monkeypatch.setattr(regression, "MAX_ROWS", 5)
    assert load_points(b"x,y\n" + b"1,2\n" * 5).shape == (5, 2)
    with pytest.raises(PointsFileError) as info:
        load_points(b"x,y\n" + b"1,2\n" * 6)
    assert info.value.code == "too_many_rows" and info.value.line == 7


def test_an_oversized_file_is_refused_before_parsing(monkeypatch, tmp_path):
    monkeypatch.setattr(regression, "MAX_BYTES", 1024)
    path = tmp_path / "big.csv"
    path.write_bytes(b"1,2\n" * 1000)
    for source in (path, path.read_bytes()):
        with pytest.raises(PointsFileError) as info:
            load_points(source)
        assert info.value.code == "too_big"


def test_other_objects_are_a_programming_error():
    with pytest.raises(TypeError):
        load_points(12345)


# -------------------------------------------------------------------- messages on the page


@pytest.mark.parametrize("code", sorted(ERROR_MESSAGES))
def test_every_refusal_has_a_message_in_both_languages_with_the_same_fields(code):
    entry = STRINGS[f"regression.err.{code}"]
    assert fields(entry["zh"]) == fields(entry["en"]) == fields(ERROR_MESSAGES[code])


def test_every_refusal_code_is_exercised_above():
    exercised = {code for _, code, _ in BAD} | {"too_many_rows", "too_big"}
    assert exercised == set(ERROR_MESSAGES)
