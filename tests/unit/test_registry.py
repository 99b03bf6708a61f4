"""Model artefacts: skops round trip, and refusal of changed, foreign or untrusted files."""

from __future__ import annotations

import errno
import os
import shlex
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from pipeline import registry, train
from pipeline.registry import ArtefactRefused

SPEC = train.TrainSpec(
    categorical=["plan"], numeric=["usage"], params={**train.DEFAULT_PARAMS, "max_iter": 15}
)


@pytest.fixture(scope="module")
def fitted() -> tuple[Pipeline, pd.DataFrame]:
    """A small fitted production pipeline and the frame to score with it."""
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame(
        {
            "plan": rng.choice(["basic", "plus"], size=n),
            "usage": rng.normal(size=n),
            train.PERIOD: np.repeat([date(2024, 1, 1), date(2024, 2, 1)], n // 2),
        }
    )
    frame[train.LABEL] = (frame["usage"] + rng.normal(scale=0.5, size=n) > 0).astype(int)
    result = train.fit_and_evaluate(frame, SPEC, 1)
    return result.pipeline, train.prepare_features(frame, SPEC)


def _dump(obj: object, path: Path) -> str:
    """Write ``obj`` with skops; return the file's SHA-256."""
    sio.dump(obj, path)
    return registry.file_sha256(path)


def test_saved_model_loads_back_and_predicts_the_same(fitted, tmp_path: Path) -> None:
    pipe, features = fitted
    saved = registry.save_model(pipe, tmp_path / "models", "v3")
    assert saved.path == tmp_path / "models" / "v3.skops"
    assert saved.sha256 == registry.file_sha256(saved.path)
    assert saved.size_bytes == saved.path.stat().st_size
    assert [p.name for p in saved.path.parent.iterdir()] == ["v3.skops"]  # no partial left

    loaded = registry.load_model(saved.path, saved.sha256)
    assert isinstance(loaded, Pipeline)
    assert np.array_equal(loaded.predict_proba(features), pipe.predict_proba(features))


def test_a_changed_byte_is_refused_by_its_hash(fitted, tmp_path: Path) -> None:
    saved = registry.save_model(fitted[0], tmp_path, "v1")
    data = bytearray(saved.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    saved.path.write_bytes(bytes(data))
    with pytest.raises(ArtefactRefused, match="SHA-256 .* expects .*not loaded"):
        registry.load_model(saved.path, saved.sha256)


def test_a_missing_artefact_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArtefactRefused, match="missing"):
        registry.load_model(tmp_path / "v9.skops", "0" * 64)


def test_a_pickle_renamed_to_skops_is_refused_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    # Protocol-0 pickle of os.system("touch <marker>"), written as bytes, never unpickled here.
    command = f"touch {shlex.quote(str(marker))}"
    payload = f"cos\nsystem\n(S{command!r}\ntR.".encode()
    path = tmp_path / "v1.skops"
    path.write_bytes(payload)
    with pytest.raises(ArtefactRefused, match="not a readable skops file"):
        registry.load_model(path, registry.file_sha256(path))
    assert not marker.exists()


@pytest.mark.parametrize("obj", [{"coef": [1.0, 2.0]}, LogisticRegression()], ids=["dict", "lr"])
def test_a_valid_skops_file_that_is_not_a_pipeline_is_refused(obj, tmp_path: Path) -> None:
    path = tmp_path / "v1.skops"
    with pytest.raises(ArtefactRefused, match="not a scikit-learn Pipeline"):
        registry.load_model(path, _dump(obj, path))


def test_a_pipeline_with_an_untrusted_type_is_refused_naming_the_type(tmp_path: Path) -> None:
    sneaky = Pipeline(
        [("encode", FunctionTransformer(func=os.getcwd)), ("model", LogisticRegression())]
    )
    path = tmp_path / "v1.skops"
    sha = _dump(sneaky, path)
    with pytest.raises(ArtefactRefused, match=r"does not trust: .*getcwd") as caught:
        registry.load_model(path, sha)
    assert f"{os.getcwd.__module__}.getcwd" in str(caught.value)


def test_trusted_types_are_only_those_a_plumbline_model_needs(fitted, tmp_path: Path) -> None:
    path = tmp_path / "v1.skops"
    _dump(fitted[0], path)
    assert set(sio.get_untrusted_types(file=path)) <= registry.TRUSTED_TYPES


def test_an_artefact_directory_that_is_not_a_directory_is_named_in_the_error(
    fitted, tmp_path: Path
) -> None:
    pipe, _ = fitted
    (tmp_path / "models").write_text("a file where the directory should be")
    with pytest.raises(registry.ArtefactNotWritten) as raised:
        registry.save_model(pipe, tmp_path / "models", "v3")
    message = str(raised.value)
    assert message.startswith(f"cannot write the model artefact v3.skops in {tmp_path / 'models'}")
    assert "File exists" in message


def test_a_full_disk_is_reported_in_words_and_leaves_no_partial_file(
    fitted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipe, _ = fitted

    def full_disk(obj: object, path: Path) -> None:
        Path(path).write_bytes(b"PK\x03\x04 half a zip")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(sio, "dump", full_disk)
    with pytest.raises(registry.ArtefactNotWritten, match="No space left on device; free space"):
        registry.save_model(pipe, tmp_path / "models", "v3")
    assert list((tmp_path / "models").iterdir()) == []
