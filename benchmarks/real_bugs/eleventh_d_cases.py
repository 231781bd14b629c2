"""Eleventh held-out set, part d: Stack Overflow bugs of the deepmufl benchmark (Ghanbari et al., ASE 2023), rebuilt
as (buggy, fixed) twins, for one final measurement.

The entries were taken in a fixed shuffled order (`eleventh_frame.txt`, part d's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Eleventh held-out set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np

from . import case
from .fresh_cases import _rng
from .held_out_cases import SO
from .keras_cases import _keras, _sequential


DEEPMUFL = "deepmufl's copy of the program is Dataset/all-bugs/{}/bug.py in github.com/ali-ghanbari/deepmufl-ase-2023"

CASES = []


# --- 50: a vector-valued regression with a softmax output layer (SO 56774954) -----------------------------------

def _rising_curves(n=256, m=10, points=16):
    """Inputs of ``m`` features and, for each row, a rising curve sampled at ``points`` places: starts at 0,
    climbs towards 1 at a rate the inputs set (values in [0, 1), one row sums to several units, not to 1)."""
    rng = _rng()
    x = rng.normal(size=(n, m)).astype(np.float32)
    w = rng.normal(size=m) / np.sqrt(m)
    rate = 0.5 + 3.0 * np.log1p(np.exp(x @ w))  # softplus keeps the rate positive
    t = np.linspace(0.0, 1.0, points)
    y = 1.0 - np.exp(-rate[:, None] * t[None, :])
    return x, y.astype(np.float32)


def _build_keras_softmax_output_vector_regression(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _rising_curves()
    # the bug: a softmax over the n outputs makes every predicted row sum to 1; the targets' rows do not
    head = L.Dense(y.shape[1], activation="softmax" if buggy else "sigmoid")
    model = _sequential(keras, x.shape[1:], [L.Dense(100, activation="sigmoid"), L.Dense(80, activation="sigmoid"), head])
    return model, x, y, "poisson", keras.optimizers.Adam(1e-3)


CASES.append(case(
    "eleventh_keras_softmax_output_vector_regression", "keras", "loss/output pairing",
    SO + "56774954",
    "A network meant to approximate a function from R^m to R^n ends in Dense(n, activation='softmax') and is trained "
    "with the Poisson loss on target vectors whose entries rise from 0 towards 1, so every predicted row is forced "
    "to sum to 1 and the predictions stay tiny fractions that look nothing like the targets.",
    "Change the output layer: drop the softmax, which normalises the n outputs into one distribution, for an "
    "activation whose outputs can take the target values independently.",
    {"output-cannot-reach-target"},
    _build_keras_softmax_output_vector_regression,
    note="Read at https://whosebug.com/question/4466740/Approximation-of-funtion-with-multi-dimensional-output-using-a-"
         "keras-neural-network (a translated mirror; the question is also at https://coderapp.vercel.app/answer/"
         "56778700 and on coderoad.ru); " + DEEPMUFL.format("56774954") + ", where make_regression targets stand "
         "in for the poster's. The stored copies show the question in full but cut the answer off right after it "
         "names the line `outputs = Dense(n, activation='softmax')` as the problem; neither acceptance nor the "
         "poster's reply is visible, so the case rests on plain training (the fixed twin fits, the buggy one does "
         "not). Judgement call on the replacement: the visible answer only names the softmax line, and a linear "
         "output would make the program's Poisson loss undefined (it takes the log of the prediction), so the "
         "fixed twin changes only that line, to a sigmoid, which reaches the poster's targets (they lie in [0, 1), "
         "as the printed expected outputs show) and keeps the Poisson loss, the two sigmoid hidden layers (100, 80) "
         "and Adam at 1e-3 as posted. Data: the poster's function is not given; 256 rows of 10 standard-normal "
         "inputs and, per row, a curve rising from 0 towards 1 sampled at 16 points (n = 16), at a rate set by the "
         "inputs, like the poster's printed target row. output-cannot-reach-target's title names the bug (a softmax "
         "row sums to 1, the targets' rows do not) and its fix asks for an output that can produce the targets; "
         "rows-not-probabilities is the reverse situation (outputs that do not sum to 1 fed to a probability loss) "
         "and is not expected."))
