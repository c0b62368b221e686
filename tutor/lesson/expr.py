"""A tiny, safe expression language for checks and quiz answers.

Lesson files say what to compare (``max(abs(w - true_w))``, ``test_acc``,
``shape(X_batch)``) as Python-looking expressions over the values a run
recorded. They are parsed with :mod:`ast` and evaluated by walking a
whitelist of node types: no attribute access, no imports, no dunder tricks,
so a lesson file can never run hidden code. Lists become numpy arrays so
arithmetic is element-wise. numpy is imported only when evaluating.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, cast


class ExprError(ValueError):
    """An expression that does not parse or cannot be evaluated."""


_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_CMPOPS = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Not: operator.not_,
}
_ALLOWED = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call,
    ast.Name, ast.Load, ast.Constant, ast.Subscript, ast.Slice, ast.Tuple, ast.List,
    ast.And, ast.Or, *_BINOPS, *_CMPOPS, *_UNARY,
)  # fmt: skip
MAX_LENGTH = 500
# Bounds on any intermediate result: far above what a check needs (recorded tensors have at
# most 200,000 items), far below what hurts (an int of 100,000 bits takes microseconds).
MAX_INT_BITS = 100_000
MAX_ITEMS = 1_000_000


def _functions() -> dict[str, Any]:
    import numpy as np

    def shape(value: Any) -> tuple[int, ...]:
        return tuple(int(d) for d in np.shape(value))

    return {
        "abs": np.abs,
        "max": np.max,
        "min": np.min,
        "sum": np.sum,
        "mean": np.mean,
        "len": len,
        "round": np.round,
        "sqrt": np.sqrt,
        "all": np.all,
        "any": np.any,
        "argmax": lambda v: int(np.argmax(v)),
        "shape": shape,
        "float": float,
        "int": int,
        "tuple": lambda v: tuple(np.asarray(v).tolist()),
        "ceil": math.ceil,
        "floor": math.floor,
        "str": str,
    }


FUNCTION_NAMES = frozenset(
    "abs max min sum mean len round sqrt all any argmax shape "
    "float int tuple ceil floor str".split()
)
CONSTANTS = {"true": True, "false": False, "pi": math.pi}


@lru_cache(maxsize=512)
def compile_expr(source: str) -> ast.Expression:
    """Parse and vet ``source``; raises :class:`ExprError` with a readable message."""
    if not isinstance(source, str) or not source.strip():
        raise ExprError("empty expression")
    if len(source) > MAX_LENGTH:
        raise ExprError(f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as e:
        raise ExprError(f"cannot parse expression {source!r}: {e.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ExprError(f"{type(node).__name__} is not allowed in expression {source!r}")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTION_NAMES:
                raise ExprError(
                    f"only these functions may be called: {', '.join(sorted(FUNCTION_NAMES))}"
                )
            if node.keywords:
                raise ExprError("keyword arguments are not allowed in expressions")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise ExprError(f"name {node.id!r} is not allowed")
        if isinstance(node, ast.Constant) and isinstance(node.value, (bytes, complex)):
            raise ExprError("only numbers, strings and booleans are allowed as constants")
    return tree


def names_in(source: str) -> set[str]:
    """The value names an expression reads (function names and constants excluded)."""
    tree = compile_expr(source)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {
        n.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and id(n) not in called and n.id not in CONSTANTS
    }


def to_numeric(value: Any) -> Any:
    """Lists (recorded tensors) become numpy arrays so arithmetic is element-wise."""
    import numpy as np

    if isinstance(value, list):
        try:
            return np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            return value
    return value


def evaluate(source: str, values: Mapping[str, Any]) -> Any:
    """Evaluate ``source`` with ``values`` as its variables."""
    tree = compile_expr(source)
    funcs = _functions()

    def ev(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in values:
                return to_numeric(values[node.id])
            if node.id in CONSTANTS:
                return CONSTANTS[node.id]
            raise ExprError(f"the run did not record {node.id!r}")
        if isinstance(node, ast.BinOp):
            left, right = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Pow) and _too_big(right):
                raise ExprError("exponent too large")
            _check_size(node.op, left, right)
            return _BINOPS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](ev(node.operand))
        if isinstance(node, ast.BoolOp):
            result = isinstance(node.op, ast.And)
            for value_node in node.values:
                value = ev(value_node)
                if isinstance(node.op, ast.And) and not truth(value):
                    return value
                if isinstance(node.op, ast.Or) and truth(value):
                    return value
                result = value
            return result
        if isinstance(node, ast.Compare):
            left = ev(node.left)
            for op, right_node in zip(node.ops, node.comparators):
                right = ev(right_node)
                if not truth(_CMPOPS[type(op)](left, right)):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return ev(node.body) if truth(ev(node.test)) else ev(node.orelse)
        if isinstance(node, ast.Call):
            name = cast(ast.Name, node.func).id  # compile_expr allows only plain names here
            return funcs[name](*[ev(a) for a in node.args])
        if isinstance(node, ast.Subscript):
            return ev(node.value)[ev(node.slice)]
        if isinstance(node, ast.Slice):
            return slice(
                *(ev(p) if p is not None else None for p in (node.lower, node.upper, node.step))
            )
        if isinstance(node, (ast.Tuple, ast.List)):
            return tuple(ev(e) for e in node.elts)
        raise ExprError(f"{type(node).__name__} is not allowed")  # vetted already

    try:
        return plain(ev(tree))
    except ExprError:
        raise
    except Exception as e:  # numpy/indexing errors: report, never crash the caller
        raise ExprError(f"{source!r}: {type(e).__name__}: {e}") from None


def truth(value: Any) -> bool:
    """Truth of an expression result; an array is true when all its items are."""
    import numpy as np

    return bool(np.all(value)) if isinstance(value, np.ndarray) else bool(value)


def _too_big(value: Any) -> bool:
    return isinstance(value, (int, float)) and abs(value) > 1000


def _check_size(op: ast.operator, left: Any, right: Any) -> None:
    """Refuse an operation whose result would be too big, *before* computing it.

    A 500-character expression can otherwise spin a core for hours (``((9**999)**999)**999``)
    or allocate gigabytes (``"x" * 10**9``, ``"%999999999d" % 1``, an outer product by
    broadcasting).
    """
    import numpy as np

    if isinstance(op, ast.Mod) and isinstance(left, (str, bytes)):
        raise ExprError("string formatting with % is not allowed in expressions")
    if isinstance(left, int) and isinstance(right, int):
        if isinstance(op, ast.Pow) and right > 0 and abs(left) > 1:
            bits = (abs(left).bit_length() - 1) * right  # a lower bound of the result's size
        elif isinstance(op, ast.Mult):
            bits = abs(left).bit_length() + abs(right).bit_length()
        else:
            return
        if bits > MAX_INT_BITS:
            raise ExprError(f"result too large: an integer of more than {MAX_INT_BITS} bits")
        return
    sequences = (str, bytes, tuple, list)
    if isinstance(op, ast.Mult) and isinstance(left, sequences) != isinstance(right, sequences):
        seq, n = (left, right) if isinstance(left, sequences) else (right, left)
        if isinstance(n, (int, np.integer)) and len(seq) * int(n) > MAX_ITEMS:
            raise ExprError(f"result too large: more than {MAX_ITEMS} items or characters")
    elif isinstance(op, ast.Add) and isinstance(left, sequences) and isinstance(right, sequences):
        if len(left) + len(right) > MAX_ITEMS:
            raise ExprError(f"result too large: more than {MAX_ITEMS} items or characters")
    elif isinstance(left, np.ndarray) or isinstance(right, np.ndarray):
        try:
            shape = np.broadcast_shapes(np.shape(left), np.shape(right))
        except ValueError:
            return  # the operation itself says why the shapes do not fit
        if math.prod(shape) > MAX_ITEMS:
            raise ExprError(f"result too large: an array of shape {shape}")


def plain(value: Any) -> Any:
    """numpy scalars and arrays back to JSON-friendly Python values."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    return value
