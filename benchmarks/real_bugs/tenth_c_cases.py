"""Tenth held-out set, part c: real faults of the DeepFD benchmark (Cao et al., ICSE 2022), rebuilt as (buggy,
fixed) twins, for one final measurement.

The entries were taken in a fixed shuffled order (`tenth_frame.txt`, part c's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Tenth held-out set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np

from . import case
from .fresh_cases import _rng
from .keras_cases import _keras, _sequential


# --- a one-unit linear regression of y = 5x under RMSprop's default learning rate (Stack Overflow 51181393) ---

def _build_keras_linear_fit_rmsprop_default_rate(buggy):
    keras = _keras()
    L = keras.layers
    grid = np.linspace(1.0, 2.0, 100, dtype=np.float32).reshape(-1, 1)  # 100 evenly spaced inputs in [1, 2]
    x = grid[_rng().permutation(100)[:80]]  # the program's 80 % training split
    y = 5.0 * x
    model = _sequential(keras, (1,), [L.Dense(1, activation="linear")])
    # the bug: 'rmsprop' by name, i.e. its default step of 1e-3; DeepFD's fix: RMSprop with a step of 0.1
    optimizer = keras.optimizers.RMSprop(learning_rate=1e-3 if buggy else 0.1)
    return model, x, y, "mean_squared_error", optimizer


CASES = []

CASES += [
    case("tenth_keras_linear_fit_rmsprop_default_rate", "keras", "optimizer / learning rate too low",
         "https://stackoverflow.com/questions/51181393",
         "A single linear Dense unit is fitted to y = 5x on 80 inputs between 1 and 2 with mean squared error and "
         "the optimizer given by name as 'rmsprop' (its default step of 1e-3), so after the program's 200 epochs "
         "the weight has moved a fraction of the way to 5 and the loss is still many times the targets' variance.",
         "Compile with RMSprop at a learning rate of 0.1 instead of the default (DeepFD's patch; it also swaps the "
         "accuracy metric for mean absolute error, which does not change training).",
         {"too-few-steps", "update-ratio-low"}, _build_keras_linear_fit_rmsprop_default_rate,
         note="The Stack Overflow thread could not be read here (not among the stored pages); the program is read from "
              "the copy of the post's program in the Umlaut comparison benchmark as kept by FL4Deep "
              "(github.com/mohmehmo/fl4deep, benchmark/comparison/51181393/buggy.py and fixed.py), whose compile line "
              "is the one DeepFD's patch removes, word for word. Kept as in that program: 100 evenly spaced inputs "
              "in [1, 2] with targets 5x and an 80/20 split (the 80 training rows are the batch), one Dense unit "
              "with a linear activation, mean squared error, RMSprop at Keras' default 1e-3 in the buggy twin and "
              "at 0.1 in the fixed one. Translated: 'rmsprop' by name and RMSprop(lr=0.1) become "
              "keras.optimizers.RMSprop(learning_rate=...); the metrics are dropped, as build() returns no metrics. "
              "The program trains 200 epochs of three mini-batches (600 steps); the buggy twin's loss is still far "
              "above the targets' variance after them, so training fails in the program's own budget rather than "
              "merely going slowly. DeepFD's ground truth is the learning rate alone. expected is a judgement "
              "call: too-few-steps' fix names a larger learning rate as its alternative to more steps, and "
              "update-ratio-low's fix is to raise the learning rate; no code's fix names RMSprop."),
]
