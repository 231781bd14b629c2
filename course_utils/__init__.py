"""Shared helpers for the course "Can't even overfit? Debugging neural-network
training, one failure at a time."

    import course_utils as cu
    cu.setup(frameworks=("torch",))        # seeds, threads, determinism, quiet TensorFlow
    x, y = cu.data.one_batch(64)           # data made here or shipped by a package
    run = cu.train_torch(model, x, y, loss_fn, optimizer, steps=300, instruments=("grad_norm",))
    cu.instruments.dead_fraction(model, x) # the measurements that name a cause
    cu.Panel(...)                           # the live retraining panel

torch, TensorFlow and ipywidgets are imported only when something that needs
them is first used, so importing course_utils is quick and a torch-only
lesson never imports TensorFlow.
"""
from importlib import import_module

from . import data, fmt, instruments, plots
from .fmt import approx, below, claim, percent, sig
from .repro import seed, setup
from .runs import TrainingRun

# name -> (module, attribute), imported on first use
_LAZY = {
    "train_torch": ("torch_loop", "train_torch"),
    "train_keras": ("keras_loop", "train_keras"),
    "Panel": ("panel", "Panel"),
    "panel": ("panel", None),
    "metrics": ("metrics", None),
    "labs": ("labs", None),
    "diagnose": ("diagnosis", "diagnose"),
    "watch": ("diagnosis", "watch"),
}

__all__ = ["data", "fmt", "instruments", "plots", "setup", "seed", "sig", "below", "percent", "approx", "claim", "TrainingRun", *_LAZY]


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'course_utils' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = import_module(f".{module_name}", __name__)
    return module if attribute is None else getattr(module, attribute)
