"""SHAP values per original column: exact on the raw score, equal to shap's own, in points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shap
from scipy.special import expit
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder
from sklearn.tree import DecisionTreeClassifier

from pipeline.explain import shap_values
from pipeline.explain.shap_values import Explainer, Explanation, encoded_sources, probability_points
from pipeline.modeling.calibration import calibrate, fitted_estimator
from pipeline.modeling.candidates import HGB, LOGREG, build_candidate, default_params
from pipeline.train import LABEL, PERIOD, TrainSpec, prepare_features
from tests.unit._modeling_frames import MONTHS, SPEC, churn_frame, one_thread  # noqa: F401

CASES = [(a, m) for a in (HGB, LOGREG) for m in ("none", "sigmoid", "isotonic")]


def _params(algorithm: str) -> dict:
    # Fewer boosting rounds keep the fits fast; explanations do not depend on the model's size.
    extra = {"max_iter": 60} if algorithm == HGB else {}
    return {**default_params(algorithm, "none"), **extra}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return churn_frame(MONTHS[:5], rows=500, seed=1)


@pytest.fixture(scope="module")
def models(frame) -> dict[tuple[str, str], Pipeline]:
    """Every candidate, uncalibrated and calibrated both ways (fit on 4 months, calibrated on 1)."""
    fit, calib = frame[frame[PERIOD] < MONTHS[4]], frame[frame[PERIOD] == MONTHS[4]]
    out = {}
    for algorithm in (HGB, LOGREG):
        pipe = build_candidate(algorithm, SPEC, _params(algorithm), seed=0)
        pipe.fit(prepare_features(fit, SPEC), fit[LABEL].to_numpy())
        for method in ("none", "sigmoid", "isotonic"):
            x, y = prepare_features(calib, SPEC), calib[LABEL].to_numpy()
            out[algorithm, method] = calibrate(pipe, x, y, method)
    return out


@pytest.fixture(scope="module")
def rows(frame) -> pd.DataFrame:
    """Rows to explain, with missing values in every column and a category never seen in fit."""
    x = prepare_features(frame.iloc[::7], SPEC).copy()
    x.iloc[0] = np.nan
    x.loc[x.index[1], "plan"] = "enterprise"
    x.loc[x.index[2], "region"] = "atlantis"
    return x


@pytest.mark.parametrize(("algorithm", "method"), CASES)
def test_shap_values_add_up_to_the_raw_score_for_every_candidate(
    models, frame, rows, algorithm, method
):
    pipe = models[algorithm, method]
    expl = Explainer(pipe, SPEC, prepare_features(frame.iloc[:300], SPEC)).explain(rows)
    encoded = pipe.named_steps["encode"].transform(rows)
    raw = fitted_estimator(pipe).decision_function(encoded)
    assert expl.features == SPEC.features
    assert expl.values.shape == (len(rows), len(SPEC.features))
    np.testing.assert_allclose(expl.raw, raw, rtol=0, atol=1e-12)
    np.testing.assert_allclose(expl.base_value + expl.values.sum(axis=1), raw, rtol=0, atol=1e-6)
    np.testing.assert_allclose(expl.proba, pipe.predict_proba(rows)[:, 1], rtol=0, atol=1e-12)
    assert np.isfinite(expl.values).all()
    assert isinstance(expl.base_value, float) and isinstance(expl.base_proba, float)


@pytest.mark.parametrize("algorithm", [HGB, LOGREG])
def test_values_match_shap_called_directly(models, frame, rows, algorithm):
    pipe = models[algorithm, "sigmoid"]
    encode, estimator = pipe.named_steps["encode"], fitted_estimator(pipe)
    background = prepare_features(frame.iloc[:300], SPEC)
    encoded = encode.transform(rows)
    if algorithm == HGB:
        direct = shap.TreeExplainer(estimator)
    else:
        masked = shap.maskers.Independent(encode.transform(background), max_samples=300)
        direct = shap.LinearExplainer(estimator, masked)
    contributions = direct.shap_values(encoded)
    names = encode.get_feature_names_out()
    # The test's own mapping, by generated names: "plan_basic", "missingindicator_tenure", ...
    summed = np.column_stack(
        [
            contributions[
                :, [n == f or n.startswith(f"{f}_") or n.endswith(f"_{f}") for n in names]
            ].sum(axis=1)
            for f in SPEC.features
        ]
    )
    expl = Explainer(pipe, SPEC, background).explain(rows)
    np.testing.assert_allclose(expl.values, summed, rtol=0, atol=1e-9)
    assert expl.base_value == pytest.approx(float(np.ravel(direct.expected_value)[-1]), abs=1e-12)


def test_one_hot_columns_are_summed_into_their_source_feature():
    """Infrequent categories share a column, indicators join their column, and a column whose
    name extends another's ("plan" and "plan_tier") keeps its own one-hot columns."""
    spec = TrainSpec(categorical=["plan", "plan_tier"], numeric=["usage", "tenure"])
    frame = churn_frame(MONTHS[:2], rows=1_500, seed=2)
    frame["plan_tier"] = np.where(frame["usage"] > 0, "high", "low").astype(object)
    frame.loc[frame.index[:3], "plan"] = ["legacy", "trial", "staff"]  # each under 0.1%
    x, y = prepare_features(frame, spec), frame[LABEL].to_numpy()
    pipe = build_candidate(LOGREG, spec, _params(LOGREG), seed=0).fit(x, y)
    encode = pipe.named_steps["encode"]
    names = list(encode.get_feature_names_out())
    assert "plan_infrequent_sklearn" in names and "missingindicator_tenure" in names

    sources = [spec.features[k] for k in encoded_sources(encode, spec.features)]
    assert sources == [
        *["plan"] * 4,  # basic, plus, premium, infrequent
        *["plan_tier"] * 2,
        "usage",
        "tenure",
        "tenure",  # the missing indicator
    ]
    expl = Explainer(pipe, spec, x.iloc[:500]).explain(x.iloc[:50])
    masked = shap.maskers.Independent(encode.transform(x.iloc[:500]), max_samples=500)
    direct = shap.LinearExplainer(fitted_estimator(pipe), masked).shap_values(
        encode.transform(x.iloc[:50])
    )
    np.testing.assert_allclose(expl.values[:, 0], direct[:, :4].sum(axis=1), atol=1e-12)
    np.testing.assert_allclose(expl.values[:, 3], direct[:, 7:9].sum(axis=1), atol=1e-12)


@pytest.mark.parametrize(("algorithm", "method"), CASES)
def test_base_proba_is_the_calibrated_probability_of_the_base_value(
    models, frame, algorithm, method
):
    pipe = models[algorithm, method]
    explainer = Explainer(pipe, SPEC, prepare_features(frame.iloc[:300], SPEC))
    base = explainer.base_value
    if method == "none":
        expected = expit(base)
    else:
        calibrators = [c.calibrators[0] for c in pipe.named_steps["model"].calibrated_classifiers_]
        if method == "sigmoid":
            expected = np.mean([expit(-(c.a_ * base + c.b_)) for c in calibrators])
        else:
            expected = np.mean(
                [np.interp(base, c.X_thresholds_, c.y_thresholds_) for c in calibrators]
            )
    assert explainer.base_proba == pytest.approx(float(expected), abs=1e-12)


@pytest.mark.parametrize(("algorithm", "method"), CASES)
def test_probability_points_sum_to_the_change_from_the_base_rate(
    models, frame, rows, algorithm, method
):
    pipe = models[algorithm, method]
    expl = Explainer(pipe, SPEC, prepare_features(frame.iloc[:300], SPEC)).explain(rows)
    points = probability_points(expl)
    assert points.shape == expl.values.shape
    np.testing.assert_allclose(
        points.sum(axis=1), 100 * (expl.proba - expl.base_proba), rtol=0, atol=1e-9
    )
    # Shared in proportion to the raw contributions: same signs (increasing calibrators), and
    # the ratio points / raw contribution is one number per row.
    moved = np.abs(expl.proba - expl.base_proba) > 1e-9
    big = (np.abs(expl.values) > 1e-6) & moved[:, None]
    assert (np.sign(points[big]) == np.sign(expl.values[big])).all()
    ratio = np.where(big, points / np.where(big, expl.values, 1.0), np.nan)[big.any(axis=1)]
    spread = np.nanmax(ratio, axis=1) - np.nanmin(ratio, axis=1)
    assert len(spread) > len(rows) // 2 and spread.max() < 1e-6


def test_rows_at_the_base_value_keep_their_contributions():
    """Columns that cancel out exactly still show their sizes, at the slope at the base value."""
    expl = Explanation(
        features=["a", "b", "c"],
        base_value=-1.0,
        values=np.array([[0.8, -0.8, 0.0], [0.0, 0.0, 0.0]]),
        raw=np.array([-1.0, -1.0]),
        proba=np.full(2, expit(-1.0)),
        base_proba=float(expit(-1.0)),
        base_slope=0.2,
    )
    points = probability_points(expl)
    np.testing.assert_allclose(points, [[16.0, -16.0, 0.0], [0.0, 0.0, 0.0]], atol=1e-12)


def test_explaining_rows_builds_no_new_shap_explainers(models, frame, rows, monkeypatch):
    """The shap objects are built once, so explaining one entity on demand stays cheap."""
    explainers = {
        (a, m): Explainer(models[a, m], SPEC, prepare_features(frame.iloc[:300], SPEC))
        for a, m in CASES
    }

    def refuse(*args, **kwargs):
        raise AssertionError("a shap explainer was built per call")

    monkeypatch.setattr(shap_values.shap, "TreeExplainer", refuse)
    monkeypatch.setattr(shap_values.shap, "LinearExplainer", refuse)
    for explainer in explainers.values():
        one = explainer.explain(rows.iloc[[5]])
        assert one.values.shape == (1, len(SPEC.features))


def test_models_it_cannot_explain_exactly_are_refused_in_words(frame):
    x, y = prepare_features(frame, SPEC), frame[LABEL].to_numpy()
    encode = ColumnTransformer(
        [
            ("categorical", OrdinalEncoder(encoded_missing_value=-1), SPEC.categorical),
            ("numeric", "passthrough", SPEC.numeric),
        ]
    )
    tree = Pipeline([("encode", encode), ("model", DecisionTreeClassifier(max_depth=2))])
    tree.fit(x.fillna({"tenure": 0}), y)
    with pytest.raises(ValueError, match="cannot explain a DecisionTreeClassifier"):
        Explainer(tree, SPEC, x.iloc[:10])
