"""``dl-tutor sweep`` and ``dl-tutor experiment``: one lesson over several settings.

Both run the lesson once per setting, one after another in this process (torch is imported
once), with the same seed; every run is stored like a ``dl-tutor run``, tagged with its sweep
(``records["_sweep"]``). ``--json`` prints one ``sweep-run`` line per run and a ``sweep-end``;
the text output is a results table, the loss curves overlaid, and (for an experiment) its
conclusion with the runs' values.

Exit codes: 0 when every run completed, 1 otherwise, 2 usage errors, 128+N after signal N.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
from collections.abc import Sequence
from contextlib import nullcontext, redirect_stdout
from typing import TYPE_CHECKING, Any, TextIO

from tutor.cli.common import PROG, catalog_for, cell_width, fail, find_lesson, fit, unknown_lesson
from tutor.cli.output import end_fields, jsonable
from tutor.cli.signals import ctrl_c_cancels
from tutor.events import format_metric

if TYPE_CHECKING:
    from tutor.events import RunResult
    from tutor.lesson.catalog import LoadedLesson
    from tutor.lesson.schema import Experiment


def add_parsers(sub: Any, device_type: Any) -> None:
    """The ``sweep`` and ``experiment`` subcommands."""
    p = sub.add_parser("sweep", help="run a lesson over a grid of hyperparameter values")
    p.add_argument("lesson", metavar="ID", help="lesson id (or its order number)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="NAME=VALUES",
        help="values to sweep: a,b,c or FROM:TO:COUNT or FROM:TO:COUNTlog (repeatable: a grid)",
    )
    _common(p, device_type)
    p.add_argument("--epochs", type=int, help="set the 'epochs' hyperparameter of every run")
    p.add_argument("--seed", type=int, help="set the 'seed' hyperparameter of every run")

    p = sub.add_parser("experiment", help="run a lesson's experiment and print its conclusion")
    p.add_argument("lesson", metavar="ID", help="lesson id (or its order number)")
    p.add_argument("experiment", metavar="EXP", nargs="?", help="experiment id (default: first)")
    _common(p, device_type)


def _common(p: argparse.ArgumentParser, device_type: Any) -> None:
    p.add_argument("--json", action="store_true", help="one JSON line per run, then the summary")
    p.add_argument("--smoke", action="store_true", help="apply the lesson's quick settings first")
    p.add_argument(
        "--device",
        dest="run_device",
        type=device_type,
        metavar="{auto,cpu,cuda,mps}",
        help="where to train (default: the global --device, else auto)",
    )


# -- the commands -------------------------------------------------------------------------------


def cmd_sweep(args: argparse.Namespace) -> int:
    from tutor.training.sweep import grid, parse_values

    catalog = catalog_for(args)
    loaded = find_lesson(catalog, args.lesson)
    if loaded is None:
        return unknown_lesson(catalog, args.lesson)
    if not args.overrides:
        return fail("sweep: give the values to compare, e.g. --set lr=0.01,0.1,0.5")
    lesson = loaded.lesson
    fixed: dict[str, Any] = dict(lesson.smoke) if args.smoke else {}
    try:
        axes = [parse_values(lesson, item) for item in args.overrides]
        for flag in ("epochs", "seed"):
            number = getattr(args, flag)
            if number is not None:
                spec = lesson.hyperparam(flag)
                if spec is None:
                    raise ValueError(f"lesson {loaded.id!r} has no {flag!r} hyperparameter")
                fixed[flag] = spec.parse(number)
        variants = grid(axes)
    except ValueError as e:
        return fail(str(e))
    params = [{**lesson.defaults(), **fixed, **v} for v in variants]
    return _sweep(loaded, variants, params, args, experiment=None)


def cmd_experiment(args: argparse.Namespace) -> int:
    from tutor.training.experiment import run_params

    catalog = catalog_for(args)
    loaded = find_lesson(catalog, args.lesson)
    if loaded is None:
        return unknown_lesson(catalog, args.lesson)
    found = loaded.lesson.experiments
    if args.experiment:
        found = [e for e in found if e.id == args.experiment]
    if not found:
        known = ", ".join(e.id for e in loaded.lesson.experiments) or "none"
        return fail(f"lesson {loaded.id!r} has no experiment {args.experiment!r} (known: {known})")
    experiment = found[0]
    params = run_params(loaded.lesson, experiment, smoke=args.smoke)
    return _sweep(loaded, experiment.variants(), params, args, experiment=experiment)


# -- running and printing ----------------------------------------------------------------------


def _sweep(
    loaded: LoadedLesson,
    variants: list[dict[str, Any]],
    params: list[dict[str, Any]],
    args: argparse.Namespace,
    experiment: Experiment | None,
) -> int:
    from tutor.cli.commands import _store_run
    from tutor.training import device as devices
    from tutor.training.sweep import run_sweep, sweep_tag, tagged

    try:
        devices.resolve(args.run_device or args.device or "auto")
    except devices.DeviceUnavailable as e:
        return fail(str(e))
    out, lang = sys.stdout, args.lang
    cancel = threading.Event()
    ended_by: list[int] = []
    tags = [sweep_tag(loaded.id, i, len(params), v) for i, v in enumerate(variants)]
    if experiment is not None:
        tags = [{**t, "experiment": experiment.id} for t in tags]
    if args.json:
        _json(out, event="sweep-start", lesson=loaded.id, runs=variants, params=params)
    else:
        title = experiment.question.get(lang) if experiment else f"sweep of {loaded.id}"
        print(f"{loaded.id}: {title}", file=out, flush=True)
        if experiment and experiment.predict:
            _print_predict(out, experiment, lang)

    def on_result(index: int, result: RunResult) -> None:
        _store_run(tagged(result, tags[index]))
        if args.json:
            end = end_fields(result, loaded, lang)
            _json(out, event="sweep-run", index=index, values=variants[index], end=end)
        else:
            label = fit(_label(variants[index]), 28)
            line = f"run {index + 1}/{len(params)}  {label}  {result.status}"
            print(f"{line}  {result.seconds:.1f}s", file=out, flush=True)

    quiet = redirect_stdout(sys.stderr) if args.json else nullcontext()
    with ctrl_c_cancels(cancel, ended_by), quiet:
        results = run_sweep(
            loaded,
            params,
            cancel=cancel,
            device=args.run_device or args.device or "auto",
            lang=lang,
            on_result=on_result,
        )
    read = None
    if experiment is not None:
        from tutor.training.experiment import read as read_experiment

        read = read_experiment(experiment, params, results)
    best = _best(loaded, variants, results)
    if args.json:
        fields: dict[str, Any] = {
            "runs": [_row_json(loaded, v, r) for v, r in zip(variants, results)]
        }
        fields["best"] = best
        if read is not None and experiment is not None:
            fields["experiment"] = {
                "id": experiment.id,
                "question": experiment.question.get(lang),
                "effect_shown": read.shown,
                "conclusion": read.conclusion(lang),
            }
        _json(out, event="sweep-end", **fields)
    else:
        _print_table(out, loaded, variants, results, best)
        _print_chart(out, loaded, variants, results)
        if read is not None:
            print(f"\n{read.conclusion(lang)}", file=out)
            shown = {True: "yes", False: "NO", None: "cannot tell (a run did not complete)"}
            print(f"effect shown: {shown[read.shown]}", file=out)
    if ended_by:
        return 128 + ended_by[0]
    complete = len(results) == len(params) and all(r.status == "completed" for r in results)
    return 0 if complete else 1


def _json(out: TextIO, **fields: Any) -> None:
    out.write(json.dumps(jsonable(fields), ensure_ascii=False, allow_nan=False) + "\n")
    out.flush()


def _label(values: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in values.items())


def _main_metric(loaded: LoadedLesson, result: RunResult) -> str | None:
    from tutor.training.sweep import main_metric

    return main_metric(loaded.lesson, result)


def _best(
    loaded: LoadedLesson, variants: Sequence[dict[str, Any]], results: Sequence[RunResult]
) -> dict[str, Any] | None:
    """The completed run with the lowest final loss (None when no run has one)."""
    from tutor.training.sweep import best_run

    best = best_run(loaded.lesson, results)
    if best is None:
        return None
    index, name, value = best
    return {"index": index, "values": variants[index], "by": name, "value": value}


def _row_json(loaded: LoadedLesson, values: dict[str, Any], result: RunResult) -> dict[str, Any]:
    from tutor.doctor import diagnose

    diagnosis = diagnose(result, loaded.lesson)
    return {
        "values": values,
        "status": result.status,
        "metrics": result.metrics,
        "checks_passed": sum(c.passed for c in result.checks),
        "checks": len(result.checks),
        "seconds": round(result.seconds, 3),
        "diagnosis": diagnosis.kind if diagnosis else None,
    }


def _print_predict(out: TextIO, experiment: Experiment, lang: str) -> None:
    from tutor.quiz import option_label

    question = experiment.predict
    assert question is not None
    print(f"predict: {question.prompt.get(lang)}", file=out)
    for i, option in enumerate(question.options or []):
        print(f"  {option_label(i)}) {option.get(lang)}", file=out)
    print("", file=out, flush=True)


def _print_table(
    out: TextIO,
    loaded: LoadedLesson,
    variants: Sequence[dict[str, Any]],
    results: Sequence[RunResult],
    best: dict[str, Any] | None,
) -> None:
    from tutor.doctor import diagnose

    metric_names = list(dict.fromkeys(n for r in results for n in r.metrics))[:3]
    header = ["#", "values", *metric_names, "status", "checks", "doctor", "time"]
    rows = [header]
    for i, (v, r) in enumerate(zip(variants, results)):
        diagnosis = diagnose(r, loaded.lesson)
        mark = "*" if best and best["index"] == i else " "
        metrics = [format_metric(r.metrics[n]) if n in r.metrics else "-" for n in metric_names]
        passed = sum(c.passed for c in r.checks)
        checks = f"{passed}/{len(r.checks)}" if r.checks else "-"
        doctor = diagnosis.kind if diagnosis else "-"
        rows.append(
            [f"{i}{mark}", _label(v), *metrics, r.status, checks, doctor, f"{r.seconds:.1f}s"]
        )
    widths = [min(32, max(cell_width(row[c]) for row in rows)) for c in range(len(header))]
    print("", file=out)
    for row in rows:
        print("  ".join(fit(c, w) for c, w in zip(row, widths)).rstrip(), file=out)
    if best:
        print(f"* best {best['by']}: {_label(best['values'])}", file=out)


def _print_chart(
    out: TextIO,
    loaded: LoadedLesson,
    variants: Sequence[dict[str, Any]],
    results: Sequence[RunResult],
) -> None:
    """The main loss curve of every run in one chart (finite points only)."""
    from tutor.cli.charts import CHART_MAX_WIDTH, render_compare
    from tutor.cli.common import LIST_WIDTH
    from tutor.cli.output import use_color

    name = next((n for r in results if (n := _main_metric(loaded, r))), None)
    if name is None:
        return
    series, left_out = {}, []
    for v, r in zip(variants, results):
        points = [(x, y) for x, y in r.history.get(name, []) if math.isfinite(y)]
        if len(points) >= 2:
            series[_label(v)] = points
    # A diverged curve (1e51) would flatten every other one: leave it out, and say so.
    starts = sorted(points[0][1] for points in series.values())
    if starts:
        ceiling = 100 * abs(starts[len(starts) // 2]) or math.inf
        for label, points in list(series.items()):
            if max(y for _, y in points) > ceiling:
                del series[label]
                left_out.append(label)
    if not series:
        return
    per = next((s.per for s in loaded.lesson.series if s.name == name), "step")
    try:
        chart = render_compare(name, per, series, min(LIST_WIDTH, CHART_MAX_WIDTH), use_color(out))
    except Exception as e:  # a plotting problem must not hide the results
        print(f"{PROG}: chart unavailable: {type(e).__name__}: {e}", file=sys.stderr)
        return
    print(f"\n{chart}", file=out)
    if left_out:
        print(f"(not drawn, the loss grew too large: {'; '.join(left_out)})", file=out)
