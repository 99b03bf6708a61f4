"""contract.toml: the data contract as a file people can edit."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.contract import Contract
from pipeline.contract_file import ContractFileError, edited, from_toml, to_toml, write


@pytest.fixture
def contract() -> Contract:
    return Contract(
        "customer_id",
        "snapshot_month",
        "churned",
        numeric=["monthly_charges", "tenure months"],
        categorical=["region"],
        ranges={"monthly_charges": [0.0, 480.5]},
        categories={"region": ["East", "Zürich"]},
        dropped=["email"],
        medians={"monthly_charges": 64.2},
        modes={"region": "East"},
    )


def test_a_contract_survives_the_round_trip_through_toml(contract: Contract) -> None:
    text = to_toml(contract, 3, "2026-11-27 04:00 UTC")
    assert text.startswith("# Plumbline data contract, version 3")
    assert from_toml(text).to_json() == contract.to_json()


def test_an_unchanged_file_is_not_an_edit(tmp_path: Path, contract: Contract) -> None:
    path = tmp_path / "contract.toml"
    assert edited(path, contract) is None  # no file yet
    write(path, contract, 1, "now")
    assert edited(path, contract) is None
    path.write_text(path.read_text().replace('"Zürich"]', '"Zürich", "West"]'))
    changed = edited(path, contract)
    assert changed is not None and changed.categories["region"] == ["East", "Zürich", "West"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("range = [0.0, 480.5]", "range = [500, 10]"), "low < high"),
        (("range = [0.0, 480.5]", 'range = "wide"'), "numeric.monthly_charges.range"),
        (("[categorical.region]", "[categorical.monthly_charges]"), "both numeric and categorical"),
        (('entity_id = "customer_id"', 'entity_id = "x; DROP TABLE t"'), "entity_id must be"),
        (('categories = ["East", "Zürich"]', "categories = [1, 2]"), "list of strings"),
        (("[numeric.monthly_charges]", "[numeric.monthly_charges"), "not valid TOML"),
    ],
)
def test_an_invalid_edit_is_refused_with_the_problem_named(
    contract: Contract, change: tuple[str, str], problem: str
) -> None:
    text = to_toml(contract, 1, "now").replace(*change)
    with pytest.raises(ContractFileError, match=problem):
        from_toml(text)
