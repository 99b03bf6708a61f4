"""Plumbline's one settings class.

Sources, highest priority first: keyword arguments (the command line), environment variables
``PLUMBLINE_*`` (nested keys joined by ``__``, e.g. ``PLUMBLINE_DATASET__TARGET``), then
``plumbline.toml`` in the data dir or the file given by ``--config``, then the defaults, which
describe the built-in demo business.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from pipeline.monitor_settings import MonitoringSettings, RetrainSettings
from pipeline.web_settings import WebSettings

CONFIG_FILE_NAME = "plumbline.toml"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_ ]{0,62}$")

EXAMPLES: dict[str, str] = {
    "dataset.source": "'demo' or '/srv/exports/customers_*.csv'",
    "dataset.entity_id": "'customer_id'",
    "dataset.event_time": "'snapshot_month'",
    "dataset.target": "'churned'",
    "dataset.value": "'monthly_charges'",
    "dataset.segments": "['region', 'plan']",
    "dataset.pii": "['name', 'email']",
    "dataset.decision_threshold": "0.25",
    "ingest.csv_encoding": "'auto', 'utf-8' or 'latin-1'",
    "ingest.csv_delimiter": "'auto' or ';'",
    "ingest.max_upload_mb": "50",
    "cleaning.on_violation": "{ region = 'reject_row', monthly_charges = 'warn' }",
    "cleaning.missing": "{ usage_gb = 'impute', payment_method = 'keep' }",
    "cleaning.pii_mode": "'drop' or 'hash'",
    "training.candidates": "['hist_gradient_boosting', 'logistic_regression']",
    "training.search_trials": "4",
    "training.calibration": "'auto', 'sigmoid', 'isotonic' or 'none'",
    "training.value_per_churner": "300",
    "training.contact_cost": "20",
    "promotion.min_auc_gain": "0.002",
    "promotion.segment_tolerance": "0.02",
    "explain.sample_rows": "5000",
    "fairness.columns": "['region', 'plan']",
    "fairness.max_demographic_parity_difference": "0.1",
    "fairness.block_promotion": "true",
    "monitoring.reference": "'training' or 'rolling'",
    "monitoring.webhook_url": "'https://hooks.example.com/plumbline'",
    "retrain.on": "['schedule', 'drift', 'performance'] or []",
    "retrain.cooldown_periods": "2",
    "demo.seed": "42",
    "demo.customers": "42000",
    "demo.months": "24",
    "demo.initial_months": "8",
    "demo.tick_seconds": "120",
    "schedule_seconds": "3600",
    "compute_threads": "1",
    "port": "8050",
    "host": "'127.0.0.1'",
}


def _check_identifier(name: str) -> str:
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(
            f"{name!r} is not a usable column name (letters, digits, underscores and spaces, "
            "not starting with a digit, at most 63 characters)"
        )
    return name


class DatasetSettings(BaseModel):
    """What the business data looks like, so Plumbline works on a user's own table."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field("demo", description="'demo', or a CSV/Parquet path or glob")
    entity_id: str = "customer_id"
    event_time: str = "snapshot_month"
    target: str = "churned"
    value: str | None = "monthly_charges"
    segments: list[str] = ["region", "plan", "contract_type"]
    pii: list[str] = ["name", "email", "phone"]
    decision_threshold: float = Field(0.25, gt=0.0, lt=1.0)

    @field_validator("entity_id", "event_time", "target")
    @classmethod
    def _column(cls, value: str) -> str:
        return _check_identifier(value)

    @field_validator("value")
    @classmethod
    def _optional_column(cls, value: str | None) -> str | None:
        return None if value in (None, "") else _check_identifier(value)

    @field_validator("segments", "pii")
    @classmethod
    def _columns(cls, value: list[str]) -> list[str]:
        return [_check_identifier(v) for v in value]

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @model_validator(mode="after")
    def _distinct_keys(self) -> DatasetSettings:
        keys = [self.entity_id, self.event_time, self.target]
        if len(set(keys)) != 3:
            raise ValueError("entity_id, event_time and target must be three different columns")
        clash = set(self.segments) & set(self.pii)
        if clash:
            raise ValueError(f"{sorted(clash)} cannot be both a segment and PII")
        return self

    @property
    def is_demo(self) -> bool:
        """True when the data comes from the built-in demo business."""
        return self.source == "demo"


class IngestSettings(BaseModel):
    """How files are read."""

    model_config = ConfigDict(extra="forbid")

    csv_encoding: Literal["auto", "utf-8", "latin-1", "utf-16"] = "auto"
    csv_delimiter: str = Field("auto", description="'auto' or one character such as ';'")
    max_upload_mb: float = Field(50.0, gt=0, le=2048)

    @field_validator("csv_delimiter")
    @classmethod
    def _delimiter(cls, value: str) -> str:
        if value != "auto" and len(value) != 1:
            raise ValueError("must be 'auto' or a single character such as ';' or '|'")
        return value


Action = Literal["reject_row", "reject_batch", "warn"]
Missing = Literal["keep", "impute", "reject"]


class RowFilter(BaseModel):
    """Keep only rows where ``column op value``; others go to quarantine with the reason."""

    model_config = ConfigDict(extra="forbid")

    column: str
    op: Literal["=", "!=", "<", "<=", ">", ">=", "in", "not in", "is null", "is not null"]
    value: float | str | list[float | str] | None = None

    @field_validator("column")
    @classmethod
    def _column(cls, value: str) -> str:
        return _check_identifier(value)

    @model_validator(mode="after")
    def _value_fits_op(self) -> RowFilter:
        if self.op in ("in", "not in") and not isinstance(self.value, list):
            raise ValueError(f"op '{self.op}' needs a list value, e.g. ['Basic', 'Standard']")
        if self.op in ("is null", "is not null") and self.value is not None:
            raise ValueError(f"op '{self.op}' takes no value")
        if self.op not in ("in", "not in", "is null", "is not null") and (
            self.value is None or isinstance(self.value, list)
        ):
            raise ValueError(f"op '{self.op}' needs one value")
        return self

    def describe(self) -> str:
        """The filter as people write it, e.g. ``tenure_months >= 0``."""
        return f"{self.column} {self.op}" + ("" if self.value is None else f" {self.value!r}")


class AggregateSettings(BaseModel):
    """Turn event rows into one row per entity per month (off by default: the demo is monthly).

    Numeric columns use the named function (default ``sum``); categorical columns keep the
    value of the month's latest event. Labels are kept per entity and month (1 if any event of
    the month was labelled 1).
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    functions: dict[str, Literal["sum", "mean", "min", "max", "last", "count"]] = {}

    @field_validator("functions")
    @classmethod
    def _columns(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            _check_identifier(name)
        return value


class CleaningSettings(BaseModel):
    """What cleaning does beyond the always-on steps (trim, null tokens, types, duplicates).

    ``on_violation`` sets, per column, what a contract violation does: quarantine the row,
    reject the batch, or only warn. Without it: an unparsable value rejects its row, while an
    unseen category or a value out of the contract's range only warns (an out-of-range value
    is then treated as missing).
    """

    model_config = ConfigDict(extra="forbid")

    on_violation: dict[str, Action] = {}
    missing: dict[str, Missing] = {}
    filters: list[RowFilter] = []
    pii_mode: Literal["drop", "hash"] = "drop"
    aggregate: AggregateSettings = AggregateSettings()

    @field_validator("on_violation", "missing")
    @classmethod
    def _columns(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            _check_identifier(name)
        return value


class DemoSettings(BaseModel):
    """The built-in demo business and its clock."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 42
    customers: int = Field(42_000, ge=500, le=2_000_000)
    months: int = Field(24, ge=6, le=60)
    initial_months: int = Field(8, ge=4, le=60)
    tick_seconds: float = Field(120.0, ge=1.0)


Algorithm = Literal["hist_gradient_boosting", "logistic_regression"]


class TrainingSettings(BaseModel):
    """How models are trained: candidates, the search budget, calibration and the cost model.

    The search budget is counted in trials, not seconds, so that a run reproduces.
    ``value_per_churner`` is what catching one churner with a contact is worth and
    ``contact_cost`` what contacting one customer costs; together they choose the business
    decision threshold (the one that maximises expected profit on a validation period).
    """

    model_config = ConfigDict(extra="forbid")

    candidates: list[Algorithm] = ["hist_gradient_boosting", "logistic_regression"]
    search_trials: int = Field(4, ge=1, le=200, description="trials per candidate")
    search_folds: int = Field(2, ge=1, le=6, description="time-ordered validation folds")
    search_sample_rows: int = Field(100_000, ge=1_000, description="rows per search fit")
    class_weight: Literal["search", "balanced", "none"] = "search"
    calibration: Literal["auto", "sigmoid", "isotonic", "none"] = "auto"
    seed: int = 42
    value_per_churner: float = Field(300.0, gt=0)
    contact_cost: float = Field(20.0, gt=0)

    @field_validator("candidates")
    @classmethod
    def _some_candidate(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("name at least one candidate")
        return list(dict.fromkeys(value))


class PromotionSettings(BaseModel):
    """The promotion gate: when a new model replaces the champion by itself.

    A challenger is promoted only if its ROC AUC beats the champion's on the same most recent
    labelled window by ``min_auc_gain``, no segment's ROC AUC drops by more than
    ``segment_tolerance``, and its sanity checks pass: no NaN, and the share of customers it
    flags at its threshold lies within [``min_flag_rate``, ``max_flag_rate``].
    """

    model_config = ConfigDict(extra="forbid")

    auto: bool = True
    min_auc_gain: float = Field(0.002, ge=0.0, le=0.5)
    segment_tolerance: float = Field(0.02, ge=0.0, le=1.0)
    segment_min_rows: int = Field(500, ge=1)
    min_flag_rate: float = Field(0.001, ge=0.0, le=1.0)
    max_flag_rate: float = Field(0.5, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> PromotionSettings:
        if self.min_flag_rate > self.max_flag_rate:
            raise ValueError("min_flag_rate must not exceed max_flag_rate")
        return self


class ExplainSettings(BaseModel):
    """SHAP explanations: how many rows the global explanation of each model version uses."""

    model_config = ConfigDict(extra="forbid")

    sample_rows: int = Field(5_000, ge=5_000, le=200_000, description="stratified sample size")
    dependence_points: int = Field(1_000, ge=100, le=20_000, description="points per feature")
    drivers: int = Field(4, ge=3, le=5, description="drivers named on the Overview")


class FairnessSettings(BaseModel):
    """Fairness by group: which columns, the largest differences tolerated, and what a breach does.

    ``columns`` defaults to the dataset's segments. A difference above its maximum raises a
    warning; with ``block_promotion`` it also keeps a new model from automatic promotion.
    """

    model_config = ConfigDict(extra="forbid")

    columns: list[str] | None = None
    max_demographic_parity_difference: float = Field(0.10, ge=0.0, le=1.0)
    max_equalised_odds_difference: float = Field(0.10, ge=0.0, le=1.0)
    min_group_rows: int = Field(200, ge=1)
    block_promotion: bool = False

    @field_validator("columns")
    @classmethod
    def _columns(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [_check_identifier(v) for v in value]


class Settings(BaseSettings):
    """Every setting Plumbline reads. Build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="PLUMBLINE_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    data_dir: Path = Path("data")
    host: str = "127.0.0.1"
    port: int = Field(8050, ge=1, le=65535)
    dataset: DatasetSettings = DatasetSettings()
    demo: DemoSettings = DemoSettings()
    ingest: IngestSettings = IngestSettings()
    cleaning: CleaningSettings = CleaningSettings()
    training: TrainingSettings = TrainingSettings()
    promotion: PromotionSettings = PromotionSettings()
    explain: ExplainSettings = ExplainSettings()
    fairness: FairnessSettings = FairnessSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    retrain: RetrainSettings = RetrainSettings()
    web: WebSettings = WebSettings()
    secret_key: SecretStr | None = Field(
        None, description="signs session cookies; required outside the demo"
    )
    admin_password: SecretStr | None = Field(
        None, description="the first admin's password on first start (automation)"
    )
    schedule_seconds: float = Field(3600.0, ge=5.0, description="pipeline interval outside demo")
    compute_threads: int = Field(1, ge=1, le=64)
    holdout_periods: int = Field(1, ge=1, le=12)
    train_window_periods: int = Field(12, ge=2, le=120)
    log_level: str = "INFO"
    fault_point: str | None = Field(None, description="crash tests only: see pipeline/faults.py")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = _CONFIG_FILE.get("path")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB file."""
        return self.data_dir / "warehouse.duckdb"

    @property
    def artefact_dir(self) -> Path:
        """Where model artefacts (skops files) live."""
        return self.data_dir / "models"

    @property
    def raw_dir(self) -> Path:
        """Byte-identical copies of every ingested file."""
        return self.data_dir / "raw"

    @property
    def landing_dir(self) -> Path:
        """Files dropped here are ingested by the next run."""
        return self.data_dir / "landing"

    @property
    def secrets_dir(self) -> Path:
        """Secrets kept out of the warehouse (the PII salt), readable by the owner only."""
        return self.data_dir / "secrets"

    @property
    def work_dir(self) -> Path:
        """Scratch space for hand-offs to compute processes."""
        return self.data_dir / "work"


# The TOML path is chosen at run time (data dir or --config), but pydantic-settings asks for
# sources on the class; this one-slot holder passes it without touching the environment.
_CONFIG_FILE: dict[str, Path | None] = {"path": None}


class SettingsError(Exception):
    """Settings are invalid; ``problems`` holds one friendly line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def _friendly(error: ValidationError, source_hint: str) -> list[str]:
    lines = []
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"]) or "(settings)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "is not a known setting (check the spelling)"
        example = EXAMPLES.get(key)
        hint = f"; for example {key} = {example}" if example else ""
        lines.append(f"setting '{key}' {message}{hint} [{source_hint}]")
    return lines


def load_settings(
    data_dir: Path | str | None = None,
    config: Path | str | None = None,
    **overrides: Any,
) -> Settings:
    """Read settings from the command line values, ``PLUMBLINE_*`` and the TOML file.

    Raises :class:`SettingsError` with one line per problem.
    """
    env_dir = os.environ.get("PLUMBLINE_DATA_DIR")
    base = Path(data_dir) if data_dir is not None else Path(env_dir or "data")
    toml_path = Path(config) if config is not None else base / CONFIG_FILE_NAME
    if config is not None and not toml_path.is_file():
        raise SettingsError([f"config file {toml_path} does not exist; pass an existing TOML file"])
    _CONFIG_FILE["path"] = toml_path if toml_path.is_file() else None
    hint = f"from {toml_path}, PLUMBLINE_* or the command line"
    try:
        kwargs = {k: v for k, v in overrides.items() if v is not None}
        if data_dir is not None:
            kwargs["data_dir"] = Path(data_dir)
        settings = Settings(**kwargs)
    except ValidationError as error:
        raise SettingsError(_friendly(error, hint)) from None
    except ValueError as error:  # malformed TOML surfaces as a decode error
        raise SettingsError([f"cannot read {toml_path}: {error}"]) from None
    finally:
        _CONFIG_FILE["path"] = None
    return settings


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
