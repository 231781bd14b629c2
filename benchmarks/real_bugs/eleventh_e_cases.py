"""Eleventh held-out set, part e: Stack Overflow bugs of the deepmufl benchmark (Ghanbari et al., ASE 2023), rebuilt
as (buggy, fixed) twins, for one final measurement.

The entries were taken in a fixed shuffled order (`eleventh_frame.txt`, part e's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Eleventh held-out set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np

from . import case, data
from .fresh_cases import _rng
from .held_out_cases import SO
from .keras_cases import _keras, _sequential


# --- a three-class ECG classifier whose last Dense layer uses ReLU (Stack Overflow 53700537) ---------------

def _ecg_leads(n=130, length=1000, classes=3):
    """Synthetic ECG-like recordings of ``length`` points, one class per "lead": Gaussian R peaks at a class's own
    heart rate (with jitter), a T wave after each (inverted for class 1), wider QRS for class 2, a little noise;
    each recording scaled to unit L2 norm as keras.utils.normalize does, then shuffled. Shapes (n, length, 1), (n,)."""
    rng = _rng()
    t = np.arange(length)
    labels = np.repeat(np.arange(classes), -(-n // classes))[:n]
    x = np.zeros((n, length))
    for i, k in enumerate(labels):
        period = (110, 80, 150)[k] * rng.uniform(0.92, 1.08)
        width = (4.0, 4.0, 9.0)[k]
        signal = 0.05 * rng.normal(size=length)
        for centre in np.arange(rng.uniform(0, period), length, period):
            signal += np.exp(-0.5 * ((t - centre) / width) ** 2)
            signal += (-0.3 if k == 1 else 0.3) * np.exp(-0.5 * ((t - centre - 0.3 * period) / 12) ** 2)
        x[i] = signal
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    order = rng.permutation(n)
    return x[order].reshape(n, length, 1).astype(np.float32), labels[order]


def _build_keras_ecg_relu_output_categorical(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _ecg_leads()
    # the bug: a ReLU output layer (no bias) under categorical cross-entropy; the answer: softmax on that layer
    out = L.Dense(3, activation="relu" if buggy else "softmax", use_bias=False)
    model = _sequential(keras, x.shape[1:], [
        L.Conv1D(20, 20, activation="relu"), L.MaxPooling1D(3),
        L.Conv1D(20, 10, activation="relu"), L.MaxPooling1D(3),
        L.Conv1D(20, 10, activation="relu"), L.GlobalAveragePooling1D(), out])
    return model, x, data.one_hot(labels, 3), "categorical_crossentropy", keras.optimizers.Adam()


CASES = [
    case("eleventh_keras_ecg_relu_output_categorical", "keras", "output activation", SO + "53700537",
         "A Conv1D classifier of 1000-point ECG recordings into three classes ends in Dense(3, activation='relu', "
         "use_bias=False) under categorical cross-entropy, and predicts one class for every recording.",
         "Give the last layer a softmax activation, Dense(3, activation='softmax').",
         {"rows-not-probabilities", "logits-into-probability-loss"}, _build_keras_ecg_relu_output_categorical,
         note="Read through a translated mirror of the thread (https://xue-jishu.com/kerasconv1d-yong-yu-xin-dian-tu-"
              "xin-hao-fen-lei); the program is also in deepmufl's bug.py. The answer changes the last layer's "
              "activation from ReLU to softmax; it also says it is unsure why use_bias=False is set and suggests "
              "trying it either way, which is not a definite change, so both twins keep use_bias=False. The copy "
              "shows neither an accepted mark nor the poster's reply, so the entry is taken because the fixed twin "
              "learns in plain training where the buggy one does not. The poster's three leads of 1000-point "
              "signals (130 training rows, keras.utils.normalize, Adam at its default rate) are rebuilt as 130 "
              "synthetic ECG-like recordings of three heart rates and beat shapes, scaled to unit L2 norm per "
              "recording; the layers are the program's. The poster's fit ran one epoch (Keras's default) and "
              "already predicted one class; the plain-training check runs 300 full-batch steps. Translated "
              "from Keras 2: predict_classes is gone (not "
              "part of the case). rows-not-probabilities' fix (a softmax output for one class per sample) is the "
              "answer's fix, though its title speaks of outputs in [0, 1] and ReLU rows are only non-negative; "
              "logits-into-probability-loss's title (raw scores into a loss that expects probabilities) names "
              "the bug, its from_logits fix less so: both judgement calls. In the plain-training check the buggy "
              "twin's loss stalls at about 5.46 with output unit 0 at zero for every recording (class 0 never "
              "predicted); a first trial of the same setup outside the case file went to a NaN loss with one "
              "class for all: which units die varies from run to run, as the poster saw the class change."),
]
