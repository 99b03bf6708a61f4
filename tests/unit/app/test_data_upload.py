"""The Data page's upload card, its callbacks called as plain functions.

An upload is refused when too big or of another type, its name is never trusted as a path, only
a previewed and acceptable file can be accepted, and accepting moves it into the landing folder.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dash import dcc

from pipeline import preview as previews
from pipeline.contract import Contract
from pipeline.ingest import FoundFile
from pipeline.settings import Settings, load_settings
from pipeline.warehouse import Warehouse, models
from pipeline.warehouse import batches as batch_store

LIMIT_MB = 0.01  # 10,485 bytes, so an oversize upload stays small
CSV = (
    b"customer_id,snapshot_month,plan,region,tenure_months,monthly_charges\n"
    b"C1,2024-01-01,Basic,North,3,20.5\n"
    b"C2,2024-01-01,Premium,South,5,30\n"
    b"C3,2024-01-01,Basic,North,7,41\n"
    b"C4,2024-01-01,Premium,<b>East</b>,9,nope\n"
)
CONTRACT = Contract(
    entity_id="customer_id",
    event_time="snapshot_month",
    target="churned",
    numeric=["tenure_months", "monthly_charges"],
    categorical=["plan", "region"],
    ranges={"tenure_months": [0.0, 100.0], "monthly_charges": [0.0, 500.0]},
    categories={"plan": ["Basic", "Premium"], "region": ["North", "South"]},
)
LANDED = re.compile(r"^upload-\d{8}T\d{6}Z-customers\.csv$")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Demo settings with a tiny upload limit (overrides the app conftest's fixture)."""
    return load_settings(data_dir=tmp_path / "data", ingest={"max_upload_mb": LIMIT_MB})


@pytest.fixture
def upload(make_app, empty_warehouse: Warehouse):
    """The upload module, with an app over a warehouse that holds only a data contract."""
    models.store_contract(empty_warehouse, CONTRACT)
    make_app(empty_warehouse)
    return importlib.import_module("app.pages._data_upload")


def _url(data: bytes, mime: str = "text/csv") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def _area(upload, settings: Settings) -> Path:
    return previews.upload_area(settings)


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_an_upload_is_previewed_and_kept_under_a_random_token(upload, settings, ui) -> None:
    out = upload.preview_upload(_url(CSV), "customers.csv", None)
    assert out["contents"] is None  # cleared: the file is not sent again
    assert out["accept_disabled"] is False and out["discard_disabled"] is False
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", out["token"])
    text = ui.texts(out["result"])
    assert "customers.csv" in text
    assert "4 rows in: 3 would be accepted, 1 quarantined." in text
    assert "invalid_number" in text and "monthly_charges = nope" in text
    assert "unseen category" in text and "'<b>East</b>'" in text  # a schema finding
    staged = _area(upload, settings) / out["token"] / "customers.csv"
    assert staged.read_bytes() == CSV
    assert _files(settings.landing_dir) == []


def test_without_a_contract_the_preview_says_the_file_would_define_it(
    make_app, empty_warehouse, ui
) -> None:
    make_app(empty_warehouse)
    upload = importlib.import_module("app.pages._data_upload")
    out = upload.preview_upload(_url(CSV), "customers.csv", None)
    text = ui.texts(out["result"])
    assert "There is no data contract yet: this file would define it" in text
    assert "4 rows in: 4 would be accepted, 0 quarantined." in text  # "nope": categorical
    assert out["accept_disabled"] is False


def test_data_derived_text_is_shown_as_text_never_markup(upload, ui) -> None:
    out = upload.preview_upload(_url(CSV), "customers.csv", None)
    assert ui.find_all(out["result"], lambda c: isinstance(c, dcc.Markdown)) == []
    assert "<b>East</b>" in ui.texts(out["result"])  # a plain string, escaped by React


def test_an_oversize_upload_is_refused_by_the_server(upload, settings, ui) -> None:
    big = CSV + b"C9,2024-01-01,Basic,North,1,1\n" * 400  # > 10,485 bytes
    out = upload.preview_upload(_url(big), "customers.csv", None)
    assert out["token"] is None and out["accept_disabled"] is True
    text = ui.texts(out["result"])
    assert "the file is 11.9 KB and uploads are limited to 0.01 MB" in text
    assert "ingest.max_upload_mb" in text
    assert _files(_area(upload, settings)) == []


def test_the_decoded_size_is_checked_not_only_the_estimate(upload) -> None:
    limit = 100
    assert len(upload.decode_upload(_url(b"x" * limit), limit)) == limit
    with pytest.raises(upload.UploadRefused, match="limited to"):
        upload.decode_upload(_url(b"x" * (limit + 1)), limit)
    with pytest.raises(upload.UploadRefused, match="damaged"):
        upload.decode_upload("data:text/csv;base64,@@@@", limit)
    with pytest.raises(upload.UploadRefused, match="unexpected form"):
        upload.decode_upload("data:text/csv,plain", limit)


@pytest.mark.parametrize("name", ["report.xlsx", "customers.csv.exe", "README", None])
def test_an_upload_of_another_type_is_refused(upload, settings, ui, name) -> None:
    out = upload.preview_upload(_url(CSV), name, None)
    assert out["token"] is None and out["accept_disabled"] is True
    assert "is not a CSV, Parquet or JSON Lines file" in ui.texts(out["result"])
    assert _files(_area(upload, settings)) == []


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("../../etc/passwd.csv", "passwd.csv"),
        ("..\\..\\windows\\win.ini.parquet", "win.ini.parquet"),
        (".hidden.csv", "hidden.csv"),
        ("my file (1).csv", "my_file_1.csv"),
        ("<script>.csv", "script.csv"),
        ("a" * 300 + ".jsonl", "a" * 80 + ".jsonl"),
        ("../..", None),
        ("", None),
    ],
)
def test_the_client_file_name_becomes_a_safe_base_name(given, safe) -> None:
    assert previews.safe_name(given) == safe


@pytest.mark.parametrize("name", ["../x.csv", "meta.json", ".hidden.csv", "a b.csv"])
def test_staging_refuses_a_name_that_is_not_already_safe(tmp_path, name) -> None:
    with pytest.raises(ValueError, match="unsafe name"):
        previews.stage_upload(tmp_path, name, CSV)
    assert list(tmp_path.iterdir()) == []


def test_a_hostile_file_name_cannot_escape_the_upload_folder(upload, settings, tmp_path) -> None:
    out = upload.preview_upload(_url(CSV), "../../etc/passwd.csv", None)
    area = _area(upload, settings)
    assert _files(area) == [area / out["token"] / "meta.json", area / out["token"] / "passwd.csv"]
    upload.accept_upload(1, out["token"])
    (landed,) = _files(settings.landing_dir)
    assert re.fullmatch(r"upload-\d{8}T\d{6}Z-passwd\.csv", landed.name)
    assert not (tmp_path / "etc").exists()


def test_accept_moves_the_file_into_landing_under_a_new_name(upload, settings, ui) -> None:
    token = upload.preview_upload(_url(CSV), "customers.csv", None)["token"]
    out = upload.accept_upload(1, token)
    (landed,) = _files(settings.landing_dir)
    assert LANDED.fullmatch(landed.name)
    assert landed.read_bytes() == CSV
    assert not any(p.name.startswith(".") for p in settings.landing_dir.iterdir())
    assert not (_area(upload, settings) / token).exists()
    assert out["token"] is None and out["accept_disabled"] is True
    text = ui.texts(out["result"])
    assert landed.name in text
    assert "the next run ingests it; start one now from Runs" in text
    # A second click finds nothing left to accept.
    again = upload.accept_upload(2, token)
    assert "Nothing to accept" in ui.texts(again["result"])
    assert len(_files(settings.landing_dir)) == 1


def test_two_uploads_in_the_same_second_get_different_names(upload, settings) -> None:
    now = datetime(2024, 5, 2, 12, 3, 4, tzinfo=UTC)
    area = _area(upload, settings)
    names = []
    for _ in range(2):
        token = upload.preview_upload(_url(CSV), "customers.csv", None)["token"]
        found = previews.staged_upload(area, token)
        names.append(previews.queue_upload(found, settings.landing_dir, now).name)
    assert names == [
        "upload-20240502T120304Z-customers.csv",
        "upload-20240502T120304Z-2-customers.csv",
    ]


@pytest.mark.parametrize("token", [None, "", "../../../etc", "A" * 22, 42])
def test_accept_without_a_preview_is_refused(upload, settings, ui, token) -> None:
    out = upload.accept_upload(1, token)
    assert "Nothing to accept" in ui.texts(out["result"])
    assert out["accept_disabled"] is True
    assert _files(settings.landing_dir) == []


def test_a_rejected_file_cannot_be_accepted(upload, settings, ui) -> None:
    out = upload.preview_upload(_url(b""), "empty.csv", None)
    assert "The whole file would be rejected" in ui.texts(out["result"])
    assert "the file is empty" in ui.texts(out["result"])
    assert out["accept_disabled"] is True and out["discard_disabled"] is False
    refused = upload.accept_upload(1, out["token"])
    assert "Nothing to accept" in ui.texts(refused["result"])
    assert _files(settings.landing_dir) == []


def test_a_file_already_ingested_cannot_be_accepted_again(
    upload, settings, empty_warehouse, tmp_path, ui
) -> None:
    copy = tmp_path / "old.csv"
    copy.write_bytes(CSV)
    found = FoundFile(copy, len(CSV), hashlib.sha256(CSV).hexdigest())
    batch_id = batch_store.register(empty_warehouse, 1, found, copy)
    out = upload.preview_upload(_url(CSV), "customers.csv", None)
    assert f"already received as batch #{batch_id}" in ui.texts(out["result"])
    assert out["accept_disabled"] is True


def test_discard_deletes_the_waiting_upload(upload, settings, ui) -> None:
    token = upload.preview_upload(_url(CSV), "customers.csv", None)["token"]
    out = upload.discard_upload(1, token)
    assert _files(_area(upload, settings)) == []
    assert out["token"] is None and out["accept_disabled"] is out["discard_disabled"] is True
    assert "nothing was kept" in ui.texts(out["result"])


def test_a_new_upload_replaces_the_waiting_one(upload, settings) -> None:
    first = upload.preview_upload(_url(CSV), "customers.csv", None)["token"]
    second = upload.preview_upload(_url(CSV), "customers.csv", first)["token"]
    area = _area(upload, settings)
    assert sorted(p.name for p in area.iterdir()) == [second]


def test_a_preview_that_fails_leaves_no_file_behind(upload, settings, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(upload, "preview_file", broken)
    with pytest.raises(RuntimeError):
        upload.preview_upload(_url(CSV), "customers.csv", None)
    assert _files(_area(upload, settings)) == []


def test_uploads_older_than_an_hour_are_deleted(upload, settings) -> None:
    area = _area(upload, settings)
    old = area / ("o" * 22)
    old.mkdir(parents=True)
    (old / "stale.csv").write_bytes(CSV)
    hour_ago = time.time() - 3700
    os.utime(old, (hour_ago, hour_ago))
    token = upload.preview_upload(_url(CSV), "customers.csv", None)["token"]
    assert sorted(p.name for p in area.iterdir()) == [token]


def test_the_card_limits_the_drop_zone_to_the_configured_size(upload, settings, ui) -> None:
    card = upload.upload_card(settings)
    (drop,) = ui.find_all(card, lambda c: isinstance(c, dcc.Upload))
    assert drop.id == "data-upload-drop"
    assert drop.max_size == int(LIMIT_MB * 1024 * 1024)
    assert drop.accept == ".csv,.parquet,.jsonl,.ndjson"
    assert "up to 0.01 MB" in ui.texts(card)


def test_values_of_the_warehouses_pii_suspects_are_masked(upload, empty_warehouse, ui) -> None:
    empty_warehouse.execute(
        "INSERT INTO pii_suspects (column_name, kind, share, batch_id, detected_at) "
        "VALUES ('region', 'name', 0.9, 1, now())"
    )
    text = ui.texts(upload.preview_upload(_url(CSV), "customers.csv", None)["result"])
    assert "unseen category" in text
    assert "East" not in text
