"""The run doctor: after every run, what happened in plain words, and one change to try.

Pure functions over a :class:`~tutor.events.RunResult`'s status and curves (no torch, no
numpy), so both front ends and the tests call it on stored runs. docs/experiments.md lists
the rules; in order, the first that matches wins:

- ``diverged``: the run's status says so (NaN/inf), or a loss curve ended at least
  :data:`DIVERGE_FACTOR` times above where it started. Likely cause: a learning rate too high
  for this loss scale. Suggests ``lr`` ÷ 3 (rounded down to one significant digit).
- ``overfitting``: a per-epoch train/held-out pair (``train_loss``/``test_loss`` or ``dev_loss``,
  ``train_acc``/``test_acc``, also with a suffix such as ``_plain``) whose test side got
  worse after its best epoch *k* by more than :data:`OVERFIT_LOSS_RISE` (losses, relative) or
  :data:`OVERFIT_ACC_DROP` (accuracies, absolute) while the train side kept improving.
  Suggests ``epochs = k``.
- ``noisy``: in the second half of a per-step loss curve, a typical step-to-step jump is more
  than :data:`NOISE_RATIO` of how far the loss fell. Suggests ``batch_size`` × 4, else ``lr`` ÷ 3.
- ``plateau``: the main loss fell by less than :data:`PLATEAU_DROP` of its first value.
  Suggests ``lr`` × 3 (within the declared range), else ``epochs`` × 3.
- ``fine``: none of these.

Every suggestion stays inside the lesson's declared ranges; a diagnosis whose change would
leave them (or whose lesson has no such hyperparameter) has ``suggestion`` ``None``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from tutor.events import RunResult
    from tutor.lesson.schema import Lesson

Kind = Literal["diverged", "plateau", "overfitting", "noisy", "fine"]
Points = Sequence[tuple[float, float]]

DIVERGE_FACTOR = 10.0  # a loss that ends 10x above its start has diverged
PLATEAU_DROP = 0.05  # a loss that fell by less than 5% of its start is stuck
OVERFIT_MIN_EPOCHS = 4  # fewer epochs cannot show a trend
OVERFIT_LOSS_RISE = 0.10  # test loss 10% above its best...
OVERFIT_ACC_DROP = 0.02  # ...or test accuracy 2 points below its best
NOISE_MIN_POINTS = 40  # step points needed to judge noise
NOISE_RATIO = 0.3  # median |step-to-step change| / the loss's total fall
LR_NAMES = ("lr", "learning_rate")


@dataclass(frozen=True)
class Diagnosis:
    """What the doctor says about one run. ``evidence`` and ``cause`` are {"en", "zh"}."""

    kind: Kind
    evidence: dict[str, str]
    cause: dict[str, str] = field(default_factory=dict)
    suggestion: dict[str, Any] | None = None  # hyperparameters to set for the rerun

    def text(self, what: Literal["evidence", "cause"], lang: str = "en") -> str:
        texts = self.evidence if what == "evidence" else self.cause
        return texts.get(lang) or texts.get("en", "")

    def as_json(self, lang: str = "en") -> dict[str, Any]:
        """The ``diagnosis`` of ``dl-tutor run --json``'s ``end`` event."""
        return {
            "kind": self.kind,
            "evidence": self.text("evidence", lang),
            "cause": self.text("cause", lang),
            "suggestion": {"set": dict(self.suggestion)} if self.suggestion else None,
        }

    def rerun_label(self) -> str | None:
        """``lr=0.1``: what a one-key rerun sets (``r: rerun with lr=0.1``)."""
        if not self.suggestion:
            return None
        return " ".join(f"{k}={_g(v)}" for k, v in self.suggestion.items())

    def lines(self, lang: str = "en") -> list[str]:
        """Plain-words text for a run's summary: kind, evidence, cause, the change to try."""
        zh = lang == "zh"
        out = [f"{_KIND_LABEL[self.kind][1 if zh else 0]}: {self.text('evidence', lang)}"]
        if self.cause:
            out.append(("可能的原因：" if zh else "likely cause: ") + self.text("cause", lang))
        label = self.rerun_label()
        if label:
            out.append(("试试：" if zh else "try: ") + label)
        return out


_KIND_LABEL: dict[str, tuple[str, str]] = {
    "diverged": ("diverged", "发散"),
    "plateau": ("plateau", "停滞"),
    "overfitting": ("overfitting", "过拟合"),
    "noisy": ("noisy", "噪声大"),
    "fine": ("fine", "正常"),
}


def diagnose(result: RunResult, lesson: Lesson | None = None) -> Diagnosis | None:
    """The doctor's verdict on a finished run; ``None`` for a run with nothing to judge
    (failed or cancelled, or no loss curve). ``lesson`` gives the series kinds and the
    hyperparameter ranges suggestions must stay in."""
    if result.status in ("failed", "cancelled"):
        return None
    kinds = {s.name: s.kind for s in lesson.series} if lesson else {}
    pers = {s.name: s.per for s in lesson.series} if lesson else {}
    losses = {
        name: list(points)
        for name, points in result.history.items()
        if points and kinds.get(name, "loss" if "loss" in name.lower() else "other") == "loss"
    }
    params = dict(result.params)
    if result.status == "diverged":
        return _diverged(losses, pers, params, lesson, result.error)
    for name, points in losses.items():
        if _grew(points):
            return _diverged({name: points}, pers, params, lesson, None)
    if not losses:
        return None
    over = _overfitting(result.history, params, lesson)
    if over:
        return over
    for name, points in losses.items():
        if pers.get(name, "step") == "step":
            noisy = _noisy(name, points, params, lesson)
            if noisy:
                return noisy
    main_name = _main_loss(losses, pers)
    points = losses[main_name]
    first, last = points[0][1], points[-1][1]
    evidence = _went(main_name, first, last, points[-1][0], pers.get(main_name, "step"))
    if len(points) >= 3 and first > 0 and (first - last) < PLATEAU_DROP * first:
        return _plateau(evidence, params, lesson)
    return Diagnosis("fine", evidence)


# -- the rules -------------------------------------------------------------------------------


def _finite(points: Points) -> list[tuple[float, float]]:
    return [(x, y) for x, y in points if math.isfinite(y)]


def _grew(points: Points) -> bool:
    finite = _finite(points)
    if len(finite) < 2 or len(finite) < len(points):
        return len(finite) < len(points)  # a NaN/inf in the curve
    first, last = finite[0][1], finite[-1][1]
    return first > 0 and last >= DIVERGE_FACTOR * first


def _diverged(
    losses: Mapping[str, Points],
    pers: Mapping[str, str],
    params: dict[str, Any],
    lesson: Lesson | None,
    error: str | None,
) -> Diagnosis:
    name, points = next(iter(losses.items()), ("loss", []))
    per = pers.get(name, "step")
    finite = _finite(points)
    bad = next(((x, y) for x, y in points if not math.isfinite(y)), None)
    if finite and error and not bad:  # the NaN stopped the run before it reached the curve
        reason = error.splitlines()[0]
        evidence = {
            "en": f"{reason} (it started at {_g(finite[0][1])})",
            "zh": f"{reason}（起初是 {_g(finite[0][1])}）",
        }
    elif finite:
        end_x, end_y = bad if bad else points[-1]
        end = "nan/inf" if bad else _g(end_y)
        evidence = {
            "en": f"{name} went from {_g(finite[0][1])} to {end} by {per} {_g(end_x)}",
            "zh": f"{name} 从 {_g(finite[0][1])} 变成了 {end}（到第 {_g(end_x)} {_UNIT_ZH[per]}）",
        }
    else:
        reason = (error or "the loss became NaN or infinite").splitlines()[0]
        evidence = {"en": reason, "zh": f"损失变成了 NaN 或无穷大（{reason}）"}
    cause = {
        "en": "the learning rate is too high for this loss scale: each step overshoots",
        "zh": "学习率相对这个损失的尺度太大：每一步都迈过了头",
    }
    return Diagnosis("diverged", evidence, cause, _scaled(params, lesson, LR_NAMES, 1 / 3))


# The held-out side of a train_* curve: a test set, or a dev (validation) set.
HELD_OUT_PREFIXES = ("test_", "dev_", "val_")


def _overfitting(
    history: Mapping[str, Points], params: dict[str, Any], lesson: Lesson | None
) -> Diagnosis | None:
    pairs = [
        (train_name, held_out + train_name[len("train_") :])
        for train_name in history
        if train_name.startswith("train_")
        for held_out in HELD_OUT_PREFIXES
    ]
    for train_name, test_name in pairs:
        train, test = _finite(history[train_name]), _finite(history.get(test_name, []))
        if min(len(train), len(test)) < OVERFIT_MIN_EPOCHS:
            continue
        is_loss = "loss" in train_name
        ys = [y for _, y in test]
        best_i = (min if is_loss else max)(range(len(ys)), key=ys.__getitem__)
        if best_i >= len(ys) - 1:
            continue
        best, last = ys[best_i], ys[-1]
        worse = last > best * (1 + OVERFIT_LOSS_RISE) if is_loss else last < best - OVERFIT_ACC_DROP
        train_ys = [y for _, y in train]
        train_better = (
            train_ys[-1] < train_ys[best_i] if is_loss else train_ys[-1] > train_ys[best_i]
        )
        if not (worse and train_better):
            continue
        k = test[best_i][0]
        evidence = {
            "en": f"{test_name} was best at epoch {_g(k)} ({_g(best)}) and ended at {_g(last)}, "
            f"while {train_name} kept improving ({_g(train_ys[best_i])} → {_g(train_ys[-1])})",
            "zh": f"{test_name} 在第 {_g(k)} 轮最好（{_g(best)}），最后是 {_g(last)}；"
            f"而 {train_name} 一直在变好（{_g(train_ys[best_i])} → {_g(train_ys[-1])}）",
        }
        cause = {
            "en": f"after epoch {_g(k)} the model memorises the training data instead of "
            "learning what carries over to new data",
            "zh": f"第 {_g(k)} 轮之后，模型在记住训练数据，而不是学到能推广到新数据的规律",
        }
        suggestion = _within(lesson, "epochs", int(k)) if float(k).is_integer() else None
        return Diagnosis("overfitting", evidence, cause, suggestion)
    return None


def _noisy(
    name: str, points: Points, params: dict[str, Any], lesson: Lesson | None
) -> Diagnosis | None:
    ys = [y for _, y in _finite(points)]
    if len(ys) < NOISE_MIN_POINTS:
        return None
    half = ys[len(ys) // 2 :]
    jumps = sorted(abs(b - a) for a, b in zip(half, half[1:]))
    typical = jumps[len(jumps) // 2]
    level = sorted(half)[len(half) // 2]
    fall = ys[0] - level
    if fall <= 0 or typical <= NOISE_RATIO * fall:
        return None
    evidence = {
        "en": f"in the second half of {name}, a typical step changes the loss by {_g(typical)}, "
        f"{typical / fall:.0%} of its whole fall ({_g(ys[0])} → about {_g(level)})",
        "zh": f"{name} 的后半段，相邻两步的损失通常相差 {_g(typical)}，"
        f"是整个下降幅度（{_g(ys[0])} → 约 {_g(level)}）的 {typical / fall:.0%}",
    }
    cause = {
        "en": "each batch is too small for this learning rate: one batch's gradient points "
        "somewhere else than the next one's",
        "zh": "对这个学习率来说批量太小：每个批量的梯度方向都不一样",
    }
    suggestion = _scaled(params, lesson, ("batch_size",), 4) or _scaled(
        params, lesson, LR_NAMES, 1 / 3
    )
    return Diagnosis("noisy", evidence, cause, suggestion)


def _plateau(evidence: dict[str, str], params: dict[str, Any], lesson: Lesson | None) -> Diagnosis:
    cause = {
        "en": "learning is too slow: the steps are too small to get anywhere in this many epochs",
        "zh": "学得太慢：步子太小，在这么多轮里走不了多远",
    }
    suggestion = _scaled(params, lesson, LR_NAMES, 3) or _scaled(params, lesson, ("epochs",), 3)
    return Diagnosis("plateau", evidence, cause, suggestion)


def _main_loss(losses: Mapping[str, Points], pers: Mapping[str, str]) -> str:
    # "loss" itself when there is one; else the curve with the most points (per step first).
    if "loss" in losses:
        return "loss"
    return max(losses, key=lambda n: (pers.get(n, "step") == "step", len(losses[n])))


def _went(name: str, first: float, last: float, x: float, per: str) -> dict[str, str]:
    return {
        "en": f"{name} went from {_g(first)} to {_g(last)} by {per} {_g(x)}",
        "zh": f"{name} 从 {_g(first)} 变成了 {_g(last)}（到第 {_g(x)} {_UNIT_ZH[per]}）",
    }


_UNIT_ZH = {"step": "步", "epoch": "轮"}


# -- suggestions within the declared ranges ----------------------------------------------------


def _scaled(
    params: Mapping[str, Any], lesson: Lesson | None, names: Sequence[str], factor: float
) -> dict[str, Any] | None:
    """The first of ``names`` the run has, times ``factor``, rounded to a friendly value."""
    for name in names:
        value = params.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            continue
        new: float | int = value * factor
        if isinstance(value, int):
            new = max(1, round(new))
        else:
            new = _one_digit(new, down=factor < 1)
        within = _within(lesson, name, new)
        if within and within[name] != value:  # at the edge of its range: nothing to change
            return within
    return None


def _within(lesson: Lesson | None, name: str, value: Any) -> dict[str, Any] | None:
    """``{name: value}`` clamped into the declared range; None when that changes nothing."""
    spec = lesson.hyperparam(name) if lesson else None
    if lesson is not None and spec is None:
        return None
    if spec is not None:
        if spec.min is not None and value < spec.min:
            value = type(value)(spec.min)
        if spec.max is not None and value > spec.max:
            value = type(value)(spec.max)
        if spec.problem_with(value):
            return None
    return {name: value}


def _one_digit(value: float, *, down: bool) -> float:
    """0.1 for 0.1667 (down), 0.09 for 0.09; 0.3 for 0.3 (up from 0.25 → 0.3)."""
    if value <= 0:
        return value
    scale = 10 ** math.floor(math.log10(value))
    digit = value / scale
    digit = math.floor(digit + 1e-9) if down else math.ceil(digit - 1e-9)
    return float(f"{digit * scale:.12g}")


def _g(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e6:
        return str(int(value))
    text = f"{value:.3g}"
    return re.sub(r"e\+?(-?)0*(\d)", r"e\1\2", text)
