"""The promotion gate: decides, in words, whether a new model replaces the champion.

Pure: it reads evaluations already computed on the same most recent labelled window and
returns a :class:`GateDecision`. The flow turns the decision into alias changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from pipeline.settings import PromotionSettings


@dataclass(frozen=True)
class Evaluation:
    """A model's metrics and per-segment metrics on one window."""

    version: int
    metrics: dict[str, Any]
    segments: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class GateDecision:
    """Where the new model goes, and why, as sentences a person can read."""

    version: int
    promote: bool
    checks: list[tuple[str, bool, str]]  # (check, passed, sentence)
    summary: str

    @property
    def alias(self) -> str:
        """The alias the new version receives."""
        return "champion" if self.promote else "challenger"

    def as_json(self) -> dict[str, Any]:
        """A JSON-able record for the registry."""
        return {
            "promote": self.promote,
            "alias": self.alias,
            "summary": self.summary,
            "checks": [{"check": c, "passed": p, "sentence": s} for c, p, s in self.checks],
        }


def _sanity(new: Evaluation, rules: PromotionSettings) -> list[tuple[str, bool, str]]:
    m = new.metrics
    nan = int(m.get("nan_predictions") or 0)
    checks = [
        (
            "no_nan",
            nan == 0,
            "no missing or infinite predictions"
            if nan == 0
            else f"{nan:,} predictions are missing or infinite",
        )
    ]
    rate = m.get("flag_rate")
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        checks.append(("flag_rate", False, "the share of customers flagged is undefined"))
    else:
        inside = rules.min_flag_rate <= rate <= rules.max_flag_rate
        checks.append(
            (
                "flag_rate",
                inside,
                f"it flags {rate:.1%} of customers at its threshold "
                + ("(within " if inside else "(outside the allowed ")
                + f"{rules.min_flag_rate:.1%}-{rules.max_flag_rate:.1%})",
            )
        )
    return checks


def _segment_checks(new: Evaluation, old: Evaluation, rules: PromotionSettings) -> tuple[bool, str]:
    old_by_key = {(s["column"], s["value"]): s for s in old.segments}
    worst: tuple[float, str] | None = None
    regressions = []
    for seg in new.segments:
        before = old_by_key.get((seg["column"], seg["value"]))
        if before is None or seg.get("roc_auc") is None or before.get("roc_auc") is None:
            continue
        if min(seg["rows"], before["rows"]) < rules.segment_min_rows:
            continue
        drop = before["roc_auc"] - seg["roc_auc"]
        label = f"{seg['column']} {seg['value']}"
        if worst is None or drop > worst[0]:
            worst = (drop, label)
        if drop > rules.segment_tolerance:
            regressions.append(
                f"ROC AUC on {label} fell from {before['roc_auc']:.3f} to {seg['roc_auc']:.3f}"
            )
    if regressions:
        return False, (
            "; ".join(regressions) + f" (more than the tolerance {rules.segment_tolerance:.3f})"
        )
    if worst is None:
        return True, "no segment had enough rows to compare"
    return True, f"no segment regressed by more than {rules.segment_tolerance:.3f}"


def decide(
    new: Evaluation,
    champion: Evaluation | None,
    rules: PromotionSettings,
    window: str,
    fairness: tuple[bool, str] | None = None,
) -> GateDecision:
    """Promote ``new`` only if it beats ``champion`` on ``window`` by the margin, no segment
    regresses beyond the tolerance, and its sanity checks pass.

    ``window`` names the labelled window both were measured on (e.g. "2025-06").
    ``fairness`` is (passes, sentence) from the fairness check; a failing one blocks promotion.
    """
    checks = _sanity(new, rules)
    if fairness is not None:
        checks.append(("fairness", fairness[0], fairness[1]))
    auc = new.metrics.get("roc_auc")
    v = f"v{new.version}"
    old_auc = None if champion is None else champion.metrics.get("roc_auc")
    if auc is None or (champion is not None and old_auc is None):
        # A window with one class only: ROC AUC is undefined, so nothing can be compared.
        checks.append(("margin", False, f"ROC AUC is undefined on {window} (one class only)"))
        kept = "" if champion is None else f"; v{champion.version} kept"
        summary = f"{v} stays challenger: ROC AUC is undefined on {window} (one class only){kept}."
        return GateDecision(new.version, False, checks, summary)
    if champion is None:
        sane = all(passed for _, passed, _ in checks)
        checks.append(
            ("champion", True, "there is no champion yet, so there is nothing to protect")
        )
        if sane:
            summary = (
                f"{v} is the first usable model (ROC AUC {auc:.3f} on {window}); "
                "sanity checks passed; made champion."
            )
        else:
            failed = "; ".join(s for c, p, s in checks if not p)
            summary = f"{v} stays challenger: {failed}."
        return GateDecision(new.version, sane, checks, summary)
    gain = auc - old_auc
    c = f"v{champion.version}"
    beats = gain >= rules.min_auc_gain
    if beats:
        verdict = f"{v} beat {c} on {window}"
    elif gain > 0:
        verdict = f"{v} did not beat {c} by the margin on {window}"
    else:
        verdict = f"{v} did not beat {c} on {window}"
    sign = ">=" if beats else "<"
    checks.append(
        (
            "margin",
            beats,
            f"{verdict} (ROC AUC {auc:.3f} vs {old_auc:.3f}, gain {gain:+.4f} {sign} margin "
            f"{rules.min_auc_gain:.4f})",
        )
    )
    seg_ok, seg_sentence = _segment_checks(new, champion, rules)
    checks.append(("segments", seg_ok, seg_sentence))
    checks.append(
        (
            "auto",
            rules.auto,
            "automatic promotion is on"
            if rules.auto
            else "automatic promotion is off (setting promotion.auto)",
        )
    )
    promote = all(passed for _, passed, _ in checks)
    sentences = [s for name, _, s in checks if name in ("margin", "segments")]
    sanity = [s for name, p, s in checks if name in ("no_nan", "flag_rate", "fairness") and not p]
    sentences.append("; ".join(sanity) if sanity else "sanity checks passed")
    warning = [s for name, p, s in checks if name == "fairness" and p and "exceeded" in s]
    sentences += warning  # a fairness breach that does not block is still said
    if not rules.auto:
        sentences.append("automatic promotion is off (setting promotion.auto)")
    verdict = f"promoted; {c} archived" if promote else f"{v} stays challenger; {c} kept"
    return GateDecision(new.version, promote, checks, "; ".join(sentences) + f"; {verdict}.")
