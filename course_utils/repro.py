"""Reproducibility: one call at the top of every notebook.

``setup()`` seeds every random number generator the course uses, pins thread
counts and turns on deterministic ops, so that a notebook's printed figures
are the same on every run. TensorFlow and torch are imported only when a
lesson asks for them: a torch-only lesson never pays for importing
TensorFlow (several seconds).

TensorFlow reads its logging and oneDNN switches from the environment when it
is first imported, so they are set here before any import. On TF 2.21 the log
level alone does not silence the oneDNN notice, and the "could not find cuda
drivers" line is printed before TensorFlow's logger is configured, so the
import itself runs with file descriptor 2 pointed at /dev/null.
"""
from __future__ import annotations

import contextlib
import os
import random
import sys

import numpy as np

DEFAULT_SEED = 0
FRAMEWORKS = ("torch", "tensorflow")

# Set before TensorFlow can be imported by anything.
_TF_ENVIRONMENT = {
    "TF_CPP_MIN_LOG_LEVEL": "3",  # only fatal messages from TensorFlow's C++ side
    "TF_ENABLE_ONEDNN_OPTS": "0",  # oneDNN reorders float sums: results drift between machines
    "KERAS_BACKEND": "tensorflow",
}


def default_threads(framework: str = "torch") -> int:
    """Thread count for torch or TensorFlow: 1 unless the environment says otherwise.

    ``COURSE_THREADS`` sets both; ``COURSE_TORCH_THREADS`` sets torch's alone.
    The configuration matrix (tests/output_matrix.py) runs every notebook with
    ``COURSE_THREADS=2`` as well, to check that no printed figure depends on
    how sums are split between threads.

    The course's models are small: splitting their matrix products across
    threads gains little, and when the cores are busy with anything else,
    threads that spin while waiting for each other made a 0.35 s torch run
    take 60 s on a 2-core machine (TensorFlow's pool did the same to a Keras
    lesson). One thread is fast and predictable.
    """
    names = ("COURSE_TORCH_THREADS", "COURSE_THREADS") if framework == "torch" else ("COURSE_THREADS",)
    for name in names:
        value = os.environ.get(name)
        if value:
            try:
                threads = int(value)
            except ValueError:
                threads = 0
            if threads < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
            return threads
    return 1


def quiet_tensorflow_environment() -> None:
    """Put TensorFlow's logging and oneDNN switches into the environment.

    Has an effect only if TensorFlow has not been imported yet; existing
    values set by the user are kept.
    """
    for key, value in _TF_ENVIRONMENT.items():
        if not os.environ.get(key):
            os.environ[key] = value


@contextlib.contextmanager
def _stderr_silenced():
    """Point file descriptor 2 at /dev/null (C++ code ignores ``sys.stderr``)."""
    try:
        saved = os.dup(2)
    except OSError:  # no real fd 2 (some embedded interpreters): nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr.flush()
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow():
    """Import TensorFlow quietly and return the module.

    Also when the student imported it first: TensorFlow looks for a GPU at its first
    operation and writes a CUDA error to stderr on a machine without one, so the devices
    are listed here once, with stderr silenced.
    """
    if "tensorflow" not in sys.modules:
        quiet_tensorflow_environment()
        with _stderr_silenced():
            import tensorflow  # noqa: F401
            import keras  # noqa: F401  (Keras 3 registers itself on first import)
    tf = sys.modules["tensorflow"]
    if not getattr(tf, "_course_devices_listed", False):
        with _stderr_silenced():
            tf.config.list_physical_devices()
        tf._course_devices_listed = True
        # Python-side warnings such as "5 out of the last 5 calls triggered retracing"
        # go to stderr in a notebook; the course builds many small models on purpose.
        tf.get_logger().setLevel("ERROR")
    return tf


def import_torch():
    import torch

    return torch


def _configure_torch(threads: int) -> None:
    torch = import_torch()
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set, or torch already ran parallel work: keep what is there
    _deterministic_torch(torch)


def _deterministic_torch(torch) -> None:
    """``torch.use_deterministic_algorithms(True, warn_only=True)`` without loading torch's compiler.

    The public call also sets ``torch._inductor.config.deterministic``, and importing that module
    pulls in TorchDynamo and SymPy: about 1.6 s of CPU per notebook on a 2-core machine, for a
    compiler the course never uses. The setting that eager PyTorch reads is the one below. If the
    compiler is already loaded, or this torch has no such function, the public call is used.
    """
    set_flag = getattr(torch._C, "_set_deterministic_algorithms", None)
    if set_flag is None or "torch._inductor.config" in sys.modules:
        torch.use_deterministic_algorithms(True, warn_only=True)
        return
    set_flag(True, warn_only=True)


def _configure_tensorflow(threads: int) -> None:
    tf = import_tensorflow()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass  # TensorFlow's runtime has started; thread pools can no longer change
    tf.config.experimental.enable_op_determinism()


def seed(value: int = DEFAULT_SEED) -> None:
    """Re-seed Python, NumPy and whichever of torch and TensorFlow are loaded.

    Call it before each experiment whose numbers a lesson prints, so that the
    numbers do not depend on which cells ran before.
    """
    random.seed(value)
    np.random.seed(value)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(value)
    if "tensorflow" in sys.modules:
        import keras

        keras.utils.set_random_seed(value)  # Python, NumPy and the TF backend


SETTINGS: dict = {}  # what the last setup() call set, for tests and the curious


def setup(frameworks=("torch",), seed_value: int = DEFAULT_SEED, threads: int | None = None) -> None:
    """Make a notebook reproducible. Call once, in the first code cell.

    frameworks: which of "torch" and "tensorflow" the notebook uses; only
        these are imported.
    threads: torch's and TensorFlow's thread count (default: default_threads()).
    What was set is kept in ``SETTINGS``; nothing is printed, so that a
    notebook's output does not depend on the machine.
    """
    if isinstance(frameworks, str):
        frameworks = (frameworks,)
    unknown = set(frameworks) - set(FRAMEWORKS)
    if unknown:
        raise ValueError(f"unknown framework(s) {sorted(unknown)}; choose from {FRAMEWORKS}")
    torch_threads = default_threads("torch") if threads is None else int(threads)
    tf_threads = default_threads("tensorflow") if threads is None else int(threads)
    quiet_tensorflow_environment()
    os.environ.setdefault("PYTHONHASHSEED", str(seed_value))  # for subprocesses
    _use_png_figures()
    if "torch" in frameworks:
        _configure_torch(torch_threads)
    if "tensorflow" in frameworks:
        _configure_tensorflow(tf_threads)
    seed(seed_value)
    SETTINGS.clear()
    SETTINGS.update(seed=seed_value, threads=torch_threads, tensorflow_threads=tf_threads, frameworks=tuple(frameworks))


def _use_png_figures() -> None:
    """Inline figures as PNG: nbval ignores PNG, while SVG embeds a date."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("png")
