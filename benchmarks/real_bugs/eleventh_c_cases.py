"""Eleventh held-out set, part c: Stack Overflow bugs of the deepmufl benchmark (Ghanbari et al., ASE 2023), rebuilt
as (buggy, fixed) twins, for one final measurement.

The entries were taken in a fixed shuffled order (`eleventh_frame.txt`, part c's slice) by someone who read only
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


def _xor_bit_sequences(n=64, steps=8):
    """``n`` random bit sequences of ``steps`` steps (batch, steps, 1); the target at each step is the XOR of that
    bit and the one before it (the first bit is compared with 0), as in the thread's 0,0,0,1,1,0,1,1 ->
    0,0,0,1,0,1,1,0. Targets (batch, steps, 1) in {0, 1}."""
    bits = _rng().integers(0, 2, size=(n, steps)).astype(np.float32)
    before = np.concatenate([np.zeros((n, 1), np.float32), bits[:, :-1]], axis=1)
    y = (bits != before).astype(np.float32).reshape(n, steps, 1)
    return bits.reshape(n, steps, 1), y


# --- entry 41: two GRUs returning sequences, one softmax unit per step, binary cross-entropy (SO 52983831) ---

def _build_keras_gru_xor_one_unit_softmax(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _xor_bit_sequences()
    # the bug: a softmax over the single output unit of each step, which is 1 whatever the GRUs compute;
    # the answer's fix: a sigmoid on that unit
    head = L.Dense(1, activation="softmax" if buggy else "sigmoid")
    model = _sequential(keras, x.shape[1:], [L.GRU(10, return_sequences=True), L.GRU(10, return_sequences=True), head])
    return model, x, y, "binary_crossentropy", keras.optimizers.Adam()


CASES = []

CASES.append(
    case("eleventh_keras_gru_xor_one_unit_softmax", "keras", "loss/output pairing",
         SO + "52983831",
         "A sequence model that should output, at every step of a bit sequence, the XOR of that bit and the one "
         "before (two GRU(10) layers returning sequences, binary cross-entropy, Adam) ends in Dense(1) with a softmax "
         "activation, so every step's output is 1 and accuracy stays at the share of ones (37.5% in the post).",
         "Use a sigmoid instead of the softmax on the single output unit (the answer: a softmax over one unit always "
         "gives 1).",
         {"one-unit-softmax"}, _build_keras_gru_xor_one_unit_softmax,
         note="Read at https://whosebug.com/question/3916300/Keras-LSTM-for-continuous-input-and-continuous-output "
              "(a Chinese-English mirror of the thread); the program is also deepmufl's bug.py for this post. The "
              "post shows two attempts; the rebuild follows its first (one sequence of 8 steps, "
              "GRU(10, return_sequences=True) twice, Dense(1, softmax) per step, binary cross-entropy, Adam at its "
              "default rate), which is deepmufl's copy. The mirror shows one answer and neither an acceptance nor the "
              "poster's reply, so the case rests on plain training: the sigmoid twin learns where the softmax twin "
              "does not. The poster's single sequence is replaced by 64 random 8-bit sequences with the same "
              "target rule (XOR of each bit and the one before), so that the fixed twin learns within a few hundred "
              "steps; Keras 1/2 imports become today's keras. Under today's Keras with the TensorFlow backend the "
              "binary cross-entropy is computed from the Dense layer's pre-activation (its logits), so the buggy "
              "twin's loss falls exactly as the fixed twin's does while its output stays 1 for every step: the "
              "symptom is the post's (every prediction is 1, accuracy the share of ones), the falling loss is not. "
              "one-unit-softmax's title and fix name the bug and the answer's fix."))
