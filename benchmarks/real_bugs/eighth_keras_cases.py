"""Eighth held-out set, Keras part (keras): public threads rebuilt as (buggy, fixed) twins, for one final measurement.

Built apart from the other parts by the same rule, by someone who read only diagnose's catalogue and never
ran the detectors; how the threads were chosen is in the README, "Eighth held-out set".

Every builder returns (model, x, y, loss, optimizer). Data are scikit-learn's bundled sets or small
synthetic data of the same kind and scale as the thread's (at most 256 rows). ``expected`` was written
from the catalogue's codes, titles and fix sentences only, before any diagnose run;
``check_fresh_fidelity.py --eighth`` trains both twins with plain code to confirm that the buggy twin
shows the thread's symptom and the fixed twin learns.
"""
from __future__ import annotations

import numpy as np

from . import case, data
from .fresh_cases import GH, OUTSIDE, _rng  # noqa: F401
from .keras_cases import _keras, _sequential


def _digit_rows(n=102, classes=6):
    """The first ``n`` 8x8 digits of classes 0..classes-1, scaled to [0, 1] and read as 8 time steps of 8
    pixels (batch, 8, 8), with their labels."""
    images, labels = data.digits(400)
    keep = labels < classes
    x = (images[keep][:n] / 16.0).reshape(-1, 8, 8).astype(np.float32)
    return x, labels[keep][:n].astype(np.int64)


# --- a bidirectional LSTM that still returns sequences, integer labels (keras-team/keras#11188) --------

def _build_keras_bilstm_sequence_output_integer_labels(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _digit_rows()
    if buggy:  # as in the thread: the last LSTM returns sequences, TimeDistributed softmax, labels of shape (n, 1)
        layers = [L.Bidirectional(L.LSTM(16, return_sequences=True)),
                  L.TimeDistributed(L.Dense(6, activation="softmax"))]
        y = labels.reshape(-1, 1)
    else:  # the answer: one vector per sequence, a plain Dense softmax, one-hot labels (to_categorical)
        layers = [L.Bidirectional(L.LSTM(16)), L.Dense(6, activation="softmax")]
        y = data.one_hot(labels, 6)
    model = _sequential(keras, x.shape[1:], layers)
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam(1e-2)


CASES = [
    case("eighth_keras_bilstm_sequence_output_integer_labels", "keras", "model structure / output shape",
         GH + "keras-team/keras/issues/11188",
         "A six-class sequence classifier keeps return_sequences=True on its Bidirectional LSTM and wraps the softmax "
         "layer in TimeDistributed, so the model gives one prediction per time step, and is fitted on integer "
         "labels of shape (102, 1); fit stops with 'expected time_distributed_9 to have 3 dimensions, but got "
         "array with shape (102, 1)'.",
         "Drop return_sequences=True on the last LSTM and the TimeDistributed wrapper so the model gives one "
         "softmax per sequence, and one-hot the labels with to_categorical (the answer; the poster reports the "
         "model then trained).",
         {"target-shape-broadcast"}, _build_keras_bilstm_sequence_output_integer_labels,
         note="The thread's code is in screenshots; the answer names the pieces rebuilt here (last LSTM returning "
              "sequences, TimeDistributed, 6 classes, integer labels, the one-hot fix), and the categorical "
              "cross-entropy follows from its to_categorical fix. The poster's 102 sequences are rebuilt as 102 "
              "digits of classes 0-5 read row by row (8 steps of 8 pixels); Bidirectional(LSTM(16)) and Adam at "
              "1e-2 so the fixed twin learns in a few hundred steps. Keras 3 raises at the loss instead of at "
              "Keras 2's target check (target of rank 2 against an output of rank 3), the same stop at the same "
              "place. target-shape-broadcast's fix asks for the output's and the target's shapes to agree, which "
              "here means one output per sequence; it is a judgement call, as its title speaks of broadcasting and "
              "no code's fix names the one-hot half of the answer. The same mechanism in a regression setup is "
              "seventh_keras_lstm_stack_returns_sequences."),
]
