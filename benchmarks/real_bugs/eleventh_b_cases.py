"""Eleventh held-out set, part b: Stack Overflow bugs of the deepmufl benchmark (Ghanbari et al., ASE 2023), rebuilt
as (buggy, fixed) twins, for one final measurement.

The entries were taken in a fixed shuffled order (`eleventh_frame.txt`, part b's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Eleventh held-out set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np

from . import case
from .fresh_cases import _rng
from .held_out_cases import SO
from .keras_cases import _keras


def _rare_event_sequences(n=32, steps=200, channels=16, positives=5):
    """``n`` sequences of ``steps`` standard-normal readings on ``channels`` channels, ``positives`` of them labelled 1
    (as in the post: 5 positives in a batch of 32); the positives carry a small shift on two channels so that the
    labels can be learned. Labels (n, 1) float32."""
    rng = _rng()
    x = rng.normal(size=(n, steps, channels)).astype(np.float32)
    y = np.zeros((n, 1), dtype=np.float32)
    y[rng.choice(n, size=positives, replace=False)] = 1.0
    shift = np.where(y > 0, 0.5, -0.1).astype(np.float32)  # (n, 1), broadcast over the time steps
    x[:, :, 0] += shift
    x[:, :, 1] -= shift
    return x, y


# --- an LSTM with activation='relu' whose cell state blows up to NaN (SO 57516678) ---

def _build_keras_lstm_relu_activation_nan(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _rare_event_sequences()
    norm = keras.constraints.MaxNorm
    inputs = keras.Input(x.shape[1:])
    # the bug: relu as the LSTM's activation, applied inside the recurrence; the fix: the LSTM's tanh
    hidden = L.LSTM(128, activation="relu" if buggy else "tanh", recurrent_dropout=0.3,
                    kernel_constraint=norm(0.5, axis=0), recurrent_constraint=norm(0.5, axis=0))(inputs)
    model = keras.Model(inputs, L.Dense(1, activation="sigmoid")(hidden))
    return model, x, y, "binary_crossentropy", keras.optimizers.Nadam(4e-4, clipnorm=1.0)


CASES = []

CASES += [
    case("eleventh_keras_lstm_relu_activation_nan", "keras", "model structure / recurrent activation",
         SO + "57516678",
         "An LSTM(512) with activation='relu', recurrent_dropout=0.3 and max-norm constraints reads batches of 32 "
         "sequences of 672 steps of 16 channels under Nadam (lr 4e-4, clipnorm=1) and binary cross-entropy; within "
         "a few dozen batches the loss and the weights turn NaN.",
         "Give the LSTM back its bounded tanh activation, since relu is applied inside the recurrence (cell and hidden "
         "state) where it lets the state grow without bound (the poster's own answer names relu as the culprit).",
         {"non-finite-loss", "exploding-gradients"}, _build_keras_lstm_relu_activation_nan,
         note="Read in the stored copies https://whosebug.com/question/4574306/LSTM-recurrent-dropout-with-relu-yields-NaNs "
              "(the question, translated) and https://www.e-learn.cn/qa/q-336586.html (the question's opening and the "
              "poster's own answer); the program is also deepmufl's bug.py for this post. The answer's verdict is that "
              "recurrent_dropout is innocent and the activation argument, 'relu', is the culprit because the LSTM "
              "applies it on the recurrent transformations, where tutorials use tanh; it then lists mitigations (batch "
              "normalisation of the LSTM's inputs, selu, a lower learning rate, gradient clipping, fewer time steps). "
              "The fixed twin removes the named culprit (tanh, the LSTM's default); judgement call: tanh is the "
              "answer's stated contrast rather than an item of its list, and selu, tried while building, still "
              "diverged, as the answer warns. No answer is marked accepted in the copies; the fixed twin learns where "
              "the buggy one goes NaN. Rebuilt smaller: LSTM(128) over 200 steps (not 512 over 672) so plain training "
              "fits the CPU; the poster's random sequences and 5-in-32 positive labels are kept, with a small shift on "
              "two channels for the positives so that the fixed twin has something to learn; Input without a fixed "
              "batch size, keras.constraints.MaxNorm and Nadam(4e-4, clipnorm=1.0) in today's Keras. expected: "
              "non-finite-loss and exploding-gradients name the symptom (NaN, a state that blows up) and their fix "
              "sentences name the answer's listed mitigations (lower learning rate, clipping); no code's fix names the "
              "activation inside a recurrent layer, so a detection leads to the answer's list but not straight to "
              "tanh."),
]
