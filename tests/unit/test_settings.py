"""Settings: sources, overrides and friendly errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("PLUMBLINE_"):
            monkeypatch.delenv(key)


def test_defaults_describe_the_demo(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path)
    assert s.dataset.is_demo
    assert s.dataset.entity_id == "customer_id"
    assert s.warehouse_path == tmp_path / "warehouse.duckdb"


def test_toml_in_data_dir_is_read_and_environment_wins(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "plumbline.toml").write_text(
        '[dataset]\nsource = "/srv/x.csv"\ntarget = "left"\ndecision_threshold = 0.4\n'
    )
    monkeypatch.setenv("PLUMBLINE_DATASET__DECISION_THRESHOLD", "0.3")
    s = load_settings(data_dir=tmp_path)
    assert s.dataset.source == "/srv/x.csv"
    assert s.dataset.target == "left"
    assert s.dataset.decision_threshold == pytest.approx(0.3)


def test_each_invalid_setting_gets_its_own_friendly_line(tmp_path: Path) -> None:
    (tmp_path / "plumbline.toml").write_text(
        '[dataset]\ndecision_threshold = 1.5\nentity_id = "id; DROP TABLE x"\n'
        "[demo]\ncustomers = 3\n"
        'colour = "blue"\n'
    )
    with pytest.raises(SettingsError) as caught:
        load_settings(data_dir=tmp_path)
    problems = caught.value.problems
    assert len(problems) == 4
    text = "\n".join(problems)
    assert "dataset.decision_threshold" in text and "for example" in text
    assert "dataset.entity_id" in text and "not a usable column name" in text
    assert "demo.customers" in text
    assert "colour" in text and "not a known setting" in text


def test_a_missing_config_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(data_dir=tmp_path, config=tmp_path / "nope.toml")


def test_malformed_toml_is_reported_with_its_path(tmp_path: Path) -> None:
    (tmp_path / "plumbline.toml").write_text("[dataset\nsource = \n")
    with pytest.raises(SettingsError, match="plumbline.toml"):
        load_settings(data_dir=tmp_path)


def test_target_and_entity_must_differ(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="three different columns"):
        load_settings(data_dir=tmp_path, dataset={"target": "customer_id"})


def test_the_readme_monitoring_example_is_valid_settings(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("```toml\n[monitoring]", 1)[1].split("```", 1)[0]
    (tmp_path / "plumbline.toml").write_text("[monitoring]" + block, encoding="utf-8")
    settings = load_settings(data_dir=tmp_path)
    assert settings.monitoring.numeric_method == "psi"
    [rule] = settings.monitoring.rules
    assert (rule.kind, rule.threshold, rule.top_features) == ("feature_drift", 0.2, 5)
    assert settings.retrain.cooldown_periods == 2


def test_a_rule_without_a_threshold_is_refused_with_its_name(tmp_path: Path) -> None:
    (tmp_path / "plumbline.toml").write_text(
        '[[monitoring.rules]]\nname = "Too many gaps"\nkind = "missing_rate"\n', encoding="utf-8"
    )
    with pytest.raises(SettingsError, match="Too many gaps"):
        load_settings(data_dir=tmp_path)


def test_the_readme_reverse_proxy_example_is_valid_settings(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("```toml\n# plumbline.toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "plumbline.toml").write_text(block, encoding="utf-8")
    settings = load_settings(data_dir=tmp_path)
    assert settings.web.secure_cookies is True
    assert settings.web.trusted_proxy == "127.0.0.1"


def test_secrets_come_from_the_environment_and_never_print(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PLUMBLINE_SECRET_KEY", "a-very-long-secret-key-value")
    monkeypatch.setenv("PLUMBLINE_ADMIN_PASSWORD", "first admin password")
    settings = load_settings(data_dir=tmp_path)
    assert settings.secret_key.get_secret_value() == "a-very-long-secret-key-value"
    assert "a-very-long-secret-key-value" not in repr(settings)
    assert "first admin password" not in str(settings.model_dump())
