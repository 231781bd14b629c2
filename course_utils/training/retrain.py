"""Retrain small Keras MLPs fast enough for a live panel (lesson 04).

``MLPRetrainer`` is ``cached_keras.CachedTrainer`` for one family of models,
``mlp(width, depth)``, trained with Adam on the MSE (or the MAE) and a
``PeakSchedule`` learning rate. One compiled model is kept per architecture,
and before each run it is put back to the fresh weights of the run's seed,
so nothing retraces when the learning rate, the number of steps, the decay,
the inputs (of the same shape) or the seed change; another loss or
mini-batches compile once more, on the same model. ``copy_model`` keeps a
trained network when the cached model is about to be retrained.

One run of a chaotic recipe proves little: which points it fits can change
with the seed and with the CPU's rounding. ``train_settings`` (built on
``train_side_by_side``) trains several settings of the recipe from several
seeds each, the networks of one architecture side by side in one XLA-compiled
loop, each with its own loss, inputs and learning-rate schedule, so that a
lesson can report a statistic over seeds in about the time that one run per
setting used to take.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .cached_keras import CachedTrainer, PeakSchedule, copy_model
from ..repro import import_tensorflow
from ..repro import seed as seed_everything

tf = import_tensorflow()
import keras  # noqa: E402

__all__ = ["MLPRetrainer", "PeakSchedule", "Run", "SeedRuns", "copy_model", "fresh_weights", "mlp", "predict", "train_seeds",
           "train_settings", "train_side_by_side", "LOSSES"]

LOSSES = {"mse": keras.losses.MeanSquaredError, "mae": keras.losses.MeanAbsoluteError}


def mlp(width: int, depth: int, seed: int | None = 0):
    """Dense(width, relu) x depth, then Dense(1): the lesson's family of models (seed None: the current RNG)."""
    if seed is not None:
        keras.utils.set_random_seed(seed)
    layers = [keras.Input((1,))] + [keras.layers.Dense(width, activation="relu") for _ in range(depth)]
    return keras.Sequential(layers + [keras.layers.Dense(1)])


class MLPRetrainer(CachedTrainer):
    """Adam retraining of ``mlp(width, depth)`` (MSE, full batch by default), one cached model per architecture."""

    def __init__(self, seed: int = 0, max_cached: int = 16):
        super().__init__(lambda width, depth: mlp(width, depth, seed=None), {n: make() for n, make in LOSSES.items()},
                         seed=seed, max_cached=max_cached, schedule=True)

    def train(self, x, y, width: int, depth: int, lr: float, steps: int, decay: bool = True,
              on_sample=None, sample_every: int | None = None, loss: str = "mse", batch_size: int | None = None,
              seed: int | None = None):
        """Train a fresh copy of ``mlp(width, depth)``; returns (model, TrainingRun).

        loss: "mse" or "mae". batch_size: None for full batch, else mini-batches
        reshuffled every epoch. seed: start from ``mlp(width, depth, seed)``'s
        weights (and draw that seed's batch order); None: the retrainer's seed.
        The returned model is the cached one: the next ``train`` of the same
        architecture overwrites its weights (``copy_model`` keeps them).
        """
        return super().train(x, y, {"width": int(width), "depth": int(depth)}, "adam", lr, steps,
                             batch_size=batch_size, sample_every=sample_every, on_sample=on_sample, decay=decay,
                             seed=seed, loss=loss)


def predict(model, x) -> np.ndarray:
    """Inference-mode predictions as a float64 NumPy array."""
    return np.asarray(model(np.asarray(x, dtype=np.float32), training=False), dtype=np.float64)



class SeedRuns:
    """Several runs of one architecture, trained side by side: one network per run (see ``train_side_by_side``).

    runs: the ``Run`` of each network, in order; losses: the final training loss of each (its own
    loss, inference mode), a NumPy array; ``predict(x)``: every network's predictions;
    ``model(i)``: the i-th network as a Keras model.
    """

    def __init__(self, runs, width, depth, kernels, biases, losses):
        self.runs = list(runs)
        self.seeds = [run.seed for run in self.runs]
        self.width, self.depth = width, depth
        self._kernels, self._biases = kernels, biases
        self.losses = np.asarray(losses, dtype=np.float64)

    def __len__(self) -> int:
        return len(self.runs)

    def model(self, index: int):
        """The ``index``-th network as a Keras model (a copy: later runs do not change it)."""
        net = mlp(self.width, self.depth, seed=None)
        weights = []
        for kernel, bias in zip(self._kernels, self._biases):
            weights += [kernel[index], bias[index, 0]]
        net.set_weights(weights)
        return net

    def predict(self, x) -> np.ndarray:
        """Predictions of every network for the same inputs x (n, 1): shape (networks, n, 1), float64."""
        x = np.asarray(x, dtype=np.float32)
        stacked = np.ascontiguousarray(np.broadcast_to(x, (len(self), *x.shape)))
        return np.asarray(_forward(self._kernels, self._biases, tf.constant(stacked)), dtype=np.float64)

    def subset(self, indices) -> "SeedRuns":
        """The networks at ``indices`` (a list of positions), as a SeedRuns of their own."""
        indices = list(indices)
        return SeedRuns([self.runs[i] for i in indices], self.width, self.depth,
                        [k[indices] for k in self._kernels], [b[indices] for b in self._biases], self.losses[indices])


@dataclass(frozen=True)
class Run:
    """One training run for ``train_side_by_side``: the fresh ``mlp`` of ``seed``, Adam at ``lr``.

    decay: cosine from lr to 0 over ``steps`` (else a constant rate); loss: "mse" or "mae";
    inputs: which of the inputs given to ``train_side_by_side`` this run trains on.
    """

    seed: int
    lr: float
    steps: int
    decay: bool = True
    loss: str = "mse"
    inputs: str = "x"


def fresh_weights(width: int, depth: int, seed: int) -> list:
    """The weights of ``mlp(width, depth)`` freshly built under ``seed``, without building a model.

    Draws Glorot-uniform kernels in the order Keras builds the layers (biases are zeros); the
    lesson's tests check that they equal ``mlp``'s. Building a Keras model only to read its
    weights costs about 0.15 s; this, a few milliseconds.
    """
    seed_everything(int(seed))
    sizes = [1] + [int(width)] * int(depth) + [1]
    weights = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        weights += [np.asarray(keras.initializers.GlorotUniform()((fan_in, fan_out)), dtype=np.float32),
                    np.zeros(fan_out, dtype=np.float32)]
    return weights


def _forward(kernels, biases, x):
    h = x
    for i, (kernel, bias) in enumerate(zip(kernels, biases)):
        h = tf.matmul(h, kernel) + bias
        if i < len(kernels) - 1:
            h = tf.nn.relu(h)
    return h


def _losses(pred, y, mae):
    """Each network's own loss: MSE, or MAE where ``mae`` is 1. Shape (networks,)."""
    error = pred - y
    return tf.where(mae > 0, tf.reduce_mean(tf.abs(error), axis=(1, 2)), tf.reduce_mean(tf.square(error), axis=(1, 2)))


_COMPILED_GROUPS: dict = {}
_ADAM = dict(beta_1=0.9, beta_2=0.999, epsilon=1e-7)  # Keras' defaults


def _group_loop(shapes, jit: bool):
    """One compiled loop per (architecture, number of networks, data shape): full-batch Adam, per-network rates.

    The weights and Adam's moments are variables updated in place (as Keras' optimizers do), kept
    with the loop so that another group of the same shapes compiles nothing new.
    """
    key = (tuple(shapes), jit)
    if key in _COMPILED_GROUPS:
        return _COMPILED_GROUPS[key]
    b1, b2, eps = _ADAM["beta_1"], _ADAM["beta_2"], _ADAM["epsilon"]
    params = [tf.Variable(tf.zeros(shape)) for shape in shapes[:-1]]
    moments = [tf.Variable(tf.zeros(shape)) for shape in shapes[:-1]]
    squares = [tf.Variable(tf.zeros(shape)) for shape in shapes[:-1]]

    @tf.function(jit_compile=jit)
    def steps(x, y, peak, total, decay, mae, count):
        for step in tf.range(count):
            with tf.GradientTape() as tape:
                total_loss = tf.reduce_sum(_losses(_forward(params[0::2], params[1::2], x), y, mae))
            grads = tape.gradient(total_loss, params)
            t = tf.cast(step, tf.float32)
            progress = tf.minimum(t / total, 1.0)
            lr = peak * (decay * 0.5 * (1.0 + tf.cos(math.pi * progress)) + (1.0 - decay))   # PeakSchedule, per network
            alpha = lr * tf.sqrt(1.0 - b2 ** (t + 1.0)) / (1.0 - b1 ** (t + 1.0))          # Keras' Adam step size
            for p, g, m, v in zip(params, grads, moments, squares):
                m.assign_add((g - m) * (1.0 - b1))
                v.assign_add((tf.square(g) - v) * (1.0 - b2))
                p.assign_sub(tf.reshape(alpha, [-1] + [1] * (len(p.shape) - 1)) * m / (tf.sqrt(v) + eps))
        return _losses(_forward(params[0::2], params[1::2], x), y, mae)

    def run(initial, x, y, peak, total, decay, mae, count):
        for p, m, v, start in zip(params, moments, squares, initial):
            p.assign(start)
            m.assign(tf.zeros_like(m))
            v.assign(tf.zeros_like(v))
        final = steps(x, y, peak, total, decay, mae, count)
        return [p.numpy() for p in params], final

    _COMPILED_GROUPS[key] = run
    return run


def train_side_by_side(inputs: dict, y, width: int, depth: int, runs, jit: bool = True, group: int = 4) -> SeedRuns:
    """Train one fresh ``mlp(width, depth)`` per ``Run``, all at once, full batch; returns a ``SeedRuns``.

    inputs: name -> (n, 1) array; each run trains on ``inputs[run.inputs]`` against y.
    Every network gets the gradient of its own loss only (the loop minimises the sum of the
    networks' losses, and no weight is shared), and Adam, being elementwise, moves it as a run on
    its own would: Keras' Adam with its defaults and a PeakSchedule (cosine to 0 over the run's
    steps, or a constant rate). A run with fewer steps than the longest one gets a learning rate
    of exactly 0 after its last step, so its weights stop there. Up to rounding these are the runs
    of ``MLPRetrainer.train(x, y, width, depth, lr, steps, decay, loss=..., seed=...)``; side by side,
    and compiled with XLA (``jit``), they cost a fraction of running them one at a time.

    group: networks trained together in one loop. Small groups keep each loop's weights in the
    CPU's cache: measured on the course's 2-core machine, 4 at a time ran about three times faster
    per network than 24 at once. Groups of the same size compile once.
    """
    runs = list(runs)
    if not runs:
        raise ValueError("give at least one Run")
    for run in runs:
        if run.loss not in LOSSES:
            raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {run.loss!r}")
        if run.inputs not in inputs:
            raise ValueError(f"no inputs named {run.inputs!r}; given: {sorted(inputs)}")
        if int(run.steps) < 1:
            raise ValueError(f"steps must be at least 1, got {run.steps!r}")
    y = tf.constant(np.asarray(y, dtype=np.float32).reshape(-1, 1))
    size = max(int(group), 1)
    groups = [_train_group(inputs, y, int(width), int(depth), runs[start:start + size], jit)
              for start in range(0, len(runs), size)]
    kernels, biases, final = zip(*groups)
    return SeedRuns(runs, int(width), int(depth), [np.concatenate(k) for k in zip(*kernels)],
                    [np.concatenate(b) for b in zip(*biases)], np.concatenate(final))


def _train_group(inputs, y, width, depth, runs, jit):
    x = tf.constant(np.stack([np.asarray(inputs[run.inputs], dtype=np.float32).reshape(-1, 1) for run in runs]))
    fresh = [fresh_weights(width, depth, run.seed) for run in runs]
    initial = []
    for i in range(len(fresh[0])):
        stacked = np.stack([w[i] for w in fresh])
        initial.append(stacked if i % 2 == 0 else stacked[:, None, :])
    column = lambda values: tf.constant(np.asarray(values, dtype=np.float32))  # noqa: E731
    loop = _group_loop([p.shape for p in initial] + [tuple(x.shape)], jit)
    params, final = loop(initial, x, y, column([r.lr for r in runs]), column([int(r.steps) for r in runs]),
                         column([1.0 if r.decay else 0.0 for r in runs]),
                         column([1.0 if r.loss == "mae" else 0.0 for r in runs]),
                         tf.constant(max(int(r.steps) for r in runs)))
    return params[0::2], params[1::2], final.numpy()


def train_seeds(x, y, width: int, depth: int, lr: float, steps: int, seeds, decay: bool = True,
                loss: str = "mse", jit: bool = True) -> SeedRuns:
    """One recipe from several seeds, side by side: ``train_side_by_side`` with one Run per seed."""
    return train_side_by_side({"x": x}, y, width, depth, [Run(int(s), lr, steps, decay, loss) for s in seeds], jit=jit)


def train_settings(inputs: dict, y, settings: dict, jit: bool = True) -> dict:
    """Several settings of the lesson's recipe, each from several seeds; returns label -> SeedRuns.

    settings: label -> dict(width, depth, seeds, lr, steps, decay, loss, inputs), ``inputs``
    naming one of the arrays given. Settings of the same architecture are trained side by side
    (``train_side_by_side``), so an architecture compiles once.
    """
    keys = {"width", "depth", "seeds", "lr", "steps", "decay", "loss", "inputs"}
    for label, setting in settings.items():
        if set(setting) != keys:
            raise ValueError(f"setting {label!r} needs exactly the keys {sorted(keys)}, got {sorted(setting)}")
    results = {}
    for width, depth in dict.fromkeys((s["width"], s["depth"]) for s in settings.values()):
        labels = [label for label, s in settings.items() if (s["width"], s["depth"]) == (width, depth)]
        runs, owner = [], []
        for label in labels:
            s = settings[label]
            for seed in s["seeds"]:
                runs.append(Run(int(seed), float(s["lr"]), int(s["steps"]), bool(s["decay"]), s["loss"], s["inputs"]))
                owner.append(label)
        trained = train_side_by_side(inputs, y, width, depth, runs, jit=jit)
        for label in labels:
            results[label] = trained.subset([i for i, o in enumerate(owner) if o == label])
    return {label: results[label] for label in settings}
