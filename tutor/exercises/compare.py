"""Reference against learner: is what the learner's function returned (or yielded, or left in
its arguments and its module) what the lesson's own code gave? Each ``compare_*`` returns None
when it matches, else one sentence for the learner saying what differs.

Runs in the checker child; torch is imported inside the functions that need it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tutor.lesson.schema import Exercise


class Drained(list[Any]):
    """The items a generator (any iterator) yielded, so it can be compared as a list."""


def _is_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _shape(t: Any) -> str:
    dims = tuple(int(d) for d in t.shape)
    return str(dims)


def _num(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _describe(value: Any) -> str:
    if value is None:
        return "None"
    if _is_tensor(value):
        dtype = str(value.dtype).removeprefix("torch.")
        if value.dim() == 0:
            return f"a tensor {_num(value.item())} ({dtype})"
        return f"a tensor of shape {_shape(value)} ({dtype})"
    if isinstance(value, Drained):
        return f"a generator of {len(value)} items"
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, (int, float)):
        return f"{type(value).__name__} {_num(value)}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} items"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(map(str, value))}"
    text = repr(value)
    return text if len(text) <= 60 else f"a {type(value).__name__}"


def compare_result(expected: Any, got: Any, ex: Exercise) -> str | None:
    if expected is None:
        # A function that works by changing its arguments (sgd): its arguments are compared;
        # returning something as well does no harm.
        return None
    if got is None:
        return f"returned None; expected {_describe(expected)}. Did you forget to `return`?"
    if isinstance(expected, Drained):
        if not isinstance(got, Drained):
            return f"returned {_describe(got)}; expected a generator (use `yield`)"
        if ex.order == "any":
            return _compare_rows(expected, got, ex)
        if len(got) != len(expected):
            return f"yielded {len(got)} items; expected {len(expected)}"
        for i, (e, g) in enumerate(zip(expected, got)):
            problem = _compare(e, g, f"item {i}", ex)
            if problem:
                return f"yielded wrong items: {problem.removeprefix('gave ')}"
        return None
    return _compare(expected, got, "the result", ex, top=True)


def _compare(expected: Any, got: Any, where: str, ex: Exercise, *, top: bool = False) -> str | None:
    """None if ``got`` matches ``expected``; otherwise what differs, for the learner."""
    said = "returned" if top else f"gave {where} ="
    if _is_tensor(expected):
        if not _is_tensor(got):
            extra = " (a Python number; keep it a tensor)" if isinstance(got, (int, float)) else ""
            return f"{said} {_describe(got)}{extra}; expected {_describe(expected)}"
        return _compare_tensors(expected, got, where, ex, top=top)
    if isinstance(expected, (list, tuple)):
        if not isinstance(got, (list, tuple)):
            return f"{said} {_describe(got)}; expected {_describe(expected)}"
        if len(got) != len(expected):
            return f"{said} {len(got)} items; expected {len(expected)}"
        for i, (e, g) in enumerate(zip(expected, got)):
            problem = _compare(e, g, f"{where}[{i}]", ex)
            if problem:
                return problem
        return None
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            return f"{said} {_describe(got)}; expected {_describe(expected)}"
        for key in expected:
            problem = _compare(expected[key], got[key], f"{where}[{key!r}]", ex)
            if problem:
                return problem
        return None
    if isinstance(expected, bool) or isinstance(got, bool):
        return None if got == expected else f"{said} {got!r}; expected {expected!r}"
    if isinstance(expected, (int, float)):
        if _is_tensor(got) and got.numel() == 1:
            return (
                f"{said} {_describe(got)}; expected a Python number {_num(expected)} (use .item())"
            )
        if not isinstance(got, (int, float)):
            return f"{said} {_describe(got)}; expected {_describe(expected)}"
        if math.isclose(got, expected, rel_tol=ex.tolerance, abs_tol=ex.tolerance) or (
            math.isnan(got) and math.isnan(expected)
        ):
            return None
        return f"{said} {_num(got)}; expected {_num(expected)}"
    try:
        same = bool(got == expected)
    except Exception:
        same = False
    return None if same else f"{said} {_describe(got)}; expected {_describe(expected)}"


def _compare_tensors(expected: Any, got: Any, where: str, ex: Exercise, *, top: bool) -> str | None:
    import torch

    said = "returned" if top else f"gave {where} ="
    if tuple(got.shape) != tuple(expected.shape):
        return f"{said} a tensor of shape {_shape(got)}; expected shape {_shape(expected)}"
    if ex.check_dtype and got.dtype != expected.dtype:
        e_type = str(expected.dtype).removeprefix("torch.")
        g_type = str(got.dtype).removeprefix("torch.")
        return f"{said} a tensor of dtype {g_type}; expected {e_type}"
    e = expected.detach().cpu()
    g = got.detach().cpu()
    exact = not (e.is_floating_point() or e.is_complex() or g.is_floating_point())
    if exact:
        close = g.to(e.dtype) == e if g.dtype != e.dtype else g == e
    else:
        close = torch.isclose(
            g.double(), e.double(), rtol=ex.tolerance, atol=ex.tolerance, equal_nan=True
        )
    bad = ~close
    wrong = int(bad.sum())
    if wrong == 0:
        return None
    prefix = "returned wrong values" if top else f"gave wrong values in {where}"
    if e.dim() == 0:
        return f"{said} {_num(g.item())}; expected {_num(e.item())}"
    index = tuple(int(i) for i in bad.nonzero()[0])
    at = "[" + ", ".join(map(str, index)) + "]"
    expected_value, got_value = e[index].item(), g[index].item()
    text = (
        f"{prefix}: {wrong} of {e.numel()} differ; at {at} expected {_num(expected_value)}, "
        f"got {_num(got_value)}"
    )
    if (
        isinstance(got_value, float)
        and not math.isfinite(got_value)
        and math.isfinite(expected_value)
    ):
        text += " (an overflow? exp() of a large number is inf)"
    elif not exact:
        text += f" (tolerance {ex.tolerance:g})"
    return text


def _rows(items: Sequence[Any]) -> tuple[Any, list[int]] | str:
    """All yielded rows as one (N, D) float64 tensor (every component of an item flattened per
    row and placed side by side, so rows of X stay paired with their labels), and the item
    sizes. A string says why the items cannot be read as rows."""
    import torch

    blocks, sizes = [], []
    for i, item in enumerate(items):
        parts = item if isinstance(item, (list, tuple)) else (item,)
        if not parts or not all(_is_tensor(p) and p.dim() >= 1 for p in parts):
            return f"item {i} is {_describe(item)}, not a batch of tensors"
        n = len(parts[0])
        if any(len(p) != n for p in parts):
            return f"item {i} holds tensors with different numbers of rows"
        blocks.append(torch.cat([p.detach().cpu().reshape(n, -1).double() for p in parts], dim=1))
        sizes.append(n)
    if not blocks:
        return torch.zeros(0, 0, dtype=torch.float64), sizes
    widths = {b.shape[1] for b in blocks}
    if len(widths) != 1:
        return "items have different shapes"
    return torch.cat(blocks), sizes


def _sorted_rows(rows: Any) -> Any:
    import torch

    ordered = sorted(rows.tolist())
    return torch.tensor(ordered, dtype=torch.float64) if ordered else rows


def _compare_rows(expected: Drained, got: Drained, ex: Exercise) -> str | None:
    """``order: any``: the same items in number and structure, and the same rows overall."""
    import torch

    if len(got) != len(expected):
        return f"yielded {len(got)} items; expected {len(expected)}"
    for i, (e, g) in enumerate(zip(expected, got)):
        e_parts = e if isinstance(e, (list, tuple)) else (e,)
        g_parts = g if isinstance(g, (list, tuple)) else (g,)
        if len(g_parts) != len(e_parts):
            return f"yielded item {i} = {_describe(g)}; expected {_describe(e)}"
        for j, (ep, gp) in enumerate(zip(e_parts, g_parts)):
            if not _is_tensor(gp):
                return f"yielded item {i}[{j}] = {_describe(gp)}; expected {_describe(ep)}"
            if tuple(gp.shape) != tuple(ep.shape):
                sizes = ", ".join(str(_batch_size(x)) for x in expected)
                return (
                    f"yielded item {i}[{j}] of shape {_shape(gp)}; expected {_shape(ep)} "
                    f"(the batch sizes, in order: {sizes})"
                )
            if ex.check_dtype and gp.dtype != ep.dtype:
                return f"yielded item {i}[{j}] of dtype {gp.dtype}; expected {ep.dtype}"
    e_rows, g_rows = _rows(expected), _rows(got)
    if isinstance(g_rows, str):
        return f"yielded items that are not batches: {g_rows}"
    if isinstance(e_rows, str):
        return None  # the reference's items are not rows: nothing more to compare
    e_sorted, g_sorted = _sorted_rows(e_rows[0]), _sorted_rows(g_rows[0])
    if not torch.allclose(g_sorted, e_sorted, rtol=ex.tolerance, atol=ex.tolerance, equal_nan=True):
        return (
            "yielded different rows: every input row must appear exactly once, "
            "with its features and label kept together"
        )
    return None


def _batch_size(item: Any) -> int:
    first = item[0] if isinstance(item, (list, tuple)) and item else item
    return len(first) if _is_tensor(first) and first.dim() else 1


def same_sequence(a: Any, b: Any) -> bool:
    import torch

    if not isinstance(a, Drained) or not isinstance(b, Drained) or len(a) != len(b):
        return False
    rows_a, rows_b = _rows(a), _rows(b)
    if isinstance(rows_a, str) or isinstance(rows_b, str):
        return False
    return bool(torch.equal(rows_a[0], rows_b[0]))


def _tensors_in(value: Any, where: str) -> Iterator[tuple[str, Any]]:
    if _is_tensor(value):
        yield where, value
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _tensors_in(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _tensors_in(item, f"{where}[{key!r}]")


def compare_args(
    expected: list[Any], got: list[Any], before: list[Any], names: Sequence[str], ex: Exercise
) -> str | None:
    """The arguments after the call: a function like sgd works by changing them (and their
    .grad); any other function must leave them alone."""
    for i, (e_arg, g_arg, b_arg) in enumerate(zip(expected, got, before)):
        name = names[i] if i < len(names) else f"argument {i + 1}"
        e_items = list(_tensors_in(e_arg, name))
        g_items = list(_tensors_in(g_arg, name))
        b_items = list(_tensors_in(b_arg, name))
        if len(g_items) != len(e_items):
            return (
                f"changed the contents of {name} (now {_describe(g_arg)}; "
                f"it must stay {_describe(e_arg)})"
            )
        for (where, e), (_, g), (_, b) in zip(e_items, g_items, b_items):
            for suffix, e_t, g_t, b_t in (
                ("", e, g, b),
                (".grad", e.grad, g.grad, b.grad),
            ):
                label = where + suffix
                if e_t is None and g_t is None:
                    continue
                if e_t is None or g_t is None:
                    now = "None" if g_t is None else _describe(g_t)
                    return f"left {label} = {now}; expected {_describe(e_t)}"
                problem = _compare_tensors(e_t, g_t, label, ex, top=False)
                if problem is None:
                    continue
                if b_t is not None and _equal_quietly(g_t, b_t) and not _equal_quietly(e_t, b_t):
                    if suffix == ".grad" and not bool(e_t.detach().any()):
                        return (
                            f"left {label} unchanged; expected all zeros "
                            "(did you forget to zero the gradient?)"
                        )
                    return (
                        f"left {label} unchanged; expected it to be updated in place "
                        "(e.g. `param -= ...`, not `param = param - ...`)"
                    )
                if b_t is not None and _equal_quietly(e_t, b_t):
                    return (
                        f"changed {label} in place; it must stay as it was "
                        "(compute a new tensor instead of modifying the argument)"
                    )
                return f"after the call, {problem.removeprefix('gave ')}"
    return None


def _equal_quietly(a: Any, b: Any) -> bool:
    import torch

    try:
        return tuple(a.shape) == tuple(b.shape) and bool(
            torch.equal(a.detach().cpu(), b.detach().cpu().to(a.dtype))
        )
    except Exception:
        return False


def compare_module(expected: Any, got: Any, ex: Exercise) -> str | None:
    """A method must leave its module's parameters and buffers as the reference does."""
    e_state, g_state = expected.state_dict(), got.state_dict()
    for key, e in e_state.items():
        g = g_state.get(key)
        if g is None or not _is_tensor(g):
            continue  # a renamed layer: the learner's __init__ is not the exercise
        problem = _compare_tensors(e, g, f"self.{key}", ex, top=False)
        if problem:
            return f"changed the module's state: {problem.removeprefix('gave ')}"
    return None
