"""Retrain the same Keras architectures many times without paying for tracing again.

``train_keras`` compiles one ``tf.function`` per (model, optimizer, loss) and
keeps it on the model. A lesson that compares many settings of one small
model (lesson 02: activation on or off, inputs standardised or not, SGD or
Adam, a learning rate; lesson 04's live panel: width, depth, learning rate,
steps) would build a new model per setting and trace each one again (0.4 s
to a second apiece on a 2-core CPU, most of a small retrain).

``CachedTrainer`` keeps one model and one optimizer per (architecture,
optimizer kind). Before each run it puts back the model's initial weights
(those of a fresh build under ``seed``), zeroes the optimizer's state (step
count, momenta) and sets the learning rate, so a run starts from exactly the
state a freshly built model and optimizer would have.

With ``schedule=True`` the learning rate is a ``PeakSchedule`` whose peak,
length and decay live in variables, so changing the learning rate, the number
of steps or switching the decay on and off does not retrace either.
"""
from __future__ import annotations

import math

from ..repro import import_tensorflow
from ..repro import seed as seed_everything

tf = import_tensorflow()
import keras  # noqa: E402

from .keras_loop import train_keras  # noqa: E402

OPTIMIZERS = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam}


class PeakSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """``peak`` for the whole run, or a cosine decay from ``peak`` to 0 over ``total`` steps."""

    def __init__(self, peak: float = 1e-3, total: int = 1000, decay: bool = True):
        self.peak = tf.Variable(float(peak), dtype=tf.float32, trainable=False)
        self.total = tf.Variable(float(max(total, 1)), dtype=tf.float32, trainable=False)
        self.decay = tf.Variable(1.0 if decay else 0.0, dtype=tf.float32, trainable=False)

    def set(self, peak: float, total: int, decay: bool) -> None:
        self.peak.assign(float(peak))
        self.total.assign(float(max(int(total), 1)))
        self.decay.assign(1.0 if decay else 0.0)

    def __call__(self, step):
        progress = tf.minimum(tf.cast(step, tf.float32) / self.total, 1.0)
        cosine = 0.5 * (1.0 + tf.cos(math.pi * progress))
        return self.peak * (self.decay * cosine + (1.0 - self.decay))

    def get_config(self):
        return {"peak": float(self.peak.numpy()), "total": int(self.total.numpy()), "decay": bool(self.decay.numpy())}


class CachedTrainer:
    """One cached (model, optimizer) per (architecture key, optimizer name).

    build: ``build(**architecture)`` returns a new, unbuilt-or-built Keras model
        (it is called right after ``seed(s)``, so it draws the weights of seed s).
    loss: the loss every run uses, or a dict name -> loss to choose from per run
        with ``train(..., loss=name)`` (one object each, so compiled steps are reused).
    schedule: give each optimizer a PeakSchedule (``train(..., decay=...)``)
        instead of a constant learning rate.
    max_cached: architectures kept at once; the oldest is forgotten first.
    """

    def __init__(self, build, loss, seed: int = 0, max_cached: int = 8, schedule: bool = False):
        self.build = build
        self.losses = dict(loss) if isinstance(loss, dict) else {None: loss}
        self.seed = seed
        self.max_cached = max_cached
        self.schedule = schedule
        self._cache: dict = {}
        self.last_model = None

    @property
    def loss(self):
        """The default loss (the only one, or the first of the dict)."""
        return next(iter(self.losses.values()))

    @property
    def cached(self) -> int:
        return len(self._cache)

    def _fresh_weights(self, architecture: dict, seed: int, input_shape):
        seed_everything(seed)
        model = self.build(**architecture)
        if not model.built:
            model.build((None, *input_shape))
        return model, [w.copy() for w in model.get_weights()]

    def _entry(self, architecture: dict, optimizer: str, input_shape):
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; choose from {sorted(OPTIMIZERS)}")
        key = (tuple(sorted(architecture.items())), optimizer)
        if key not in self._cache:
            if len(self._cache) >= self.max_cached:
                self._cache.pop(next(iter(self._cache)))
            model, initial = self._fresh_weights(architecture, self.seed, input_shape)
            schedule = PeakSchedule() if self.schedule else None
            opt = OPTIMIZERS[optimizer](learning_rate=schedule if schedule is not None else 1e-3)
            opt.build(model.trainable_variables)
            self._cache[key] = (model, opt, schedule, {self.seed: initial})
        return self._cache[key]

    def fresh(self, architecture: dict, optimizer: str, lr: float, input_shape, steps: int = 1, decay: bool = False,
              seed: int | None = None):
        """The cached model and optimizer, reset to a fresh start with learning rate ``lr``.

        seed: start from the weights a fresh build draws under this seed (default: the trainer's);
            they are loaded into the cached model, so another seed compiles nothing new.
        steps and decay set the PeakSchedule of a trainer made with schedule=True.
        """
        architecture, input_shape = dict(architecture), tuple(input_shape)
        seed = self.seed if seed is None else int(seed)
        model, opt, schedule, initial = self._entry(architecture, optimizer, input_shape)
        if seed not in initial:
            initial[seed] = self._fresh_weights(architecture, seed, input_shape)[1]  # built, never compiled
        model.set_weights(initial[seed])
        for variable in opt.variables:
            if variable is not opt._learning_rate:  # a constant learning rate is one of the variables
                variable.assign(tf.zeros_like(variable))
        if schedule is not None:
            schedule.set(lr, steps, decay)
        else:
            opt.learning_rate = float(lr)
        return model, opt

    def train(self, x, y, architecture: dict, optimizer: str, lr: float, steps: int, batch_size=None,
              eval_sets=None, metrics=None, sample_every=None, on_sample=None, decay: bool = False,
              seed: int | None = None, loss=None):
        """Train a fresh copy; returns (model, TrainingRun).

        The model returned is the cached one: the next run of the same architecture overwrites its
        weights (``copy_model`` keeps them). loss: a name of the dict given at construction.
        """
        if loss is not None and loss not in self.losses:
            raise ValueError(f"loss must be one of {sorted(k for k in self.losses if k is not None)}, got {loss!r}")
        loss_fn = self.losses[loss] if loss is not None else self.loss
        seed = self.seed if seed is None else int(seed)
        model, opt = self.fresh(architecture, optimizer, lr, x.shape[1:], steps=steps, decay=decay, seed=seed)
        run = train_keras(model, x, y, loss_fn, opt, steps=int(steps), batch_size=batch_size,
                          eval_sets=eval_sets, metrics=metrics, sample_every=sample_every,
                          on_sample=on_sample, seed=seed)
        self.last_model = model
        return model, run


def copy_model(model):
    """An independent copy of a Keras model with the same weights (uncompiled; for prediction or more training)."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy
