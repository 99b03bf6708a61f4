"""The model steps of a run: train (with the promotion gate), score, and a person's promotion.

Mixed into :class:`pipeline.flow.Flow`. Compute runs in child processes; every registry change
is staged on the run's :class:`~pipeline.warehouse.publish.Publication` and published with the
rest of the run in one transaction, so the champion pointer and the predictions served never
disagree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from pipeline import gate, lineage
from pipeline.compute import run_in_child
from pipeline.flow_state import RunFailed, RunState, StepResult
from pipeline.modeling.fairness import fairness_check
from pipeline.monitoring import policy
from pipeline.registry import ArtefactRefused, verify_artefact
from pipeline.settings import Settings
from pipeline.warehouse import Warehouse, alerts, datasets, models, monitor_work
from pipeline.warehouse import monitor_evidence as evidence
from pipeline.warehouse.aliases import AliasChange, challenger_changes, promotion_changes
from pipeline.warehouse.monitor_store import Decision
from pipeline.warehouse.publish import ModelRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PromotionRequest:
    """A person asks to make ``version`` champion (``action`` "promote" or "rollback")."""

    version: int
    actor: str
    comment: str
    action: str = "promote"


def _window_label(start: date, end: date) -> str:
    if start == end or (start.year, start.month) == (end.year, end.month):
        return f"{start:%Y-%m}"
    return f"{start:%Y-%m} to {end:%Y-%m}"


def _validate_from(decision: Decision, labelled: list[date]) -> str | None:
    """After a drift or performance trigger, the search validates on the months after the one
    that fired it, so it picks the candidate that learns the changed data best."""
    if decision.trigger not in ("drift", "performance") or decision.evidence is None:
        return None
    later = [p for p in labelled if p > decision.evidence]
    return later[0].isoformat() if later else None


class ModelSteps:
    """Train, score and promote; expects ``settings``, ``wh``, ``promotion`` on the instance."""

    settings: Settings
    wh: Warehouse
    promotion: PromotionRequest | None
    trigger: str
    user: str | None

    # -- the champion, verified --------------------------------------------------------------
    def _usable_champion(self, state: RunState) -> dict[str, Any] | None:
        """The champion if its artefact verifies; otherwise the last former champion that does.

        A refused artefact raises a critical alert at once, and the alias move to the fallback
        is staged with the run. None when no champion's artefact verifies.
        """
        if state.champion_checked:
            return state.champion
        state.champion_checked = True
        current = models.champion(self.wh)
        if current is None:
            return None
        try:
            verify_artefact(Path(current["artefact_path"]), current["sha256"])
        except ArtefactRefused as error:
            state.champion = self._fall_back(state, current, str(error))
            return state.champion
        state.champion = current
        return current

    def _fall_back(
        self, state: RunState, refused: dict[str, Any], reason: str
    ) -> dict[str, Any] | None:
        v = refused["version"]
        fallback = None
        for version in models.former_champions(self.wh):
            candidate = models.model(self.wh, version)
            if version == v or candidate is None:
                continue
            try:
                verify_artefact(Path(candidate["artefact_path"]), candidate["sha256"])
            except ArtefactRefused:
                continue
            fallback = candidate
            break
        if fallback is not None:
            outcome = (
                f"champion reverted to v{fallback['version']}, the last champion whose "
                "artefact verifies"
            )
            state.pub.alias_changes += [
                AliasChange("archived", v, f"artefact refused: {reason}"),
                AliasChange("champion", fallback["version"], f"v{v} refused: {outcome}"),
            ]
        else:
            outcome = "no earlier champion verifies, so nothing new is scored until a new model"
            state.pub.alias_changes.append(
                AliasChange("archived", v, f"artefact refused: {reason}")
            )
        message = f"Model v{v} was refused: {reason}. {outcome[0].upper()}{outcome[1:]}."
        alerts.raise_alert(self.wh, "critical", "artefact_refused", f"v{v}", message, state.run_id)
        log.error(message)
        return fallback

    # -- train ---------------------------------------------------------------------------------
    def _train(self, cur: duckdb.DuckDBPyConnection, state: RunState, work: Path) -> StepResult:
        contract = state.contract
        if contract is None or not datasets.create_work_views(cur):
            return StepResult(0, 0, {"skipped": "no clean data yet"})
        periods = datasets.labelled_periods(cur, contract)
        needed = self.settings.holdout_periods + 1
        if len(periods) < needed:
            return StepResult(
                0, 0, {"skipped": f"needs labels from {needed} months; has {len(periods)}"}
            )
        latest = models.latest_model(self.wh)
        state.model_since = models.first_holdout(self.wh)
        if (
            latest is not None
            and latest["holdout_to"] is not None
            and periods[-1] <= latest["holdout_to"]
        ):
            return StepResult(0, 0, {"skipped": f"no new labels since model v{latest['version']}"})
        champion = self._usable_champion(state)
        policy_decision = self._policy(cur, champion, periods)
        if policy_decision.action != "retrain":
            if policy_decision.action != "none":
                state.pub.decision = policy_decision
            return StepResult(0, 0, {"skipped": policy_decision.reason})
        window = periods[-(self.settings.train_window_periods + self.settings.holdout_periods) :]
        path = work / "train.parquet"
        rows = datasets.export_training(cur, contract, window[0], path)
        version = models.next_version(self.wh)
        segments = [s for s in self.settings.dataset.segments if s in contract.categorical]
        info = run_in_child(
            "pipeline.tasks.train_task",
            {
                "train_path": str(path),
                "spec": {
                    "categorical": contract.categorical,
                    "numeric": contract.numeric,
                    "seed": self.settings.training.seed,
                },
                "training": self.settings.training.model_dump(mode="json"),
                "holdout_periods": self.settings.holdout_periods,
                "segments": segments,
                "artefact_dir": str(self.settings.artefact_dir),
                "out_dir": str(work),
                "explain": self.settings.explain.model_dump(mode="json"),
                "fairness": self.settings.fairness.model_dump(mode="json"),
                "version": version,
                "validate_from": _validate_from(policy_decision, periods),
                "champion": None
                if champion is None
                else {
                    "path": champion["artefact_path"],
                    "sha256": champion["sha256"],
                    "threshold": champion["threshold"] or self.settings.dataset.decision_threshold,
                },
            },
            threads=self.settings.compute_threads,
        )
        if info["champion_error"] and champion is not None:
            # Verified a moment ago, refused in the child: the file changed in between.
            state.champion = champion = self._fall_back(state, champion, info["champion_error"])
            info["champion_evaluation"] = None
        decision = self._gate(version, info, champion)
        self._warn_fairness(state, version, info["fairness"]["summary"])
        current = models.current_aliases(self.wh)
        for change in state.pub.alias_changes:  # a fallback staged above counts as current
            current = {a: v for a, v in current.items() if v != change.version}
            if change.alias != "archived":
                current[change.alias] = change.version
        if decision.promote:
            state.pub.alias_changes += promotion_changes(version, current, decision.summary)
        else:
            state.pub.alias_changes += challenger_changes(version, current, decision.summary)
        state.pub.model = ModelRecord(
            version,
            info,
            {"categorical": contract.categorical, "numeric": contract.numeric},
            lineage=self._lineage(state, info, window),
            gate=decision.as_json(),
            champion_version=None if champion is None else champion["version"],
        )
        if state.model_since is None:
            state.model_since = info["holdout_from"]
        policy_decision.model_version, policy_decision.promoted = version, decision.promote
        policy_decision.outcome = decision.summary
        policy_decision.reason = (
            f"{policy_decision.reason}; retrained v{version}; {decision.summary}"
        )
        state.pub.decision = policy_decision
        auc = info["metrics"]["roc_auc"]
        detail = {
            "version": version,
            "algorithm": info["algorithm"],
            "roc_auc": None if auc is None else round(auc, 4),
            "train_rows": info["train_rows"],
            "holdout_rows": info["holdout_rows"],
            "fit_seconds": round(info["fit_seconds"], 2),
            "decision": decision.summary,
            "policy": policy_decision.reason,
        }
        return StepResult(
            rows_in=rows, rows_out=info["train_rows"] + info["holdout_rows"], detail=detail
        )

    def _policy(
        self, cur: duckdb.DuckDBPyConnection, champion: dict[str, Any] | None, labelled: list[date]
    ) -> Decision:
        """Ask the retrain policy whether this run trains, from the published monitoring."""
        version = None if champion is None else champion["version"]
        holdout_to = None if champion is None else champion["holdout_to"]
        return policy.decide(
            self.settings.retrain,
            policy.PolicyInput(
                trigger=self.trigger,
                user=self.user,
                champion_version=version,
                champion_holdout_to=holdout_to,
                champion_auc=None if champion is None else champion.get("roc_auc"),
                labelled=labelled,
                periods=monitor_work.clean_periods(cur),
                drift=[]
                if version is None
                else evidence.drifted_after(self.wh, holdout_to, version),
                performance=[]
                if version is None
                else evidence.roc_auc_after(self.wh, holdout_to, version),
                top_features=[] if version is None else evidence.top_features(self.wh, version),
                last_auto=evidence.last_automatic_retrain(self.wh),
                holdout_periods=self.settings.holdout_periods,
            ),
        )

    def _gate(
        self, version: int, info: dict[str, Any], champion: dict[str, Any] | None
    ) -> gate.GateDecision:
        new = gate.Evaluation(version, info["metrics"], info["evaluation"]["segments"])
        old = None
        if champion is not None and info["champion_evaluation"] is not None:
            ev = info["champion_evaluation"]
            old = gate.Evaluation(champion["version"], ev["metrics"], ev["segments"])
        window = _window_label(info["holdout_from"], info["holdout_to"])
        fair = fairness_check(info["fairness"]["summary"], self.settings.fairness.block_promotion)
        return gate.decide(new, old, self.settings.promotion, window, fairness=fair)

    def _warn_fairness(self, state: RunState, version: int, summary: list[dict]) -> None:
        """One open warning per column whose fairness limit a new version exceeds."""
        for f in summary:
            if f.get("breach"):
                alerts.raise_alert(
                    self.wh,
                    "warning",
                    "fairness",
                    f["column"],
                    f"Model v{version} exceeds a fairness limit: {f['sentence']}",
                    state.run_id,
                )

    def _lineage(self, state: RunState, info: dict[str, Any], window: list[date]) -> dict:
        accepted = {b.batch_id for b in state.pub.batches if b.status == "accepted"}
        values = lineage.training_settings(self.settings)
        return {
            "run_id": state.run_id,
            "data": {
                "window_from": window[0],
                "window_to": window[-1],
                "batches": models.data_snapshot(self.wh, accepted),
            },
            "settings": values,
            "settings_hash": lineage.settings_hash(values),
            "code_version": lineage.code_version(),
            "libraries": lineage.library_versions(),
            "seed": info["seed"],
            "durations": info["durations"],
            "artefact": {"sha256": info["sha256"], "size_bytes": info["size_bytes"]},
        }

    # -- score ---------------------------------------------------------------------------------
    def _serving_model(self, state: RunState) -> dict[str, Any] | None:
        """The model that scores this run: the new one if it was just promoted."""
        new = state.pub.model
        if new is not None and new.gate.get("promote"):
            i = new.info
            return {
                "version": new.version,
                "artefact_path": i["artefact_path"],
                "sha256": i["sha256"],
                "features": new.features,
                "holdout_from": i["holdout_from"],
                "threshold": i["threshold"],
            }
        return self._usable_champion(state)

    def _score(self, cur: duckdb.DuckDBPyConnection, state: RunState, work: Path) -> StepResult:
        model = self._serving_model(state)
        if model is None:
            return StepResult(0, 0, {"skipped": "no usable champion yet"})
        if state.contract is None or not datasets.create_work_views(cur):
            return StepResult(0, 0, {"skipped": "no clean data yet"})
        since = state.model_since or models.first_holdout(self.wh) or model["holdout_from"]
        periods = datasets.periods_to_score(cur, since)
        served = datasets.latest_served(cur)
        if served is not None and served[1] != {model["version"]} and served[0] not in periods:
            # A new champion: the period being served now is scored again by it, so the
            # champion pointer and the predictions served agree.
            periods.append(served[0])
            state.pub.replace_periods = [served[0]]
        if not periods:
            return StepResult(0, 0, {"skipped": "every period is already scored"})
        rows_in, rows_out = self._score_periods(cur, state, work, model, sorted(periods))
        detail = {"model_version": model["version"], "periods": [p.isoformat() for p in periods]}
        return StepResult(rows_in, rows_out, detail)

    def _score_periods(
        self,
        cur: duckdb.DuckDBPyConnection,
        state: RunState,
        work: Path,
        model: dict[str, Any],
        periods: list[date],
    ) -> tuple[int, int]:
        src, out = work / "score_in.parquet", work / "score_out.parquet"
        rows_in = datasets.export_scoring(cur, state.contract, periods, src)
        features = model["features"]
        result = run_in_child(
            "pipeline.tasks.score_task",
            {
                "artefact_path": model["artefact_path"],
                "sha256": model["sha256"],
                "spec": {"categorical": features["categorical"], "numeric": features["numeric"]},
                "scoring_path": str(src),
                "out_path": str(out),
                "version": model["version"],
                "explain": self.settings.explain.model_dump(mode="json"),
                "seed": self.settings.training.seed,
                "estimate": {
                    "threshold": model.get("threshold") or self.settings.dataset.decision_threshold,
                    "segments": [
                        s for s in self.settings.dataset.segments if s in features["categorical"]
                    ],
                    "bootstrap": self.settings.monitoring.estimate_bootstrap,
                    "min_rows": self.settings.monitoring.segment_min_rows,
                },
            },
            threads=self.settings.compute_threads,
        )
        state.pub.estimates += result["estimates"]
        state.pub.predictions_path, state.pub.predictions_version = out, model["version"]
        state.pub.explanations += [(model["version"], e) for e in result["explanations"]]
        return rows_in, result["rows"]

    # -- a person's promotion or rollback -----------------------------------------------------
    def _promote(self, cur: duckdb.DuckDBPyConnection, state: RunState, work: Path) -> StepResult:
        request = self.promotion
        if request is None:
            raise RunFailed("no promotion was requested")
        target = models.model(self.wh, request.version)
        if target is None:
            raise RunFailed(f"there is no model v{request.version}")
        current = models.current_aliases(self.wh)
        if current.get("champion") == request.version:
            raise RunFailed(f"v{request.version} is already the champion")
        try:
            verify_artefact(Path(target["artefact_path"]), target["sha256"])
        except ArtefactRefused as error:
            alerts.raise_alert(
                self.wh,
                "critical",
                "artefact_refused",
                f"v{request.version}",
                f"Model v{request.version} was refused on {request.action}: {error}",
                state.run_id,
            )
            raise RunFailed(f"v{request.version} cannot be made champion: {error}") from None
        old = current.get("champion")
        verb = "rolled back to" if request.action == "rollback" else "promoted"
        reason = (
            f"{verb} v{request.version} by {request.actor}"
            + (f" (was v{old})" if old is not None else "")
            + f": {request.comment}"
        )
        state.pub.alias_changes += promotion_changes(
            request.version, current, reason, request.actor, request.comment
        )
        state.contract = state.pub.contract = models.latest_contract(self.wh)
        rows_in = rows_out = 0
        served = None
        if state.contract is not None and datasets.create_work_views(cur):
            served = datasets.latest_served(cur)
        if served is not None:
            state.pub.replace_periods = [served[0]]
            rows_in, rows_out = self._score_periods(cur, state, work, target, [served[0]])
        detail = {
            "action": request.action,
            "version": request.version,
            "previous": old,
            "rescored": served[0].isoformat() if served else None,
            "reason": reason,
        }
        return StepResult(rows_in, rows_out, detail)
