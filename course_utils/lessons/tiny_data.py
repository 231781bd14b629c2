"""Tiny regression sets for lesson 04 ("Tiny data") and its lab, and the plumbing its notebook would carry.

The data:

- ``forum_points()``: the 30 (x, y) points published with the original
  question (21 for training, 9 held out), exactly as posted;
- ``lab_points()``: a different tiny set for the lab, generated here: a few
  noisy readings whose inputs sit in a narrow band far from zero;
- ``Standardizer``: scale inputs with the training set's mean and standard
  deviation (and apply the same numbers to held-out inputs).

Arrays are float32 of shape (n, 1), like ``course_utils.data``.

What the lesson draws and measures, kept out of its cells:

- ``draw_fit(ax, data, predict_grid, title)``: the training and held-out
  points and a network's curve across the inputs' band;
- ``lbfgs_fit(x, y, **options)``: scikit-learn's ``MLPRegressor`` with the
  lbfgs solver, with why SciPy stopped it (an ``LbfgsFit``);
- ``PanelWiring(data, retrainer)``: the train, draw and describe callbacks
  of the lesson's panel.

TensorFlow, scikit-learn and SciPy are imported only by the functions that
use them, so the lab's check can import ``lab_points`` without them.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..data import Split
from ..fmt import sig
from ..metrics import mse

# Where draw_fit draws a network's curve: the forum inputs' band, [0.63, 1], with a margin.
FORUM_GRID = np.linspace(0.6, 1.0, 400, dtype=np.float32).reshape(-1, 1)
# MLPRegressor's iterations for lbfgs_fit: far more than any run uses, so SciPy's own rules stop it.
LBFGS_MAX_ITER = 10_000

# The data published with the question (https://stackoverflow.com/q/61252785):
# x and y are plain numbers in [0, 1]; the asker's 70/30 split is kept.
FORUM_X_TRAIN = (
    0.704619794270697, 0.6779457393024553, 0.8207082120250023, 0.8588819357831449,
    0.8692320257603844, 0.6878750931810429, 0.9556331888763945, 0.77677964510883,
    0.7211381534179618, 0.6438319113259414, 0.6478339581502052, 0.9710222750072649,
    0.8952188423349681, 0.6303124926673513, 0.9640316662124185, 0.869691568491902,
    0.8320164648420931, 0.8236399177660375, 0.8877334038470911, 0.8084042532069621,
    0.8045680821762038,
)
FORUM_Y_TRAIN = (
    0.7766424210611557, 0.8210846773655833, 0.9996114311913593, 0.8041331063189883,
    0.9980525368790883, 0.8164056182686034, 0.8925487603333683, 0.7758207470960685,
    0.37345286573743475, 0.9325789202459493, 0.6060269037514895, 0.9319771743389491,
    0.9990691225991941, 0.9320002808310418, 0.9992560731072977, 0.9980241561997089,
    0.8882905258641204, 0.4678339275898943, 0.9312152374846061, 0.9542371205095945,
    0.8885893668675711,
)
FORUM_X_TEST = (
    0.9749191829308574, 0.8735366740730178, 0.8882783211709133, 0.8022891400991644,
    0.8650601322313454, 0.8697902997857514, 1.0, 0.8165876695985228, 0.8923841531760973,
)
FORUM_Y_TEST = (
    0.975653685270635, 0.9096752789481569, 0.6653736469114154, 0.46367666660348744,
    0.9991817903431941, 1.0, 0.9111205717076893, 0.5264993912088891, 0.9989199241685126,
)


def _column(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float32).reshape(-1, 1)


def forum_points() -> Split:
    """The question's 21 training and 9 held-out points, shapes (n, 1)."""
    return Split(_column(FORUM_X_TRAIN), _column(FORUM_Y_TRAIN), _column(FORUM_X_TEST), _column(FORUM_Y_TEST))


def lab_points(n_train: int = 16, n_test: int = 8, seed: int = 4) -> Split:
    """The lab's tiny set: readings of a noisy response at inputs in [40, 46].

    The inputs sit in a narrow band far from zero (like the forum data, only
    more so), the targets are a gentle trend plus large point-to-point
    jitter, and neighbouring inputs are never closer than a quarter of the
    average spacing, so that a network can memorise the training points.
    Train and test points are interleaved over the same band.
    """
    for name, value in (("n_train", n_train), ("n_test", n_test)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    n = n_train + n_test
    rng = np.random.default_rng(seed)
    low, high = 40.0, 46.0
    cell = (high - low) / n
    x = low + cell * (np.arange(n) + 0.125 + 0.75 * rng.uniform(size=n))  # one point per cell
    y = 1.0 + 0.08 * (x - low) + 0.25 * rng.standard_normal(n)
    order = rng.permutation(n)
    train, test = np.sort(order[:n_train]), np.sort(order[n_train:])
    return Split(_column(x[train]), _column(y[train]), _column(x[test]), _column(y[test]))


@dataclass(frozen=True)
class Standardizer:
    """x -> (x - mean) / std with the statistics of the inputs it was fitted on."""

    mean: float
    std: float

    @classmethod
    def fit(cls, x) -> "Standardizer":
        x = np.asarray(x, dtype=np.float64)
        std = float(x.std())
        return cls(float(x.mean()), std if std > 0 else 1.0)

    def __call__(self, x) -> np.ndarray:
        return ((np.asarray(x, dtype=np.float64) - self.mean) / self.std).astype(np.float32)


# --- what the lesson draws and measures ------------------------------------------

def draw_fit(ax, data: Split, predict_grid, title: str, x_scale=None, grid=FORUM_GRID, ylim=(0.2, 1.15)):
    """The training points (red), the held-out points (grey) and a network's curve over ``grid``.

    predict_grid(x): predictions for inputs x (n, 1); x_scale: what the network's inputs are made of
    raw x (e.g. a Standardizer, a lab's prepare_x), None for raw x. grid: raw inputs (n, 1) at which
    to draw the curve (the forum data's band by default); ylim: None to let matplotlib choose.
    """
    ax.plot(data.x_train, data.y_train, "o", color="tab:red", ms=4, label="train")
    ax.plot(data.x_test, data.y_test, "s", color="gray", ms=4, mfc="none", label="held out")
    ax.plot(grid, predict_grid(grid if x_scale is None else x_scale(grid)), color="tab:blue", lw=1.2, label="network")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_title(title)


@dataclass
class LbfgsFit:
    """One ``MLPRegressor(solver="lbfgs")`` fit: the regressor, why SciPy stopped it, and how well it fits.

    stop: SciPy's message; train_mse, largest_miss: on the inputs it was fitted on; seconds: wall time.
    """

    regressor: object
    stop: str
    seconds: float
    train_mse: float
    largest_miss: float

    def stop_reason(self) -> str:
        """Which of L-BFGS-B's rules ended the run, in words (raises if it ran out of iterations)."""
        if self.regressor.n_iter_ >= self.regressor.max_iter:
            raise AssertionError("it ran out of iterations")
        if "PROJECTED GRADIENT" in self.stop:
            return "the gradient fell below tol (gtol)"
        if "RELATIVE REDUCTION OF F" not in self.stop:
            raise AssertionError(self.stop)
        return "an iteration lowered the loss by less than ftol (about 2e-9), not by tol"


def lbfgs_fit(x, y, **options) -> LbfgsFit:
    """``MLPRegressor(solver="lbfgs", max_iter=LBFGS_MAX_ITER, random_state=0, **options)`` fitted on x (n, 1), y.

    scikit-learn hands the fit to ``scipy.optimize.minimize`` and keeps only its iteration count;
    the call is recorded on the way to keep SciPy's reason to stop. Runs on one BLAS thread (the
    same result, and no spinning threads on a busy CPU), with scikit-learn's ConvergenceWarning off.
    """
    import warnings

    import scipy.optimize
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor
    from threadpoolctl import threadpool_limits

    stops = []
    minimize = scipy.optimize.minimize

    def recording_minimize(*args, **kwargs):
        result = minimize(*args, **kwargs)
        stops.append(result.message)
        return result

    started = time.perf_counter()
    scipy.optimize.minimize = recording_minimize
    try:
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore", ConvergenceWarning)
            regressor = MLPRegressor(solver="lbfgs", max_iter=LBFGS_MAX_ITER, random_state=0, **options)
            regressor.fit(x, np.ravel(y))
    finally:
        scipy.optimize.minimize = minimize
    seconds = time.perf_counter() - started
    predictions = regressor.predict(x)
    return LbfgsFit(regressor, stops[-1], seconds, mse(predictions, y),
                    float(np.max(np.abs(predictions - np.ravel(y)))))


class PanelWiring:
    """Connects the lesson's panel to ``MLPRetrainer`` runs on the first n training points of ``data``.

    ``train``, ``draw`` and ``describe`` are the callbacks ``cu.Panel`` takes. A finished run carries
    the trained network (``net``), what its inputs are made of raw x (``inputs``) and ``n``; a run
    still in progress has none of them, and is drawn as a loss curve only.
    """

    def __init__(self, data: Split, retrainer):
        self.data, self.retrainer = data, retrainer

    def train(self, values: dict, progress):
        """Retrain from the retrainer's seed with the controls' width, depth, lr, steps, decay and inputs."""
        n = values["points"]
        x_train, y_train = self.data.x_train[:n], self.data.y_train[:n]
        inputs = Standardizer.fit(x_train) if values["standardise"] else (lambda x: x)
        net, run = self.retrainer.train(inputs(x_train), y_train, values["width"], values["depth"], values["lr"],
                                        values["steps"], decay=values["decay"],
                                        on_sample=progress.on_sample(values["steps"]))
        run.net, run.inputs, run.n = net, inputs, n
        return run

    def draw(self, fig, run, values: dict):
        """Left: the fit (the points the run did not see, faded); right: the training loss."""
        from ..plots import loss_curve
        from ..training.retrain import predict

        left, right = fig.subplots(1, 2)
        if hasattr(run, "net"):
            left.plot(self.data.x_train[run.n:], self.data.y_train[run.n:], "o", color="tab:red", ms=3, alpha=0.25,
                      label="train, unseen")
            draw_fit(left, self.data, lambda g: predict(run.net, g),
                     f"{values['depth']} x {values['width']}, {run.n} points", run.inputs)
        loss_curve(right, run, title="training loss")

    def describe(self, run) -> str:
        """The status line: train MSE (on the points seen) and held-out MSE, or the divergence."""
        from ..training.retrain import predict

        if run.diverged:
            return run.describe()
        data, n = self.data, run.n
        train = mse(predict(run.net, run.inputs(data.x_train[:n])), data.y_train[:n])
        test = mse(predict(run.net, run.inputs(data.x_test)), data.y_test)
        return f"train MSE {sig(train, 2)}, held-out MSE {sig(test, 2)} after {run.steps_done} steps"
