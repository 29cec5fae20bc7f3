"""The class fine-tune (lessons/finetune.py, app/class_finetune.py): one Adam step against torch's own, a small
synthetic room on SQLite and PostgreSQL that the fine-tune learns out of fold without forgetting its "MNIST",
the fold split never putting one student on both sides (a property), the refusal below 5 drawings per digit,
the model store's keys, and the class page's button and lesson 7's story in AppTest."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from conftest import OneThread
from hypothesis import given, settings
from hypothesis import strategies as st

from lessons import finetune, mlp, mnist

TEACHER = "sesame-4711"
STUDENTS = 6


# ------------------------------------------------------------------ a synthetic handwriting


def style(seed: int) -> np.ndarray:
    """Ten smooth random shapes (10, 28, 28) in [0, 1]: one "handwriting" of the ten digits."""
    rng = np.random.default_rng(seed)
    coarse = torch.as_tensor(rng.random((10, 1, 7, 7)), dtype=torch.float32)
    shapes = torch.nn.functional.interpolate(coarse, size=(20, 20), mode="bilinear", align_corners=False)[:, 0]
    shapes = (shapes > 0.55).float()
    out = np.zeros((10, 28, 28), np.float32)
    out[:, 4:24, 4:24] = shapes.numpy()
    return out


def written(shapes: np.ndarray, labels: np.ndarray, seed: int) -> np.ndarray:
    """Each label's shape with a little noise, as uint8 (ink high)."""
    rng = np.random.default_rng(seed)
    images = shapes[labels] + rng.normal(0, 0.15, (len(labels), 28, 28))
    return (np.clip(images, 0, 1) * 255).astype(np.uint8)


@pytest.fixture(scope="module")
def world():
    """("MNIST" in one style, a network trained on it, the class's shapes in another style)."""
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    first, second = style(1), style(2)
    y_train, y_test = rng.integers(0, 10, 600), rng.integers(0, 10, 300)
    data = mnist.MnistData(written(first, y_train, 1), y_train.astype(np.int64), written(first, y_test, 2),
                           y_test.astype(np.int64), source="synthetic-style-1")
    model = mlp.MLP((32,), seed=0)
    mlp.train(model, data, epochs=8, batch_size=32, lr=3e-3, optimizer="adam", loss="cross_entropy", schedule=None,
              slots=OneThread())  # one thread: on a shared machine two spin against the other jobs
    assert mlp.evaluate(model, data) > 0.95  # it reads its own style
    return data, model, second


def room_drawings(shapes: np.ndarray, students: int = STUDENTS, each: int = 1, seed: int = 3):
    """``students`` students, each drawing every digit ``each`` times: images, labels, nicknames."""
    labels = np.tile(np.repeat(np.arange(10), each), students)
    writers = np.repeat([f"s{i}" for i in range(students)], 10 * each)
    return written(shapes, labels, seed), labels, writers


# ------------------------------------------------------------------ the maths


def test_one_fine_tune_step_is_one_adam_step_of_torch_on_the_cross_entropy():
    torch.manual_seed(0)
    model = mlp.MLP((16,), seed=3)
    model.loss = "cross_entropy"
    rng = np.random.default_rng(0)
    images, labels = rng.random((8, 28, 28)).astype(np.float32), rng.integers(0, 10, 8)
    tuned = finetune.fine_tune(model, images, labels, epochs=1, batch_size=8, strength=0.0, rehearsal=None, lr=1e-3)
    reference = copy.deepcopy(model)
    opt = torch.optim.Adam(reference.parameters(), lr=1e-3)
    x = (torch.as_tensor(images).reshape(8, -1) - mlp.MEAN) / mlp.STD
    loss = torch.nn.functional.cross_entropy(reference(x), torch.as_tensor(labels))
    opt.zero_grad()
    loss.backward()
    opt.step()
    assert len(tuned.history) == 1
    assert tuned.history["loss"].iloc[0] == pytest.approx(loss.item(), rel=1e-5)
    for mine, theirs in zip(tuned.model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-6)
    # the network it started from is left as it was
    for before, untouched in zip(model.parameters(), mlp.MLP((16,), seed=3).parameters(), strict=True):
        torch.testing.assert_close(before, untouched)


def test_rehearsal_and_distillation_are_torchs_cross_entropy_plus_the_scores_kept(world):
    data, model, _ = world
    rng = np.random.default_rng(1)
    images, labels = rng.random((8, 28, 28)).astype(np.float32), rng.integers(0, 10, 8)
    tuned = finetune.fine_tune(model, images, labels, rehearsal=data, rehearse=2, distill=0.5, epochs=1, batch_size=8,
                               strength=0.0, lr=1e-3, seed=4)
    order = torch.randperm(8, generator=torch.Generator().manual_seed(4))  # the batch order fine_tune draws
    pick = np.random.default_rng(4).integers(0, len(data.train_labels), 16)  # ... and its MNIST digits
    x = torch.cat([torch.as_tensor(images)[order].reshape(8, -1),
                   torch.as_tensor(data.train_images[pick].reshape(16, -1) / 255.0, dtype=torch.float32)])
    x = (x - mlp.MEAN) / mlp.STD
    y = torch.cat([torch.as_tensor(labels)[order], torch.as_tensor(data.train_labels[pick])])
    reference = copy.deepcopy(model)
    opt = torch.optim.Adam(reference.parameters(), lr=1e-3)
    scores = reference(x)
    with torch.no_grad():
        kept = model(x[8:])
    loss = torch.nn.functional.cross_entropy(scores, y) + 0.5 * ((scores[8:] - kept) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    assert tuned.history["loss"].iloc[0] == pytest.approx(loss.item(), rel=1e-5)
    for mine, theirs in zip(tuned.model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-6)


def test_stop_ends_the_fine_tune_and_says_so(world):
    data, model, shapes = world
    images, labels, _ = room_drawings(shapes)
    asked = []
    tuned = finetune.fine_tune(model, images, labels, rehearsal=data, should_stop=lambda: len(asked) > 2 or asked.append(1))
    assert tuned.stopped and len(tuned.history) == 3


def test_the_class_is_learnt_out_of_fold_and_mnist_is_not_forgotten(world):
    data, model, shapes = world
    images, labels, writers = room_drawings(shapes, each=2)
    lesson = finetune.learn_class(model, images, labels, writers, data, lr=3e-3, strength=0.3, epochs=15)
    assert lesson.by_student and lesson.k == finetune.FOLDS and lesson.students == STUDENTS
    # before: the network's own reading, recomputed here
    assert lesson.folds.accuracy_before == pytest.approx(finetune.accuracy(model, images, labels))
    assert lesson.folds.accuracy_before < 0.5 < lesson.folds.accuracy_after
    assert lesson.mnist_before == pytest.approx(mlp.evaluate(model, data))
    assert lesson.mnist_drop <= 0.02
    assert lesson.mnist_after == pytest.approx(mlp.evaluate(lesson.tuned.model, data))
    assert lesson.per_digit["drawings"].sum() == len(labels)


# ------------------------------------------------------------------ folds and refusals


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=200), st.integers(2, 8), st.integers(0, 3))
def test_a_student_is_never_on_both_sides_of_a_fold(writer_ids, k, seed):
    writers = np.array([f"student {w}" for w in writer_ids], dtype=object)
    labels = np.arange(len(writers)) % 10
    folds = finetune.folds_by_student(writers, k, labels, seed)
    assert folds.shape == (len(writers),) and folds.min() >= 0 and folds.max() < k
    if finetune.by_student(writers, k):  # the claim of finetune.how_measured_students
        for w in set(writer_ids):
            assert len(set(folds[np.asarray(writer_ids) == w])) == 1, f"student {w} is in two folds"
        assert len(set(folds)) == k  # every fold holds someone out
    else:  # the claim of finetune.how_measured_drawings: fewer than k students, dealt digit by digit
        assert len(set(writer_ids)) < k
        for digit in range(10):
            counts = np.bincount(folds[labels == digit], minlength=k)
            assert counts.max() - counts.min() <= 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=10, max_size=10))
def test_fewer_than_five_of_a_digit_is_refused_with_a_code(counts):
    labels = np.repeat(np.arange(10), counts)
    short = [d for d in range(10) if counts[d] < finetune.MIN_PER_DIGIT]
    if not short:
        finetune.check_enough(labels)
        return
    with pytest.raises(finetune.FinetuneError) as refused:
        finetune.check_enough(labels)
    # the claim of finetune.err.too_few
    assert refused.value.code == "too_few"
    assert refused.value.fields["digits"] == ", ".join(map(str, short))
    assert refused.value.fields["fewest"] == min(counts[d] for d in short)


def test_a_refused_class_trains_nothing(world):
    data, model, shapes = world
    images, labels, writers = room_drawings(shapes)
    keep = ~((labels == 7) & (np.char.add(writers.astype(str), "") != "s0"))  # one 7 left
    before = copy.deepcopy(model.state_dict())
    with pytest.raises(finetune.FinetuneError, match="7"):
        finetune.learn_class(model, images[keep], labels[keep], writers[keep], data)
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, before[name])


@settings(max_examples=40, deadline=None)
@given(st.floats(0, 1), st.floats(0, 1))
def test_the_verdict_says_better_only_when_more_were_read_right(before, after):
    better = finetune.verdict(before, after) == "better"
    assert better == (after > before)


# ------------------------------------------------------------------ a room on both databases, and the store


def test_a_room_on_the_board_is_fine_tuned_and_kept_in_the_model_store(make_board, world, tmp_path, monkeypatch):
    from app import class_finetune
    from classroom import models

    data, model, shapes = world
    board = make_board(TEACHER)
    room = board.open_room(TEACHER)
    images, labels, writers = room_drawings(shapes)
    for image, label, who in zip(images, labels, writers, strict=True):
        board.add_drawing(room, who, int(label), image)
    hidden = board.add_drawing(room, "s0", 3, np.zeros((28, 28), np.uint8) + 255)
    board.hide(room, hidden, TEACHER)
    drawings = board.drawings(room)  # what the class page fine-tunes on: the visible ones
    got_images, got_labels = np.stack(list(drawings["image"])), drawings["label"].to_numpy()
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    lesson = finetune.learn_class(model, got_images, got_labels, drawings["nickname"].to_numpy(object), data,
                                  lr=3e-3, strength=0.3, epochs=15)
    assert lesson.by_student
    base = mlp.TrainedModel(model, None, mlp.evaluate(model, data), class_finetune.base_config(data), data.source, 1.0)
    key = class_finetune.save_lesson(room, lesson, base, data, root=tmp_path)
    assert key == class_finetune.model_key(room, finetune.drawings_digest(got_images, got_labels),
                                           class_finetune.base_key(data))
    report = class_finetune.saved_report(room, root=tmp_path)
    assert report["key"] == key and report["before"] == lesson.folds.accuracy_before
    assert report["after"] == lesson.folds.accuracy_after and report["drawings"] == len(labels)
    kept = models.stored_model(key, base.config, tmp_path)  # what another worker reads
    assert kept.accuracy == pytest.approx(lesson.mnist_after)
    np.testing.assert_allclose(mlp.predict_proba(kept.model, got_images / 255.0),
                               mlp.predict_proba(lesson.tuned.model, got_images / 255.0), rtol=1e-5, atol=1e-6)
    monkeypatch.setattr(class_finetune, "_models", type(class_finetune._models)())
    assert class_finetune.class_model(room, tmp_path, data) is not None
    assert class_finetune.class_model("ZZZZZZ", tmp_path, data) is None


def test_the_store_key_depends_on_the_room_the_drawings_and_the_default():
    from app import class_finetune

    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (20, 28, 28), dtype=np.uint8), rng.integers(0, 10, 20)
    digest = finetune.drawings_digest(images, labels)
    assert digest == finetune.drawings_digest(images.copy(), labels.copy())
    assert digest == finetune.drawings_digest(images / 255.0, labels)  # floats as the draw page keeps them
    relabelled = labels.copy()
    relabelled[0] = (relabelled[0] + 1) % 10
    other = images.copy()
    other[0, 0, 0] ^= 1
    assert len({digest, finetune.drawings_digest(images, relabelled), finetune.drawings_digest(other, labels),
                finetune.drawings_digest(images[:-1], labels[:-1])}) == 4
    key = class_finetune.model_key("ABC234", digest, "base")
    assert key == class_finetune.model_key("ABC234", digest, "base")
    assert len({key, class_finetune.model_key("ABC235", digest, "base"), class_finetune.model_key("ABC234", "x", "base"),
                class_finetune.model_key("ABC234", digest, "other")}) == 4
    assert class_finetune.pointer_key(" abc234 ") == class_finetune.pointer_key("ABC234")


# ------------------------------------------------------------------ the pages


@pytest.fixture
def class_db(tmp_path, monkeypatch):
    from app import classboard
    from classroom import classboard as cb

    url = f"sqlite:///{tmp_path / 'class.sqlite3'}"
    monkeypatch.setenv("CLASS_DB_URL", url)
    monkeypatch.setenv("CLASS_TEACHER_CODE", TEACHER)
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path / "models"))
    with cb.ClassBoard(url, teacher_code=TEACHER) as board:
        yield board
    classboard.forget_reads()


def strings(key: str, lang: str = "en", **fields) -> str:
    from app.i18n import STRINGS

    return STRINGS[key][lang].format(**fields)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_teachers_button_refuses_too_few_drawings_in_the_pages_language(class_db, lang):
    from conftest import open_page

    room = class_db.open_room(TEACHER)
    for label in range(10):
        class_db.add_drawing(room, "s0", label, np.full((28, 28), 200, np.uint8))
    at = open_page("pages/classboard.py", lang=lang, query={"room": room})
    [passcode] = [w for w in at.text_input if w.label == strings("classboard.teacher_code", lang)]
    passcode.input(TEACHER)
    [unlock] = [b for b in at.button if b.label == strings("classboard.unlock", lang)]
    at = unlock.click().run()
    [learn] = [b for b in at.button if b.label == strings("finetune.start", lang)]
    at = learn.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert strings("finetune.err.too_few", lang, digits="0, 1, 2, 3, 4, 5, 6, 7, 8, 9", least=5, fewest=1) in \
        [w.value for w in at.warning]


@pytest.mark.slow
def test_lesson_7_tells_the_story_with_the_classs_own_figures(class_db, world, tmp_path):
    from conftest import open_page

    from app import class_finetune

    data, model, shapes = world
    room = class_db.open_room(TEACHER)
    images, labels, writers = room_drawings(shapes)
    for image, label, who in zip(images, labels, writers, strict=True):
        class_db.add_drawing(room, who, int(label), image)
    lesson = finetune.learn_class(model, images, labels, writers, data, lr=3e-3, strength=0.3, epochs=15)
    base = mlp.TrainedModel(model, None, 0.9, class_finetune.base_config(data), data.source, 1.0)
    class_finetune.save_lesson(room, lesson, base, data, root=tmp_path / "models")
    at = open_page("pages/handwriting.py", lang="en", query={"room": room}, timeout=600)
    assert not at.exception, [e.value for e in at.exception]
    shown = [m.value for m in at.markdown]
    assert strings("finetune.story_example", drawings=len(labels), students=STUDENTS,
                   before=f"{lesson.folds.accuracy_before:.1%}", after=f"{lesson.folds.accuracy_after:.1%}",
                   mnist_before=f"{lesson.mnist_before:.2%}", mnist_after=f"{lesson.mnist_after:.2%}") in shown
    assert strings("finetune.verdict_better") in [c.value for c in at.caption]


@pytest.mark.slow
def test_the_draw_page_reads_with_our_classs_network_once_the_teacher_made_one(class_db, world, tmp_path):
    from conftest import open_page

    from app import class_finetune

    data, model, shapes = world
    room = class_db.open_room(TEACHER)
    images, labels, writers = room_drawings(shapes)
    lesson = finetune.learn_class(model, images, labels, writers, data, lr=3e-3, strength=0.3, epochs=15)
    base = mlp.TrainedModel(model, None, 0.9, class_finetune.base_config(data), data.source, 1.0)
    class_finetune.save_lesson(room, lesson, base, data, root=tmp_path / "models")
    at = open_page("pages/draw.py", lang="en", query={"room": room, "model": "class"}, timeout=600)
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="draw.model").value == "class"
    expected = "🧠 " + strings("draw.model_reading", model=strings("draw.model.class"), accuracy=f"{lesson.mnist_after:.1%}",
                              seconds=f"{lesson.seconds:.0f}")
    assert expected in [c.value for c in at.caption]


def test_the_teachers_job_fine_tunes_in_the_background_keeps_the_result_and_can_be_stopped(world, tmp_path, monkeypatch):
    from app import class_finetune, training
    from classroom import slots

    data, model, shapes = world
    monkeypatch.setenv("MODEL_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(training, "mnist_data", lambda: data)
    monkeypatch.setattr(training, "trained_model", lambda config: mlp.TrainedModel(model, None, 0.9, config, data.source, 1.0))
    monkeypatch.setattr(slots, "SLOTS", OneThread())
    images, labels, writers = room_drawings(shapes)
    job = class_finetune.FinetuneJob("ABC234", images, labels, writers)
    job.stop()  # at once: nothing is kept
    assert job.wait(120) and job.stopped and job.error is None
    assert class_finetune.saved_report("ABC234") is None
    job = class_finetune.FinetuneJob("ABC234", images, labels, writers)
    assert job.wait(600) and job.error is None and not job.stopped
    report = class_finetune.saved_report("ABC234")
    assert job.report == report and report["drawings"] == len(labels) and report["students"] == STUDENTS
    assert report["key"] == class_finetune.model_key("ABC234", finetune.drawings_digest(images, labels),
                                                     class_finetune.base_key(data))
    few = class_finetune.FinetuneJob("ABC235", images[:30], labels[:30], writers[:30])
    assert few.wait(60) and getattr(few.error, "code", None) == "too_few"
    assert class_finetune.saved_report("ABC235") is None


@pytest.mark.slow
def test_the_teacher_sees_the_classs_before_and_after_and_mnist_on_the_class_page(class_db, world, tmp_path):
    from conftest import assert_valid_vega_lite, open_page, vega_lite_specs

    from app import class_finetune

    data, model, shapes = world
    room = class_db.open_room(TEACHER)
    images, labels, writers = room_drawings(shapes)
    for image, label, who in zip(images, labels, writers, strict=True):
        class_db.add_drawing(room, who, int(label), image)
    lesson = finetune.learn_class(model, images, labels, writers, data, lr=3e-3, strength=0.3, epochs=15)
    base = mlp.TrainedModel(model, None, 0.9, class_finetune.base_config(data), data.source, 1.0)
    class_finetune.save_lesson(room, lesson, base, data, root=tmp_path / "models")
    at = open_page("pages/classboard.py", lang="zh", query={"room": room})
    [passcode] = [w for w in at.text_input if w.label == strings("classboard.teacher_code", "zh")]
    passcode.input(TEACHER)
    at = next(b for b in at.button if b.label == strings("classboard.unlock", "zh")).click().run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[strings("finetune.before_metric", "zh")] == f"{lesson.folds.accuracy_before:.1%}"
    assert metrics[strings("finetune.after_metric", "zh")] == f"{lesson.folds.accuracy_after:.1%}"
    assert metrics[strings("finetune.mnist_metric", "zh")] == f"{lesson.mnist_after:.2%}"
    assert strings("finetune.how_measured_students", "zh", k=finetune.FOLDS, drawings=len(labels), students=STUDENTS) in \
        [c.value for c in at.caption]
    folds = [s for s in vega_lite_specs(at) if s.get("data", {}).get("name") == "folds"]
    assert len(folds) == 1
    assert_valid_vega_lite(folds[0])
