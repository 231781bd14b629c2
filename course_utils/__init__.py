"""Shared helpers for the course "Can't even overfit? Debugging neural-network
training, one failure at a time."

    import course_utils as cu
    cu.setup(frameworks=("torch",))        # seeds, threads, determinism, quiet TensorFlow
    x, y = cu.data.one_batch(64)           # data made here or shipped by a package
    run = cu.train_torch(model, x, y, loss_fn, optimizer, steps=300, instruments=("grad_norm",))
    cu.instruments.dead_fraction(model, x) # the measurements that name a cause
    cu.Panel(...)                           # the live retraining panel
    cu.diagnose(model, x, y, loss=...)     # the checklist, run on a student's model

The rooms. The engine is everything but ``lessons/`` and ``checks/``; every
lesson uses it, and it never imports a lesson's module.

    repro, frameworks   seeds, threads, determinism; which framework a model belongs to
    data, fmt, metrics  data sets made here or shipped by a package; printing figures that survive another CPU
    runs, plots, panel  a training run's record, its figures, the live retraining panel
    instruments/        the measurements that name a cause (the framework split inside)
    training/           the training loops and the caches that make live retraining fast
    diagnosis/          cu.diagnose and cu.watch: the debugging checklist as code
    labs                what every lab check shares: verdicts, time limits, calling a student's code
    site                the course site: README, lessons and labs as static HTML (python -m course_utils.site)
    grade/              grading a class's lab submissions (python -m course_utils.grade), and the nbgrader export
    lessons/            one module per lesson: its data and the plumbing its notebook would carry
    checks/             one module per lab: the check that grades it

torch, TensorFlow and ipywidgets are imported only when something that needs
them is first used, so importing course_utils is quick and a torch-only
lesson never imports TensorFlow.
"""
import sys
from importlib import import_module
from importlib.abc import Loader, MetaPathFinder
from importlib.util import spec_from_loader

from . import data, fmt, instruments, plots
from .fmt import approx, below, claim, percent, sig
from .repro import seed, setup
from .runs import TrainingRun

# name -> (module, attribute), imported on first use
_LAZY = {
    "train_torch": ("training.torch_loop", "train_torch"),
    "train_keras": ("training.keras_loop", "train_keras"),
    "Panel": ("panel", "Panel"),
    "panel": ("panel", None),
    "metrics": ("metrics", None),
    "labs": ("labs", None),
    "diagnose": ("diagnosis", "diagnose"),
    "watch": ("diagnosis", "watch"),
}

# Modules that moved into the rooms, by their old names, so that a notebook
# saved with `from course_utils import tiny_data` or `import course_utils.linearity`
# still runs. The old name gives the very same module object.
MOVED = {
    "instruments_torch": "instruments.for_torch",
    "instruments_keras": "instruments.for_keras",
    "torch_loop": "training.torch_loop",
    "keras_loop": "training.keras_loop",
    "cached_keras": "training.cached_keras",
    "retrain": "training.retrain",
    "linearity": "diagnosis.linearity",
    "series_windows": "lessons.linear_convs",
    "signals": "lessons.dying_relu",
    "tiny_data": "lessons.tiny_data",
    "gradients": "lessons.batchnorm_batch_of_one",
}

__all__ = ["data", "fmt", "instruments", "plots", "setup", "seed", "sig", "below", "percent", "approx", "claim", "TrainingRun", *_LAZY]


def __getattr__(name):
    if name in MOVED:
        return import_module(f".{MOVED[name]}", __name__)
    if name not in _LAZY:
        raise AttributeError(f"module 'course_utils' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = import_module(f".{module_name}", __name__)
    return module if attribute is None else getattr(module, attribute)


class _OldNames(MetaPathFinder, Loader):
    """Imports ``course_utils.<old name>`` as the module it moved to (see MOVED)."""

    def find_spec(self, fullname, path=None, target=None):
        package, _, old = fullname.rpartition(".")
        if package == __name__ and old in MOVED:
            return spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return None  # a placeholder; exec_module swaps in the real module

    def exec_module(self, module):
        old = module.__name__.rpartition(".")[2]
        # importlib takes whatever sys.modules holds after this call, so the old
        # name ends up bound to the new module itself, with its own __name__ and __spec__.
        sys.modules[module.__name__] = import_module(f".{MOVED[old]}", __name__)


if not any(isinstance(finder, _OldNames) for finder in sys.meta_path):
    sys.meta_path.append(_OldNames())
