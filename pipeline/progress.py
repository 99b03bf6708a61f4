"""Terminal progress for `plumbline run`: one bar per pipeline step."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from tqdm import tqdm

from pipeline.flow import STEPS


class StepBars:
    """A flow hook that draws a bar per step, ticking its elapsed time while the step runs."""

    def __init__(self, stream: Any = None):
        self.stream = stream or sys.stderr
        self._bars: dict[str, tqdm] = {}
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, daemon=True)
        self._ticker.start()

    def hook(self, step: str, status: str, detail: dict[str, Any]) -> None:
        """Called by the flow when a step starts, succeeds or fails."""
        if status == "running":
            self._bars[step] = tqdm(
                total=1,
                desc=f"{STEPS.index(step) + 1}/{len(STEPS)} {step:<8}",
                bar_format="{desc} |{bar:24}| {elapsed}{postfix}",
                file=self.stream,
                leave=True,
                dynamic_ncols=False,
                ncols=90,
            )
            return
        bar = self._bars.get(step)
        if bar is None:
            return
        if status == "succeeded":
            note = detail.get("skipped") or _summary(detail)
            bar.set_postfix_str(note, refresh=False)
            bar.update(1)
        else:
            bar.set_postfix_str(f"FAILED: {detail.get('error', '')}"[:80], refresh=False)
        bar.close()

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            for bar in list(self._bars.values()):
                if not bar.disable and bar.n < bar.total:
                    bar.refresh()

    def close(self) -> None:
        """Stop ticking and close any bar still open."""
        self._stop.set()
        time.sleep(0)
        for bar in self._bars.values():
            bar.close()


def _summary(detail: dict[str, Any]) -> str:
    keys = (
        "new_batches",
        "rejected",
        "accepted",
        "quarantined",
        "version",
        "roc_auc",
        "model_version",
    )
    return ", ".join(f"{k} {detail[k]}" for k in keys if k in detail)
