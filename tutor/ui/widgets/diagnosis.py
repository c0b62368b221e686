"""``#diagnosis``: what the run doctor (:mod:`tutor.doctor`) says about the run just shown.

Plain words naming the evidence (``diverged: loss went from 1 to nan/inf by epoch 2``), the
likely cause, and the change to try, offered as a one-key rerun (``t: rerun with lr=0.1``).
The Train pane decides which run it describes and owns the key; this only displays.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tutor.doctor import Diagnosis
from tutor.text import inert

RERUN_KEY = "t"  # "try": the doctor's lines end with "try: lr=0.1"
STYLES = {
    "diverged": "bold red",
    "overfitting": "yellow",
    "noisy": "yellow",
    "plateau": "yellow",
    "fine": "green",
}


def rerun_line(diagnosis: Diagnosis, lang: str = "en") -> str | None:
    """``t: rerun with lr=0.1`` (None: the doctor has no change to suggest)."""
    label = diagnosis.rerun_label()
    if label is None:
        return None
    if lang == "zh":
        return f"{RERUN_KEY}：用 {label} 重新运行"
    return f"{RERUN_KEY}: rerun with {label}"


class DiagnosisView(Static):
    """The doctor's lines for one run; hidden while there is none."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.diagnosis: Diagnosis | None = None
        self.display = False

    def show(self, diagnosis: Diagnosis | None, lang: str = "en") -> None:
        self.diagnosis = diagnosis
        self.display = diagnosis is not None
        if diagnosis is None:
            self.update("")
            return
        # Evidence names series and values from the lesson's run: inert before the terminal.
        first, *rest = [inert(line) for line in diagnosis.lines(lang)]
        text = Text(first, style=STYLES.get(diagnosis.kind, ""))
        for line in rest:
            text.append("\n" + line)
        rerun = rerun_line(diagnosis, lang)
        if rerun:
            text.append("\n" + rerun, style="bold")
        self.update(text)

    @property
    def suggestion(self) -> dict[str, object] | None:
        return self.diagnosis.suggestion if self.diagnosis else None
