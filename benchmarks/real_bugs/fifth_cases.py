"""Fifth held-out set: public threads rebuilt as (buggy, fixed) twins, for one final measurement.

Nobody had run diagnose on these when they were written, and ``expected`` was written from the
catalogue's codes, titles and fix sentences only (the CATALOGUE dict in
course_utils/diagnosis/findings.py), before any diagnose run. The threads were taken by a fixed rule
from written lists of search queries (see the README, "Fifth held-out set"), not by what diagnose
can detect. Unlike the fourth set, this set takes only threads whose program runs without an error
and still fails to learn its own training data. Run them once with
``python -m benchmarks.real_bugs --fifth``.

Every builder returns (model, x, y, loss, optimizer). Data are scikit-learn's bundled sets or
small synthetic data of the same kind and scale as the thread's (at most 256 rows).
``check_fresh_fidelity.py --fifth`` trains both twins with plain code to confirm the buggy twin
shows the thread's symptom and the fixed twin learns; every twin runs on its batch.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import case, data
from .fresh_cases import GH, _rng
from .keras_cases import _keras, _sequential


# --- Keras --------------------------------------------------------------------------------------

def _ones_and_fives(n=128):
    """8x8 digits showing a 1 or a 5, pixels scaled to [0, 1], and their digit labels (1 or 5)."""
    images, labels = data.digits(1797)
    keep = np.flatnonzero((labels == 1) | (labels == 5))[:n]
    return (images[keep] / 16.0).astype(np.float32).reshape(-1, 8, 8), labels[keep].astype(np.float32)


def _build_keras_digit_labels_into_sigmoid(buggy):
    keras = _keras()
    L = keras.layers
    x, digits = _ones_and_fives()
    # the bug: the digit itself (1 or 5) is the target of a sigmoid unit; the answer maps 5 to 0
    y = digits if buggy else np.where(digits == 5, 0.0, digits).astype(np.float32)
    model = _sequential(keras, (8, 8), [L.Flatten(), L.Dense(128, activation="relu"),
                                        L.Dense(1, activation="sigmoid")])
    return model, x, y, "binary_crossentropy", keras.optimizers.Adam(1e-3)


# --- PyTorch ------------------------------------------------------------------------------------

class _CharEncoder(nn.Module):
    """A GRU that reads a sequence of token ids and scores the class of the sequence.

    The buggy version makes its nn.Embedding inside forward(), as the reader's seq2seq did, so every
    call draws a new random table that is never a parameter of the model; the fixed one owns it."""

    def __init__(self, vocabulary, classes, embed_in_forward, width=32):
        super().__init__()
        self.vocabulary, self.width, self.embed_in_forward = vocabulary, width, embed_in_forward
        if not embed_in_forward:
            self.embedding = nn.Embedding(vocabulary, width)
        self.gru = nn.GRU(width, width, batch_first=True)
        self.head = nn.Linear(width, classes)

    def forward(self, tokens):
        embedding = nn.Embedding(self.vocabulary, self.width) if self.embed_in_forward else self.embedding
        _, last = self.gru(embedding(tokens))
        return self.head(last[-1])


def _first_token_sequences(n=128, length=5, vocabulary=12):
    """Sequences of token ids; the class of a sequence is its first token (the first letter a
    seq2seq decoder must reproduce)."""
    tokens = _rng().integers(0, vocabulary, (n, length))
    return tokens, tokens[:, 0].copy()


def _build_torch_embedding_made_in_forward(buggy):
    torch.manual_seed(0)
    tokens, first = _first_token_sequences()
    model = _CharEncoder(12, 12, embed_in_forward=buggy)
    x = torch.as_tensor(tokens, dtype=torch.long)
    y = torch.as_tensor(first, dtype=torch.long)
    return model, x, y, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-2)


def _family_sequences(n=128, length=10, alphabet=5, templates=4):
    """One-hot sequences (n, length * alphabet) from a few family templates with point mutations,
    the kind of aligned sequences a DeepSequence-style autoencoder reconstructs."""
    rng = _rng()
    parents = rng.integers(0, alphabet, (templates, length))
    letters = parents[rng.integers(0, templates, n)]
    mutated = rng.random((n, length)) < 0.1
    letters = np.where(mutated, rng.integers(0, alphabet, (n, length)), letters)
    return np.eye(alphabet, dtype=np.float32)[letters].reshape(n, length * alphabet)


class _SequenceLogLikelihood(nn.Module):
    """Mean Bernoulli log-likelihood of the one-hot targets under the model's logits: a quantity to
    maximise. The buggy twin returns it as it is, so the optimiser minimises it, as the port did; the
    fixed twin returns its negative."""

    def __init__(self, negate):
        super().__init__()
        self.sign = -1.0 if negate else 1.0

    def forward(self, logits, target):
        log_likelihood = target * nn.functional.logsigmoid(logits) + (1 - target) * nn.functional.logsigmoid(-logits)
        return self.sign * log_likelihood.sum(dim=1).mean()


def _build_torch_objective_sign_flipped(buggy):
    torch.manual_seed(0)
    sequences = torch.as_tensor(_family_sequences())
    width = sequences.shape[1]
    model = nn.Sequential(nn.Linear(width, 32), nn.ReLU(), nn.Linear(32, 4), nn.ReLU(), nn.Linear(4, 32),
                          nn.ReLU(), nn.Linear(32, width))
    loss = _SequenceLogLikelihood(negate=not buggy)
    return model, sequences, sequences.clone(), loss, torch.optim.Adam(model.parameters(), lr=1e-2)


CASES = [
    # --- Keras ---
    case("fifth_keras_digit_labels_into_sigmoid", "keras", "targets",
         "https://example-a.com/answer/64630464",
         "A binary classifier of handwritten 1s and 5s ends in one sigmoid unit under binary cross-entropy "
         "while its labels are the digits themselves (1 and 5), so the loss goes negative and accuracy "
         "stays near chance.",
         "Relabel the 5s as 0 so the targets are 0 and 1 (the accepted answer).",
         {"labels-not-class-indices", "output-cannot-reach-target"}, _build_keras_digit_labels_into_sigmoid,
         note="A mirror of Stack Overflow post 64630464 (not a HELD_OUT_SO_IDS post) that stores the accepted "
              "answer. MNIST's 28x28 images of 1 and 5 rebuilt as scikit-learn's 8x8 digits 1 and 5 "
              "(128 rows), scaled to [0, 1] as in the thread; the thread's Flatten, Dense(128, relu), "
              "Dense(1, sigmoid) and Adam are kept. labels-not-class-indices' fix maps labels onto 0..K-1; "
              "output-cannot-reach-target's 'rescale the targets' into the sigmoid's range, (y - 1) / 4, is "
              "the same relabelling."),
    # --- PyTorch ---
    case("fifth_torch_embedding_made_in_forward", "torch", "model structure",
         GH + "graykode/nlp-tutorial/issues/23",
         "A seq2seq model's nn.Embedding is created inside forward(), so it is not a parameter of the model, "
         "is drawn anew at random on every call and is never trained, and the loss stays high.",
         "Create the nn.Embedding in __init__ so the model owns it and the optimizer trains it (the "
         "maintainer's answer: it is not in the model's __init__ and is initialised randomly).",
         {"unregistered-parameters"}, _build_torch_embedding_made_in_forward,
         note="The tutorial's character seq2seq is rebuilt as its encoder half only: a GRU reads 5 token ids "
              "from a vocabulary of 12 and a linear head names the first token, the first character the "
              "decoder has to produce (128 synthetic sequences). unregistered-parameters' fix (keep layers "
              "registered on the module, then build the optimizer from model.parameters()) is the thread's "
              "fix."),
    case("fifth_torch_objective_sign_flipped", "torch", "loss",
         GH + "debbiemarkslab/DeepSequence/issues/11",
         "A PyTorch port of a sequence autoencoder returns the original's objective, a log-likelihood bound to be "
         "maximised, as its loss, so Adam minimises it: the loss falls far below 0 while the reconstruction "
         "gets worse.",
         "Return the negative of the objective as the loss (the poster's own follow-up: loss = -original_loss).",
         {"init-loss-off"}, _build_torch_objective_sign_flipped,
         note="DeepSequence's variational autoencoder of aligned protein sequences is rebuilt as a deterministic "
              "autoencoder (50-32-4-32-50) of 128 synthetic one-hot sequences of length 10 over 5 letters, drawn "
              "from 4 templates with 10% point mutations; its objective is kept as a log-likelihood returned "
              "with the wrong sign (the KL term and the sampling are left out). Judgement call: init-loss-off is "
              "the only code whose fix ('check the output layer, the loss and the labels') sends the student to "
              "the loss, where the missing minus is; no code names a loss of the wrong sign."),
]
