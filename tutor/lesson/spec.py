"""The exercise case-spec language: how a lesson writes the arguments its exercises are called with.

Part of the lesson format, so the schema can refuse a bad spec with its line when a lesson
loads; :mod:`tutor.exercises` builds the values from it when it checks learner code.
docs/exercises.md documents the language for lesson authors.
"""

from __future__ import annotations

import ast
import math
from typing import Any, cast

MAX_SPEC_ELEMENTS = 1_000_000  # per generated tensor: a typo must not eat the memory
MAX_SPEC_CHARS = 2_000

# A case is a list of arguments; each argument is a YAML number, bool or null (passed as is),
# a YAML list (of arguments), or a string in a tiny expression language:
#
#   randn(10, 2)             normal(0, 1) float32 tensor of that shape
#   rand(3, 4)               uniform [0, 1)
#   randint(10, 5)           int64 tensor of shape (5,) with values in [0, 10)
#   probs(4, 10)             rows that sum to 1 (softmax of randn): predicted probabilities
#   param(2, 1)              randn with requires_grad=True and .grad already filled (randn)
#   zeros(2) ones(2, 3)      constant tensors
#   arange(6)                0, 1, ..., 5 (int64 unless dtype= says otherwise)
#   tensor([[1.0, inf]])     a literal tensor (numbers, inf, nan, true/false)
#   ...(..., dtype=float64)  any tensor maker above takes dtype= (float16/32/64, int32/64, bool)
#   randn(2, 5) * 100        + - * / with numbers or other specs: edge cases (large scores);
#                            a param() stays a param (leaf, requires_grad, its .grad kept)
#   [param(2, 1), param(1)]  lists and tuples of specs;  0.03, 'text', True, None: literals
#
# Parsing uses Python's ast and accepts nothing else (no attributes, no other names), so a
# spec is data, never code. Values come from a torch.Generator seeded per case: the reference
# and the learner get identical, fresh copies.

_SHAPE_FUNCS = {"randn", "rand", "probs", "param", "zeros", "ones"}
_SPEC_FUNCS = _SHAPE_FUNCS | {"randint", "arange", "tensor"}
_DTYPES = {
    "float16": "float16",
    "half": "float16",
    "bfloat16": "bfloat16",
    "float32": "float32",
    "float": "float32",
    "float64": "float64",
    "double": "float64",
    "int8": "int8",
    "uint8": "uint8",
    "int16": "int16",
    "int32": "int32",
    "int": "int32",
    "int64": "int64",
    "long": "int64",
    "bool": "bool",
}
_CONSTANT_NAMES = {"inf": math.inf, "nan": math.nan, "true": True, "false": False}
_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div)


class SpecError(ValueError):
    """A case spec that does not parse; the message says what is wrong."""


def parse_spec(value: Any) -> Any:
    """Check one case argument (a YAML value); returns a parsed form for :func:`build_arg`.

    Raises :class:`SpecError` (a ``ValueError``, so pydantic reports it with its line).
    """
    if value is None or isinstance(value, (bool, int, float)):
        return ("const", value)
    if isinstance(value, list):
        try:
            return ("list", [parse_spec(v) for v in value])
        except RecursionError:
            raise SpecError("a case argument is nested too deeply") from None
    if isinstance(value, str):
        if len(value) > MAX_SPEC_CHARS:
            raise SpecError(f"a case spec is limited to {MAX_SPEC_CHARS} characters")
        try:
            tree = ast.parse(value.strip(), mode="eval")
            return ("expr", _check_node(tree.body, value), value.strip())
        except SyntaxError as e:
            raise SpecError(f"case spec {value!r} is not valid: {e.msg}") from None
        except (RecursionError, MemoryError, ValueError) as e:  # "((((((…", NUL bytes
            if isinstance(e, SpecError):
                raise
            raise SpecError(f"case spec {value[:40]!r}… is not valid: nested too deeply") from None
    raise SpecError(
        f"a case argument must be a number, true/false, null, a list or a spec string, "
        f"not a {type(value).__name__}"
    )


def _check_node(node: ast.AST, text: str) -> ast.AST:
    """Refuse anything outside the spec language; returns ``node`` unchanged."""
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, (int, float, str, bool, type(None))):
            raise SpecError(f"{text!r}: {node.value!r} is not allowed")
        return node
    if isinstance(node, ast.Name):
        if node.id not in _CONSTANT_NAMES:
            hint = ""
            if node.id in _SPEC_FUNCS:
                hint = f"; call it: {node.id}(...)"
            elif node.id.isidentifier():
                hint = f"; to pass text, quote it: \"'{node.id}'\""
            raise SpecError(f"{text!r}: unknown name {node.id!r}{hint}")
        return node
    if isinstance(node, (ast.List, ast.Tuple)):
        for item in node.elts:
            _check_node(item, text)
        return node
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        _check_node(node.operand, text)
        return node
    if isinstance(node, ast.BinOp) and isinstance(node.op, _BINOPS):
        _check_node(node.left, text)
        _check_node(node.right, text)
        return node
    if isinstance(node, ast.Call):
        _check_call(node, text)
        return node
    raise SpecError(
        f"{text!r}: {type(node).__name__} is not part of the spec language "
        f"(known: {', '.join(sorted(_SPEC_FUNCS))}, numbers, lists, + - * /)"
    )


def _check_call(node: ast.Call, text: str) -> None:
    name = node.func.id if isinstance(node.func, ast.Name) else None
    if name not in _SPEC_FUNCS:
        import difflib

        shown = ast.unparse(node.func)
        close = difflib.get_close_matches(shown, sorted(_SPEC_FUNCS), n=1)
        hint = (
            f"; did you mean {close[0]!r}?"
            if close
            else f" (known: {', '.join(sorted(_SPEC_FUNCS))})"
        )
        raise SpecError(f"{text!r}: unknown function {shown!r}{hint}")
    for keyword in node.keywords:
        if keyword.arg != "dtype":
            raise SpecError(f"{text!r}: {name}() takes only the keyword dtype=, not {keyword.arg}=")
        dtype = keyword.value
        if not (isinstance(dtype, ast.Name) and dtype.id in _DTYPES) and not (
            isinstance(dtype, ast.Constant) and dtype.value in _DTYPES
        ):
            raise SpecError(
                f"{text!r}: unknown dtype {ast.unparse(dtype)}; use one of {', '.join(_DTYPES)}"
            )
    if name == "tensor":
        if len(node.args) != 1:
            raise SpecError(f"{text!r}: tensor() takes one literal, e.g. tensor([[1, 2], [3, 4]])")
        _literal_data(node.args[0], text)
        return
    ints = []
    for arg in node.args:
        value = arg.value if isinstance(arg, ast.Constant) else None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SpecError(f"{text!r}: the arguments of {name}() must be whole numbers >= 0")
        ints.append(value)
    if name == "randint":
        if not ints or ints[0] < 1:
            raise SpecError(f"{text!r}: randint(high, *shape) needs high >= 1, e.g. randint(10, 5)")
        ints = ints[1:]
    elif name == "arange":
        if len(ints) != 1:
            raise SpecError(f"{text!r}: arange(n) takes one number")
    elif not ints and name in ("probs",):
        raise SpecError(f"{text!r}: {name}() needs a shape, e.g. {name}(4, 10)")
    if math.prod(ints) > MAX_SPEC_ELEMENTS:
        raise SpecError(f"{text!r}: more than {MAX_SPEC_ELEMENTS:,} elements")


def _literal_data(node: ast.AST, text: str) -> Any:
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal_data(item, text) for item in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _literal_data(node.operand, text)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, bool)):
        return node.value
    if isinstance(node, ast.Name) and node.id in _CONSTANT_NAMES:
        return _CONSTANT_NAMES[node.id]
    raise SpecError(f"{text!r}: tensor() takes nested lists of numbers")


def spec_text(value: Any) -> str:
    """How a case argument is shown in messages: the spec as written, or the literal."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return "[" + ", ".join(spec_text(v) for v in value) + "]"
    return repr(value)


def build_arg(value: Any, generator: Any) -> Any:
    """A fresh argument value for one call (torch is imported here)."""
    return _build(parse_spec(value), generator)


def _build(parsed: Any, generator: Any) -> Any:
    kind = parsed[0]
    if kind == "const":
        return parsed[1]
    if kind == "list":
        return [_build(p, generator) for p in parsed[1]]
    return _eval_node(parsed[1], generator)


def _eval_node(node: ast.AST, g: Any) -> Any:
    import torch

    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return _CONSTANT_NAMES[node.id]
    if isinstance(node, ast.List):
        return [_eval_node(n, g) for n in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_eval_node(n, g) for n in node.elts)
    if isinstance(node, ast.UnaryOp):
        operand = _eval_node(node.operand, g)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left, right = _eval_node(node.left, g), _eval_node(node.right, g)
        op = node.op
        with torch.no_grad():
            if isinstance(op, ast.Add):
                result = left + right
            elif isinstance(op, ast.Sub):
                result = left - right
            elif isinstance(op, ast.Mult):
                result = left * right
            else:
                result = left / right
        # `param(3) * 100` is still a parameter: a leaf that requires grad, with its .grad.
        source = next(
            (v for v in (left, right) if isinstance(v, torch.Tensor) and v.requires_grad), None
        )
        if source is not None and isinstance(result, torch.Tensor):
            result = result.detach().requires_grad_(True)
            if source.grad is not None:
                result.grad = source.grad.clone()
        return result
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    name = node.func.id
    dtype = None
    for keyword in node.keywords:
        value = keyword.value
        raw = value.id if isinstance(value, ast.Name) else str(cast(ast.Constant, value).value)
        dtype = getattr(torch, _DTYPES[raw])
    if name == "tensor":
        return torch.tensor(_literal_data(node.args[0], ""), dtype=dtype)
    ints = [int(cast(Any, a.value)) for a in node.args if isinstance(a, ast.Constant)]
    if name == "randint":
        return torch.randint(0, ints[0], tuple(ints[1:]), generator=g, dtype=dtype or torch.int64)
    if name == "arange":
        return torch.arange(ints[0], dtype=dtype)
    shape = tuple(ints)
    if name == "zeros":
        return torch.zeros(shape, dtype=dtype)
    if name == "ones":
        return torch.ones(shape, dtype=dtype)
    if name == "rand":
        return torch.rand(shape, generator=g, dtype=dtype)
    values = torch.randn(shape, generator=g, dtype=dtype)
    if name == "probs":
        return torch.softmax(values, dim=-1)
    if name == "param":
        values.requires_grad_(True)
        values.grad = torch.randn(shape, generator=g, dtype=dtype)
    return values
