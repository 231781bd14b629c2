"""Retrain the same Keras architectures many times without paying for tracing again.

``train_keras`` compiles one ``tf.function`` per (model, optimizer, loss) and
keeps it on the model. A lesson that compares many settings of one small
conv net (lesson 02: activation on or off, inputs standardised or not,
SGD or Adam, a learning rate, a step budget) would build a new model per
setting and trace each one again (about a second apiece on a 2-core CPU).
``CachedTrainer`` keeps one model and one optimizer per (architecture,
optimizer kind). Before each run it puts back the model's initial weights
(those of a fresh build under ``seed``), zeroes the optimizer's state
(step count, momenta) and sets the learning rate, so a run starts from
exactly the state a freshly built model and optimizer would have.
"""
from __future__ import annotations

from .repro import import_tensorflow
from .repro import seed as seed_everything

tf = import_tensorflow()
import keras  # noqa: E402

from .keras_loop import train_keras  # noqa: E402

OPTIMIZERS = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam}


class CachedTrainer:
    """One cached (model, optimizer) per (architecture key, optimizer name).

    build: ``build(**architecture)`` returns a new, unbuilt-or-built Keras model.
    loss: the loss every run uses (one object, so the compiled step is reused).
    """

    def __init__(self, build, loss, seed: int = 0, max_cached: int = 8):
        self.build = build
        self.loss = loss
        self.seed = seed
        self.max_cached = max_cached
        self._cache: dict = {}
        self.last_model = None

    @property
    def cached(self) -> int:
        return len(self._cache)

    def _entry(self, architecture: dict, optimizer: str, input_shape):
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; choose from {sorted(OPTIMIZERS)}")
        key = (tuple(sorted(architecture.items())), optimizer)
        if key not in self._cache:
            if len(self._cache) >= self.max_cached:
                self._cache.pop(next(iter(self._cache)))
            seed_everything(self.seed)
            model = self.build(**architecture)
            if not model.built:
                model.build((None, *input_shape))
            opt = OPTIMIZERS[optimizer](learning_rate=1e-3)
            opt.build(model.trainable_variables)
            self._cache[key] = (model, opt, [w.copy() for w in model.get_weights()])
        return self._cache[key]

    def fresh(self, architecture: dict, optimizer: str, lr: float, input_shape):
        """The cached model and optimizer, reset to a fresh start with learning rate ``lr``."""
        model, opt, initial = self._entry(dict(architecture), optimizer, tuple(input_shape))
        model.set_weights(initial)
        for variable in opt.variables:
            if variable is not opt._learning_rate:
                variable.assign(tf.zeros_like(variable))
        opt.learning_rate = float(lr)
        return model, opt

    def train(self, x, y, architecture: dict, optimizer: str, lr: float, steps: int, batch_size=None,
              eval_sets=None, metrics=None, sample_every=None, on_sample=None):
        """Train a fresh copy; returns (model, TrainingRun)."""
        model, opt = self.fresh(architecture, optimizer, lr, x.shape[1:])
        run = train_keras(model, x, y, self.loss, opt, steps=int(steps), batch_size=batch_size,
                          eval_sets=eval_sets, metrics=metrics, sample_every=sample_every,
                          on_sample=on_sample, seed=self.seed)
        self.last_model = model
        return model, run
