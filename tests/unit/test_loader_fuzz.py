"""Property: whatever bytes a lesson file holds, the loader yields a lesson or its own error."""

from __future__ import annotations

import tempfile
from pathlib import Path

from helpers import MINIMAL_CODE, MINIMAL_YAML
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tutor.lesson.loader import LessonError, LoadedLesson, load_lesson

GOOD = MINIMAL_YAML.format(id="fuzz").encode()

yaml_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20)
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


def load_bytes(data: bytes) -> LoadedLesson | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lesson.yaml"
        path.write_bytes(data)
        (Path(tmp) / "code.py").write_text(MINIMAL_CODE)
        try:
            return load_lesson(path)
        except LessonError as e:
            assert e.problems and all(str(p).startswith(str(path)) for p in e.problems)
            return None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    load_bytes(data)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_mutated_good_lesson(data: st.DataObject) -> None:
    text = bytearray(GOOD)
    for _ in range(data.draw(st.integers(1, 5))):
        kind = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        at = data.draw(st.integers(0, len(text) - 1))
        if kind == "flip":
            text[at] = data.draw(st.integers(0, 255))
        elif kind == "delete":
            del text[at : at + data.draw(st.integers(1, 20))]
        else:
            text[at:at] = data.draw(
                st.sampled_from([b":", b"- ", b"\n  ", b"{", b"&a ", b"*a", b"!!"])
            )
        if not text:
            text = bytearray(b"x")
    load_bytes(bytes(text))


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "id",
                "title",
                "order",
                "quiz",
                "checks",
                "hyperparams",
                "series",
                "code",
                "text",
                "summary",
                "smoke",
            ]
        ),
        yaml_values,
        max_size=8,
    )
)
def test_random_documents(document: dict) -> None:
    import yaml

    load_bytes(yaml.safe_dump(document, allow_unicode=True).encode())


def test_the_unmutated_lesson_loads() -> None:
    assert load_bytes(GOOD) is not None
