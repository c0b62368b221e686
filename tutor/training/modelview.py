"""The model view: each layer's output shape for one batch and its parameter count.

Forward hooks on the leaf modules record what flows through them; the result is
plain data (``ModelSummary``) that the runner records for quizzes, checks and the UI.
"""

from __future__ import annotations

from typing import Any


def summarize(model: Any, example_input: Any) -> dict[str, Any]:
    """Run ``model`` once on ``example_input`` (no grad, eval mode) and describe its layers.

    Returns ``{"layers": [{"name", "type", "output_shape", "params"}], "total_params": int,
    "trainable_params": int, "output_shape": [...]}``.
    """
    import torch

    layers: list[dict[str, Any]] = []
    handles = []

    def hook(name: str, module: Any):
        def record(_module: Any, _inputs: Any, output: Any) -> None:
            out = output[0] if isinstance(output, (tuple, list)) else output
            shape = list(out.shape) if hasattr(out, "shape") else []
            own = sum(p.numel() for p in module.parameters(recurse=False))
            layers.append(
                {"name": name, "type": type(module).__name__, "output_shape": shape, "params": own}
            )

        return record

    for name, module in model.named_modules():
        if name and not any(True for _ in module.children()):  # leaves only
            handles.append(module.register_forward_hook(hook(name, module)))
    was_training = model.training
    model.eval()  # batch norm and dropout must not change state while we look
    try:
        with torch.no_grad():
            output = model(example_input)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    out = output[0] if isinstance(output, (tuple, list)) else output
    return {
        "layers": layers,
        "total_params": sum(p.numel() for p in model.parameters()),
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "output_shape": list(out.shape) if hasattr(out, "shape") else [],
    }


def format_summary(summary: dict[str, Any]) -> str:
    """A fixed-width table for the terminal."""
    rows = [("layer", "type", "output shape", "params")]
    rows += [
        (
            layer["name"],
            layer["type"],
            "×".join(str(d) for d in layer["output_shape"]),
            f"{layer['params']:,}",
        )
        for layer in summary["layers"]
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("─" * w for w in widths))
    lines.append(f"total parameters: {summary['total_params']:,}")
    return "\n".join(lines)
