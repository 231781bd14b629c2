"""Twelfth held-out set, part f: bugs of defects4ML (Morovati et al., EMSE 2023), each rebuilt from the benchmark's
buggy and fixed programs as (buggy, fixed) twins, for one measurement.

The entries were taken in a fixed shuffled order (`twelfth_frame.txt`, part f's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Twelfth held-out set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np

from . import case
from .fresh_cases import _rng
from .keras_cases import _keras, _sequential


# --- two stacked LSTMs that both return sequences, before a one-unit regression head (defects4ML bug 089) -------

def _sequence_means(n=118, steps=45, features=2):
    """``n`` sequences of ``steps`` x ``features`` uniform values in [0, 1), as in the program, and one target per
    sequence that depends on every step: the mean of the first channel over the whole sequence, rescaled to [0, 1].
    Shapes (n, steps, features) and (n, 1)."""
    rng = _rng()
    x = rng.random((n, steps, features)).astype(np.float32)
    m = x[:, :, 0].mean(axis=1)
    y = ((m - m.min()) / (m.max() - m.min())).reshape(-1, 1).astype(np.float32)
    return x, y


def _build_keras_lstm_return_sequences_regression(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _sequence_means()
    model = _sequential(keras, x.shape[1:], [
        L.LSTM(32, return_sequences=True),
        # the bug: the second LSTM also returns its whole sequence, so Dense(1) gives one output per time step;
        # defects4ML's fix: return_sequences=False, one output per sequence
        L.LSTM(32, return_sequences=buggy),
        L.Dense(1)])
    return model, x, y, "mse", keras.optimizers.Adam()


CASES = [
    case("twelfth_keras_lstm_return_sequences_regression", "keras", "output shape / recurrent layer",
         "https://stackoverflow.com/questions/51763983",
         "A regression model of 45-step, 2-feature sequences stacks two LSTM layers that both return their full "
         "sequence before Dense(1), so the model emits one value per time step, shape (batch, 45, 1), while each "
         "sequence has a single target of shape (batch, 1).",
         "Set return_sequences=False on the second LSTM so that only its last state reaches Dense(1) and the model "
         "gives one value per sequence.",
         {"target-shape-broadcast", "missing-flatten"}, _build_keras_lstm_return_sequences_regression,
         note="defects4ML bug 089 (buggy/script.py and fixed/script.py; the fix is the one-word change of the "
              "second LSTM's return_sequences). Kept from the program: 118 sequences of 45 steps x 2 uniform "
              "features, LSTM(return_sequences=True) -> LSTM -> Dense(1), mean squared error, Adam at its "
              "default rate. Changed: the LSTMs have 32 units, not 512, to fit the shared CPU; the program's "
              "targets are uniform noise (np.random.rand), which no twin could learn, so the target here is the "
              "rescaled mean of the first feature over all 45 steps, which a model must read the whole sequence to "
              "predict. Translated from Keras 2.1.5 / TensorFlow 1.5 to Keras 3. Version difference judged: under "
              "Keras 2.1.5 fit() refused the (118, 1) targets for a (118, 45, 1) output (the 'Crash' of the "
              "conf.ini); Keras 3 raises nothing and instead broadcasts each sequence's target over all 45 time "
              "steps, so every step's output is trained towards a value that the early steps have not yet seen. "
              "The bug (one output per step where one per sequence was meant) is the same; only how it shows "
              "differs. expected is a judgement call: target-shape-broadcast's title names the Keras 3 symptom and "
              "its fix includes squeezing the output rather than reshaping the targets; missing-flatten's title (a "
              "Dense layer that receives several axes per sample) names the cause, and its fix (reduce those axes "
              "before the Dense layer) is the convolutional counterpart of return_sequences=False."),
]
