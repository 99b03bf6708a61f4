"""Model artefacts: saved with skops, loaded only after the hash and the type check pass.

The list of trusted types lives here, in Plumbline's code, and is never read from the artefact:
a tampered file cannot whitelist itself.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import skops.io as sio
from sklearn.pipeline import Pipeline

from pipeline import faults

# Types skops does not trust by default but a Plumbline model legitimately contains.
TRUSTED_TYPES: frozenset[str] = frozenset(
    {
        "functools.partial",
        # SimpleImputer (logistic-regression candidate) records the dtype it was fitted on.
        "numpy.dtype",
        # A calibrated model: CalibratedClassifierCV's per-fit pair and its sigmoid calibrator.
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.utils.validation.check_array",
    }
)


class ArtefactRefused(RuntimeError):
    """The artefact failed verification and was not loaded."""


class ArtefactNotWritten(OSError):
    """The artefact could not be written (disk full, read-only directory, ...); nothing of it
    is left behind."""


@dataclass(frozen=True)
class SavedArtefact:
    """Where an artefact was written, its SHA-256 and size."""

    path: Path
    sha256: str
    size_bytes: int


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def save_model(pipeline: Pipeline, directory: Path, name: str) -> SavedArtefact:
    """Write ``pipeline`` as ``<name>.skops`` atomically and fsync it; return its hash.

    Raises :class:`ArtefactNotWritten`, naming the file, the directory and the system's reason,
    when the directory cannot be written or the disk is full.
    """
    final = directory / f"{name}.skops"
    partial = directory / f".{name}.skops.partial"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        sio.dump(pipeline, partial)
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        faults.point("registry.partial_written")
        partial.replace(final)
    except OSError as error:
        # A half-written file is of no use and would only take more of a full disk; when even
        # removing it fails, the write error below is still the one to report.
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise ArtefactNotWritten(_not_written(final, error)) from error
    return SavedArtefact(final, file_sha256(final), final.stat().st_size)


_WRITE_HINTS = {
    errno.ENOSPC: "free space on that disk",
    errno.EDQUOT: "free space or raise the disk quota",
    errno.EFBIG: "free space or raise the file-size limit (ulimit -f)",
    errno.EACCES: "make the directory writable by the user that runs Plumbline",
    errno.EPERM: "make the directory writable by the user that runs Plumbline",
    errno.EROFS: "the file system is read-only: give the data dir a writable disk",
}


def _not_written(final: Path, error: OSError) -> str:
    reason = error.strerror or str(error)
    hint = _WRITE_HINTS.get(error.errno or 0, "check that it is a writable directory")
    return (
        f"cannot write the model artefact {final.name} in {final.parent}: {reason}; {hint}, "
        "then run again"
    )


def verify_artefact(path: Path, expected_sha256: str) -> list[str]:
    """Check an artefact without loading it: the SHA-256 the registry expects, then skops'
    list of types the file would create, against Plumbline's own trusted list.

    Returns the untrusted-by-default types the file holds (all in :data:`TRUSTED_TYPES`);
    raises :class:`ArtefactRefused` with the reason otherwise.
    """
    if not path.is_file():
        raise ArtefactRefused(f"model artefact {path} is missing")
    actual = file_sha256(path)
    if actual != expected_sha256:
        raise ArtefactRefused(
            f"model artefact {path.name} has SHA-256 {actual[:12]}…, the registry expects "
            f"{expected_sha256[:12]}…; the file was changed or swapped, so it is not loaded"
        )
    try:
        untrusted = set(sio.get_untrusted_types(file=path))
    except Exception as error:  # skops raises many types on a corrupt file; all mean "refuse"
        raise ArtefactRefused(
            f"model artefact {path.name} is not a readable skops file: {error}"
        ) from None
    unexpected = sorted(untrusted - TRUSTED_TYPES)
    if unexpected:
        raise ArtefactRefused(
            f"model artefact {path.name} contains types Plumbline does not trust: "
            + ", ".join(unexpected)
        )
    return sorted(untrusted)


def load_model(path: Path, expected_sha256: str) -> Pipeline:
    """Load a verified artefact; raises :class:`ArtefactRefused` with the reason otherwise."""
    trusted = verify_artefact(path, expected_sha256)
    model = sio.load(path, trusted=trusted)
    if not isinstance(model, Pipeline):
        raise ArtefactRefused(f"model artefact {path.name} is not a scikit-learn Pipeline")
    return model
