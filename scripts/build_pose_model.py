"""Build ``pose_landmarker_full.task`` for the MediaPipe Tasks API from Apache-2.0 model files.

Current mediapipe wheels ship no pose model and fetch the official ``.task`` files from
Google's storage at run time, which lab machines often cannot reach. ``mediapipe==0.10.21``
is the newest wheel that ships the two BlazePose TFLite models; this script

1. downloads that wheel with pip (``--no-deps``, binary only),
2. extracts ``pose_detection.tflite`` and ``pose_landmark_full.tflite``,
3. adds TFLite metadata with the image normalisation the Tasks API requires
   (detector: mean 127.5 / std 127.5, 2 feature outputs; landmark model: mean 0 / std 255,
   5 feature outputs), using mediapipe's own metadata writer,
4. zips them uncompressed as ``pose_detector.tflite`` + ``pose_landmarks_detector.tflite``,
5. writes the ``.task`` file and its SHA-256 next to it.

Usage::

    python scripts/build_pose_model.py [--out src/workbench/mobility/models] [--wheel PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import types
import zipfile
from pathlib import Path

WHEEL_SPEC = "mediapipe==0.10.21"
DETECTOR_MEMBER = "mediapipe/modules/pose_detection/pose_detection.tflite"
LANDMARK_MEMBER = "mediapipe/modules/pose_landmark/pose_landmark_full.tflite"
TASK_NAME = "pose_landmarker_full.task"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "src" / "workbench" / "mobility" / "models"


def _stub_metadata_version() -> None:
    """Provide the compiled helper missing from mediapipe>=1.x wheels (used only for a version)."""
    names = [
        "mediapipe.tasks.cc",
        "mediapipe.tasks.cc.metadata",
        "mediapipe.tasks.cc.metadata.python",
    ]
    for name in names:
        if name not in sys.modules:
            mod = types.ModuleType(name)
            mod.__path__ = []  # mark as package
            sys.modules[name] = mod
    leaf = types.ModuleType("mediapipe.tasks.cc.metadata.python._pywrap_metadata_version")
    leaf.GetMinimumMetadataParserVersion = lambda *args, **kwargs: "1.0.0"
    sys.modules[leaf.__name__] = leaf
    sys.modules["mediapipe.tasks.cc.metadata.python"]._pywrap_metadata_version = leaf


def download_wheel(dest: Path) -> Path:
    """Download the mediapipe 0.10.21 wheel (CPython 3.11, Linux x86-64) into ``dest``."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--python-version",
        "3.11",
        "--platform",
        "manylinux_2_17_x86_64",
        "--platform",
        "manylinux_2_28_x86_64",
        WHEEL_SPEC,
        "-d",
        str(dest),
    ]
    subprocess.run(cmd, check=True)
    wheels = sorted(dest.glob("mediapipe-0.10.21-*.whl"))
    if not wheels:
        raise SystemExit(f"pip did not leave a mediapipe 0.10.21 wheel in {dest}")
    return wheels[0]


def with_metadata(model: bytes, *, mean: float, std: float, n_outputs: int, name: str) -> bytes:
    """Return ``model`` with image-input normalisation metadata and ``n_outputs`` feature outputs."""
    _stub_metadata_version()
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_general_info(name, "BlazePose (Apache-2.0), from the mediapipe 0.10.21 wheel")
    writer.add_image_input(norm_mean=[mean], norm_std=[std])
    for _ in range(n_outputs):
        writer.add_feature_output()
    try:
        tflite, _json = writer.populate()
    finally:
        # Clean the writer's temporary folder now, not in __del__ at interpreter exit.
        writer._temp_folder.cleanup()
        del writer
    return bytes(tflite)


def build(wheel: Path, out_dir: Path) -> Path:
    """Build the ``.task`` bundle from ``wheel`` into ``out_dir``; returns the bundle's path."""
    with zipfile.ZipFile(wheel) as zf:
        detector = zf.read(DETECTOR_MEMBER)
        landmarks = zf.read(LANDMARK_MEMBER)
    detector = with_metadata(detector, mean=127.5, std=127.5, n_outputs=2, name="pose_detector")
    landmarks = with_metadata(
        landmarks, mean=0.0, std=255.0, n_outputs=5, name="pose_landmarks_detector"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    task = out_dir / TASK_NAME
    with zipfile.ZipFile(task, "w", compression=zipfile.ZIP_STORED) as zf:
        # Fixed timestamps so that the same inputs give a byte-identical bundle.
        for member, data in (
            ("pose_detector.tflite", detector),
            ("pose_landmarks_detector.tflite", landmarks),
        ):
            info = zipfile.ZipInfo(member, date_time=(2025, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            zf.writestr(info, data)
    digest = hashlib.sha256(task.read_bytes()).hexdigest()
    (out_dir / (TASK_NAME + ".sha256")).write_text(f"{digest}  {TASK_NAME}\n")
    return task


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--wheel", type=Path, help="use this mediapipe 0.10.21 wheel (no download)")
    args = parser.parse_args(argv)
    if args.wheel is not None:
        task = build(args.wheel, args.out)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            task = build(download_wheel(Path(tmp)), args.out)
    print(f"wrote {task} ({task.stat().st_size / 1e6:.1f} MB)")
    print((args.out / (TASK_NAME + ".sha256")).read_text().strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
