"""Behaviour of the demo business: the simulated world, its mess, and its monthly files."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

import pipeline.demo.files as demo_files
from pipeline.demo import build_demo_files, demo_files_ready, release_month, simulate
from pipeline.demo.files import month_label
from pipeline.demo.mess import NULL_TOKENS, OUTLIER_CHARGE, OUTLIER_TENURE, add_mess
from pipeline.demo.world import (
    COLUMNS,
    CONTRACTS,
    DRIFT_MONTH,
    DRIFT_REGION,
    PAYMENT_METHODS,
    PLANS,
    REGIONS,
)

CATEGORICAL = ["plan", "contract_type", "region", "payment_method"]
FEATURES = [*CATEGORICAL, "tenure_months", "monthly_charges", "usage_gb", "support_tickets"]


def _month_index(world: pd.DataFrame) -> np.ndarray:
    """Return each row's 1-based snapshot index."""
    months = world["snapshot_month"]
    first = months.min()
    return ((months.dt.year - first.year) * 12 + months.dt.month - first.month + 1).to_numpy()


def _features(world: pd.DataFrame) -> pd.DataFrame:
    """Return the model inputs with the text columns as categories."""
    return world[FEATURES].astype(dict.fromkeys(CATEGORICAL, "category"))


@pytest.fixture(scope="module")
def small_world() -> pd.DataFrame:
    return simulate(seed=7, customers=2000, months=20)


@pytest.fixture(scope="module")
def mid_world() -> pd.DataFrame:
    return simulate(seed=42, customers=8000, months=24)


@pytest.fixture(scope="module")
def early_model_scores(mid_world: pd.DataFrame) -> np.ndarray:
    """Churn scores for every row of ``mid_world`` from a model trained on months 1..12."""
    train = _month_index(mid_world) <= 12
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
    model.fit(_features(mid_world)[train], mid_world["churned"][train])
    return model.predict_proba(_features(mid_world))[:, 1]


@pytest.fixture(scope="module")
def one_month() -> pd.DataFrame:
    return simulate(seed=11, customers=5000, months=1).drop(columns="churned")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out_dir = tmp_path_factory.mktemp("demo") / "out"
    build_demo_files(out_dir, seed=5, customers=300, months=3)
    return out_dir


# --- the world ---------------------------------------------------------------------------


def test_same_seed_gives_identical_world(small_world: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(simulate(seed=7, customers=2000, months=20), small_world)
    assert not simulate(seed=8, customers=2000, months=20).equals(small_world)


def test_world_has_the_documented_columns_and_values(small_world: pd.DataFrame) -> None:
    assert list(small_world.columns) == list(COLUMNS)
    assert small_world["customer_id"].str.fullmatch(r"C\d{7}").all()
    assert pd.api.types.is_datetime64_any_dtype(small_world["snapshot_month"])
    assert (small_world["snapshot_month"].dt.day == 1).all()
    assert small_world["snapshot_month"].min() == pd.Timestamp("2024-01-01")
    for column, allowed in zip(
        CATEGORICAL, (PLANS, CONTRACTS, REGIONS, PAYMENT_METHODS), strict=True
    ):
        assert set(small_world[column]) == set(allowed)
    for column in ("tenure_months", "support_tickets", "churned"):
        assert pd.api.types.is_integer_dtype(small_world[column])
    assert set(small_world["churned"]) == {0, 1}
    charges = small_world["monthly_charges"]
    assert charges.between(18, 150).all()
    assert (charges.round(2) == charges).all()
    assert (small_world["usage_gb"] > 0).all()
    assert small_world.duplicated(["customer_id", "snapshot_month"]).sum() == 0


def test_pii_is_plausible_and_tied_to_the_customer(small_world: pd.DataFrame) -> None:
    row = small_world.iloc[0]
    given, family = row["name"].split(" ")
    number = int(row["customer_id"][1:])
    assert row["email"] == f"{given.lower()}.{family.lower()}{number}@example.com"
    assert re.fullmatch(r"\+1-555-01\d-\d{4}", row["phone"])
    per_customer = small_world.groupby("customer_id")[["name", "email", "phone"]].nunique()
    assert (per_customer == 1).all().all()


def test_first_month_has_the_requested_customers_and_the_book_stays_stable(
    small_world: pd.DataFrame,
) -> None:
    sizes = small_world.groupby("snapshot_month").size()
    assert sizes.iloc[0] == 2000
    assert sizes.between(1800, 2200).all()
    assert len(simulate(seed=7, customers=4000, months=20)) == pytest.approx(
        2 * len(small_world), rel=0.05
    )


def test_rows_scale_with_customers_times_months() -> None:
    assert len(simulate(seed=1, customers=1000, months=10)) == pytest.approx(10_000, rel=0.05)


def test_monthly_churn_rate_is_three_to_five_percent(mid_world: pd.DataFrame) -> None:
    rates = mid_world.groupby("snapshot_month")["churned"].mean()
    assert rates.iloc[: DRIFT_MONTH - 1].between(0.03, 0.05).all()
    assert 0.03 <= mid_world["churned"].mean() <= 0.05


def test_churners_are_absent_later_and_stayers_return_a_month_older(
    small_world: pd.DataFrame,
) -> None:
    index = _month_index(small_world)
    for month in (1, 10, 19):
        now = small_world[index == month].set_index("customer_id")
        later_ids = set(small_world.loc[index > month, "customer_id"])
        next_month = small_world[index == month + 1].set_index("customer_id")
        churners = set(now.index[now["churned"] == 1])
        stayers = now.index[now["churned"] == 0]
        assert churners and churners.isdisjoint(later_ids)
        assert set(stayers) <= set(next_month.index)
        older = next_month.loc[stayers, "tenure_months"] - now.loc[stayers, "tenure_months"]
        assert (older == 1).all()
    first_ids = small_world.loc[index == 1, "customer_id"]
    second = small_world[index == 2]
    newcomers = second[~second["customer_id"].isin(first_ids)]
    assert len(newcomers) > 0
    assert (newcomers["tenure_months"] == 1).all()


def test_churn_is_learnable_but_noisy(
    mid_world: pd.DataFrame, early_model_scores: np.ndarray
) -> None:
    test = _month_index(mid_world) == 13
    auc = roc_auc_score(mid_world["churned"][test], early_model_scores[test])
    assert 0.7 < auc < 0.9


def test_south_prices_jump_about_twenty_percent_at_the_drift_month(
    small_world: pd.DataFrame,
) -> None:
    index = _month_index(small_world)
    south = (small_world["region"] == DRIFT_REGION).to_numpy()
    charges = small_world["monthly_charges"]
    before = index == DRIFT_MONTH - 1
    after = index == DRIFT_MONTH
    assert charges[south & after].mean() / charges[south & before].mean() == pytest.approx(
        1.2, abs=0.05
    )
    assert charges[~south & after].mean() / charges[~south & before].mean() == pytest.approx(
        1.0, abs=0.03
    )


def test_south_churns_more_after_the_drift_month(mid_world: pd.DataFrame) -> None:
    index = _month_index(mid_world)
    south = (mid_world["region"] == DRIFT_REGION).to_numpy()
    churned = mid_world["churned"].to_numpy()
    south_before = churned[south & (index < DRIFT_MONTH)].mean()
    south_after = churned[south & (index >= DRIFT_MONTH)].mean()
    others_before = churned[~south & (index < DRIFT_MONTH)].mean()
    others_after = churned[~south & (index >= DRIFT_MONTH)].mean()
    assert south_after > 1.5 * south_before
    assert south_after < 4 * south_before  # visible, but not an exodus
    assert others_after == pytest.approx(others_before, rel=0.2)


def test_model_trained_before_the_drift_ranks_south_worse_after_it(
    mid_world: pd.DataFrame, early_model_scores: np.ndarray
) -> None:
    index = _month_index(mid_world)
    south = (mid_world["region"] == DRIFT_REGION).to_numpy()
    churned = mid_world["churned"].to_numpy()

    def auc(rows: np.ndarray) -> float:
        return float(roc_auc_score(churned[rows], early_model_scores[rows]))

    before = (index > 12) & (index < DRIFT_MONTH)
    after = index >= DRIFT_MONTH
    assert auc(south & after) < auc(south & before) - 0.02
    assert auc(south & after) < auc(~south & after)


# --- the mess ----------------------------------------------------------------------------


def test_mess_keeps_the_input_and_the_customer_ids(one_month: pd.DataFrame) -> None:
    before = one_month.copy()
    messy = add_mess(one_month, np.random.default_rng(0))
    pd.testing.assert_frame_equal(one_month, before)
    assert list(messy.columns) == list(one_month.columns)
    assert set(messy["customer_id"]) == set(one_month["customer_id"])
    assert list(messy.index) == list(range(len(messy)))
    assert not messy["customer_id"].is_monotonic_increasing  # shuffled


def test_mess_is_reproducible_from_the_generator(one_month: pd.DataFrame) -> None:
    first = add_mess(one_month, np.random.default_rng(3))
    pd.testing.assert_frame_equal(first, add_mess(one_month, np.random.default_rng(3)))


def test_mess_adds_exact_and_near_duplicates(one_month: pd.DataFrame) -> None:
    messy = add_mess(one_month, np.random.default_rng(0))
    exact = messy.duplicated().sum()
    distinct = messy.drop_duplicates()
    near = distinct[distinct.duplicated(["customer_id", "snapshot_month"], keep=False)]
    near_pairs = near.duplicated(["customer_id", "snapshot_month"]).sum()
    assert 0.002 * len(one_month) <= exact <= 0.01 * len(one_month)
    assert 0.001 * len(one_month) <= near_pairs <= 0.006 * len(one_month)
    # Near duplicates differ only in how the region is written.
    assert (near.groupby("customer_id")["region"].nunique() == 2).all()
    assert near.drop(columns="region").duplicated(keep=False).all()


def test_mess_blanks_about_two_percent_of_some_fields(one_month: pd.DataFrame) -> None:
    messy = add_mess(one_month, np.random.default_rng(0))
    for column in ("usage_gb", "payment_method", "monthly_charges"):
        assert 0.01 <= messy[column].isna().mean() <= 0.03
    assert messy[["customer_id", "snapshot_month", "plan", "region"]].notna().all().all()


def test_mess_writes_regions_and_plans_inconsistently(one_month: pd.DataFrame) -> None:
    messy = add_mess(one_month, np.random.default_rng(0))
    for column, canonical in (("region", REGIONS), ("plan", PLANS)):
        values = messy[column]
        null_tokens = values.isin(NULL_TOKENS)
        variants = ~values.isin(canonical) & ~null_tokens
        assert 0.003 <= null_tokens.mean() <= 0.03
        assert 0.01 <= variants.mean() <= 0.06
        assert values[variants].str.strip().str.title().isin(canonical).all()
    assert {"N/A", "-", ""} <= set(messy["region"]) | set(messy["plan"])


def test_mess_adds_a_handful_of_absurd_outliers(one_month: pd.DataFrame) -> None:
    messy = add_mess(one_month, np.random.default_rng(0)).drop_duplicates()
    charges = (messy["monthly_charges"] == OUTLIER_CHARGE).sum()
    usage = (messy["usage_gb"] < 0).sum()
    tenure = (messy["tenure_months"] == OUTLIER_TENURE).sum()
    assert charges >= 1 and usage >= 1 and tenure >= 1
    assert 5 <= charges + usage + tenure <= 12  # a near duplicate may repeat one


# --- the files ---------------------------------------------------------------------------


def test_month_label_counts_calendar_months_from_the_start() -> None:
    assert month_label(date(2024, 1, 1), 1) == "2024-01"
    assert month_label(date(2024, 1, 1), 12) == "2024-12"
    assert month_label(date(2024, 1, 1), 13) == "2025-01"
    assert month_label(date(2024, 11, 1), 3) == "2025-01"
    with pytest.raises(ValueError, match="counts from 1"):
        month_label(date(2024, 1, 1), 0)


def test_build_writes_messy_customers_and_clean_labels_per_month(built: Path) -> None:
    names = sorted(p.name for p in built.iterdir())
    assert names == [
        "customers_2024-01.csv",
        "customers_2024-02.csv",
        "customers_2024-03.csv",
        "labels_2024-01.csv",
        "labels_2024-02.csv",
        "labels_2024-03.csv",
        "manifest.json",
    ]
    world = simulate(seed=5, customers=300, months=3)
    labels = pd.read_csv(built / "labels_2024-02.csv", dtype={"customer_id": "str"})
    assert list(labels.columns) == ["customer_id", "snapshot_month", "churned"]
    expected = world[world["snapshot_month"] == "2024-02-01"]
    assert list(labels["customer_id"]) == list(expected["customer_id"])
    assert list(labels["churned"]) == list(expected["churned"])
    assert (labels["snapshot_month"] == "2024-02-01").all()

    customers = pd.read_csv(built / "customers_2024-02.csv", keep_default_na=False)
    assert "churned" not in customers.columns
    assert list(customers.columns) == [c for c in COLUMNS if c != "churned"]
    assert (customers["snapshot_month"] == "2024-02-01").all()
    assert set(customers["customer_id"]) == set(expected["customer_id"])
    assert len(customers) > len(expected)  # duplicates were added


def test_build_returns_data_files_in_month_order_with_manifest_last(tmp_path: Path) -> None:
    written = build_demo_files(tmp_path, seed=5, customers=50, months=2)
    assert [p.name for p in written] == [
        "customers_2024-01.csv",
        "labels_2024-01.csv",
        "customers_2024-02.csv",
        "labels_2024-02.csv",
        "manifest.json",
    ]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["seed"] == 5 and manifest["customers"] == 50 and manifest["months"] == 2
    assert manifest["month_labels"] == ["2024-01", "2024-02"]


def test_rebuild_with_the_same_arguments_writes_identical_files(
    built: Path, tmp_path: Path
) -> None:
    build_demo_files(tmp_path, seed=5, customers=300, months=3)
    for name in ("customers_2024-03.csv", "labels_2024-03.csv", "manifest.json"):
        assert (tmp_path / name).read_bytes() == (built / name).read_bytes()


def test_ready_only_for_a_complete_build_with_the_same_arguments(built: Path) -> None:
    assert demo_files_ready(built, seed=5, customers=300, months=3)
    assert not demo_files_ready(built, seed=6, customers=300, months=3)
    assert not demo_files_ready(built, seed=5, customers=301, months=3)
    assert not demo_files_ready(built, seed=5, customers=300, months=4)
    assert not demo_files_ready(built.parent / "never-built", seed=5, customers=300, months=3)


def test_missing_month_file_or_manifest_means_not_ready(tmp_path: Path) -> None:
    build_demo_files(tmp_path, seed=5, customers=50, months=2)
    (tmp_path / "labels_2024-02.csv").unlink()
    assert not demo_files_ready(tmp_path, seed=5, customers=50, months=2)
    build_demo_files(tmp_path, seed=5, customers=50, months=2)
    (tmp_path / "manifest.json").write_text("{not json")
    assert not demo_files_ready(tmp_path, seed=5, customers=50, months=2)


def test_interrupted_rebuild_is_not_reported_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_demo_files(tmp_path, seed=5, customers=50, months=2)

    def crash(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        raise OSError("disk full")

    monkeypatch.setattr(demo_files, "add_mess", crash)
    with pytest.raises(OSError, match="disk full"):
        build_demo_files(tmp_path, seed=5, customers=50, months=2)
    assert not demo_files_ready(tmp_path, seed=5, customers=50, months=2)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_release_delivers_customers_now_and_labels_a_month_late(
    built: Path, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    assert [p.name for p in release_month(built, landing, 1)] == ["customers_2024-01.csv"]
    assert [p.name for p in release_month(built, landing, 2)] == [
        "customers_2024-02.csv",
        "labels_2024-01.csv",
    ]
    release_month(built, landing, 3)
    assert sorted(p.name for p in landing.iterdir()) == [
        "customers_2024-01.csv",
        "customers_2024-02.csv",
        "customers_2024-03.csv",
        "labels_2024-01.csv",
        "labels_2024-02.csv",
    ]
    for path in landing.iterdir():
        assert path.read_bytes() == (built / path.name).read_bytes()


def test_releasing_a_month_twice_changes_nothing(built: Path, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    first = release_month(built, landing, 2)
    stamps = {p.name: p.stat().st_mtime_ns for p in landing.iterdir()}
    assert release_month(built, landing, 2) == []
    assert {p.name: p.stat().st_mtime_ns for p in landing.iterdir()} == stamps
    assert len(first) == 2


def test_release_rejects_unknown_months_and_unbuilt_directories(
    built: Path, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="between 1 and 3"):
        release_month(built, tmp_path / "landing", 4)
    with pytest.raises(ValueError, match="between 1 and 3"):
        release_month(built, tmp_path / "landing", 0)
    with pytest.raises(FileNotFoundError, match="build_demo_files"):
        release_month(tmp_path / "nothing", tmp_path / "landing", 1)
