"""Where the pose model file lives, and its integrity check.

The package ships ``models/pose_landmarker_full.task`` (BlazePose full, Apache-2.0, built by
``scripts/build_pose_model.py``) with a SHA-256 file verified before first use. Users may point
to another MediaPipe pose ``.task`` file (official lite or heavy) with the argument
``model_path=`` or the environment variable ``WORKBENCH_POSE_MODEL``; such files are not
checksum-verified (they are not ours), only checked to exist and to be a ZIP bundle.
"""

from __future__ import annotations

import functools
import hashlib
import os
import zipfile
from pathlib import Path

from workbench.errors import ConfigError, DataFormatError

MODEL_ENV = "WORKBENCH_POSE_MODEL"
MODELS_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_MODEL = MODELS_DIR / "pose_landmarker_full.task"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=4)
def _verified(path: Path, mtime_ns: int) -> None:
    expected_file = path.with_name(path.name + ".sha256")
    if not expected_file.is_file():
        raise DataFormatError(
            "checksum file missing; rebuild with scripts/build_pose_model.py", path=expected_file
        )
    expected = expected_file.read_text().split()[0].strip().lower()
    actual = _sha256(path)
    if actual != expected:
        raise DataFormatError(
            f"SHA-256 {actual} does not match {expected}; the model file is corrupt or was "
            "replaced: rebuild with scripts/build_pose_model.py",
            path=path,
        )


def pose_model_path(model_path: str | os.PathLike[str] | None = None) -> Path:
    """Resolve and check the pose ``.task`` file to use.

    Parameters
    ----------
    model_path:
        Explicit path; else ``WORKBENCH_POSE_MODEL``; else the shipped full model.

    Returns
    -------
    Path
        An existing ``.task`` bundle. The shipped model is SHA-256 verified (once per process).

    Raises
    ------
    ConfigError
        The file given does not exist.
    DataFormatError
        The file is not a ``.task`` (ZIP) bundle, or the shipped model fails its checksum.
    """
    chosen = model_path or os.environ.get(MODEL_ENV) or DEFAULT_MODEL
    path = Path(chosen).expanduser().resolve()
    if not path.is_file():
        source = (
            "argument model_path" if model_path else MODEL_ENV if chosen != DEFAULT_MODEL else ""
        )
        raise ConfigError(
            f"pose model {path} not found ({source or 'shipped model'}); give an existing "
            "MediaPipe pose_landmarker .task file or rebuild with scripts/build_pose_model.py"
        )
    if not zipfile.is_zipfile(path):
        raise DataFormatError("not a MediaPipe .task bundle (expected a ZIP file)", path=path)
    if path == DEFAULT_MODEL.resolve():
        _verified(path, path.stat().st_mtime_ns)
    return path
