"""Ninth held-out set, part c: bug-fix commits from the GitHub half of Islam et al.'s benchmark, rebuilt as
(buggy, fixed) twins, for one final measurement.

The commits were taken in a fixed shuffled order (`ninth_frame.txt`, part c's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Ninth held-out set".
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import case
from .fresh_cases import GH, _rng, _tensors
from .keras_cases import _keras

CASES = []

# --- GAIL: the discriminator's optimizer built over the value network's parameters ----------------

STATE_DIM, ACTION_DIM = 11, 3  # Hopper's observation and action sizes (the script's default environment)


def _state_action_pairs(n=128):
    """Synthetic state-action rows: the first half from the policy being trained (label 1, as the script labels
    generated pairs), the second half from the expert's trajectories (label 0), whose means and spread differ."""
    rng = _rng()
    half = n // 2
    width = STATE_DIM + ACTION_DIM
    shift = rng.normal(0.0, 0.7, width)
    policy = rng.normal(0.0, 1.0, (half, width))
    expert = rng.normal(0.0, 0.8, (n - half, width)) + shift
    x = np.concatenate([policy, expert]).astype(np.float32)
    y = np.concatenate([np.ones((half, 1)), np.zeros((n - half, 1))]).astype(np.float32)
    return x, y


class _TanhMLP(nn.Module):
    """The repository's two-layer tanh MLP (128, 128) with a small-initialised one-unit head; with a sigmoid on
    the head it is the GAIL discriminator, without it the value network."""

    def __init__(self, inputs, sigmoid):
        super().__init__()
        self.affine1 = nn.Linear(inputs, 128)
        self.affine2 = nn.Linear(128, 128)
        self.head = nn.Linear(128, 1)
        self.sigmoid = sigmoid
        with torch.no_grad():
            self.head.weight.mul_(0.1)
            self.head.bias.zero_()

    def forward(self, x):
        x = torch.tanh(self.affine2(torch.tanh(self.affine1(x))))
        x = self.head(x)
        return torch.sigmoid(x) if self.sigmoid else x


def _build_gail_discriminator_optimizer_on_value_net(buggy):
    torch.manual_seed(0)
    value_net = _TanhMLP(STATE_DIM, sigmoid=False)
    discriminator = _TanhMLP(STATE_DIM + ACTION_DIM, sigmoid=True)
    trained = value_net if buggy else discriminator  # the fix: Adam over discrim_net.parameters()
    optimizer = torch.optim.Adam(trained.parameters(), lr=3e-4)
    x, y = _tensors(*_state_action_pairs())
    return discriminator, x, y, nn.BCELoss(), optimizer


CASES += [
    case("ninth_torch_gail_discriminator_optimizer_on_value_net", "torch", "optimizer",
         GH + "Khrylx/PyTorch-RL/commit/392cb65bab9f8357a6a3d6ff640e99d6160d604a",
         "GAIL's discriminator optimizer is built as Adam(value_net.parameters()), so the discriminator trained with "
         "BCELoss on generated and expert state-action pairs never changes.",
         "Build the discriminator's optimizer over discrim_net.parameters().",
         {"optimizer-not-on-model", "weights-unchanged"}, _build_gail_discriminator_optimizer_on_value_net,
         note="The script's discriminator (tanh MLP 128-128, a sigmoid unit whose weights start scaled by 0.1), its "
              "BCELoss with generated pairs labelled 1 and expert pairs 0, and Adam at 3e-4 are kept; the value "
              "network (the same MLP without the sigmoid, on the 11 state features) exists only to own the buggy "
              "optimizer. The Hopper rollouts and expert trajectories are replaced by 128 synthetic 14-feature "
              "state-action rows (64 per label, different means and spread), and the script's sum of two BCE means "
              "by one BCE mean over the joined batch; float32 instead of the script's float64. The commit also "
              "raises the discriminator's inner loop from 1 to 3 steps per minibatch: that is the training loop, "
              "not build(), and is left out. Both codes' fixes name an optimizer built over the trained model's "
              "parameters (weights-unchanged's also says to call step()), which is the commit's fix."),
]


# --- MalConv: one softmax unit for a binary label, and an embedding one row short -------------------

BYTE_TOKENS = 256  # distinct byte values seen by the character-level tokenizer: word indices 1..256, 0 pads
FILE_LEN, WINDOW = 512, 16  # the repository's max_len 200000 and win_size 500, scaled down


def _byte_files(n=128):
    """Synthetic executables as the repository's tokenizer hands them over: byte tokens 1..256 (ranked by
    frequency), files of 300-512 tokens padded at the end with 0. Malware (label 1) draws its bytes from a
    different frequency profile than benign files (label 0); every token, the rarest (256) included, occurs."""
    rng = _rng()
    ranks = np.arange(1, BYTE_TOKENS + 1)
    benign = 1.0 / ranks
    malware = np.roll(benign, 40) + 0.02
    x = np.zeros((n, FILE_LEN), dtype=np.int64)
    y = (np.arange(n) % 2).astype(np.float32).reshape(-1, 1)
    for i in range(n):
        p = malware if y[i, 0] else benign
        length = rng.integers(300, FILE_LEN + 1)
        x[i, :length] = rng.choice(ranks, size=length, p=p / p.sum())
    x[0, 0] = BYTE_TOKENS  # the rarest byte's token appears in the data
    return x, y


def _build_malconv_softmax_unit_embedding_short(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _byte_files()
    vocabulary = BYTE_TOKENS if buggy else BYTE_TOKENS + 1  # the fix: len(tok.word_counts) + 1
    inputs = keras.Input((FILE_LEN,))
    embedded = L.Embedding(vocabulary, 8)(inputs)
    features = L.Conv1D(128, WINDOW, strides=WINDOW, padding="same")(embedded)
    gate = L.Activation("sigmoid")(L.Conv1D(128, WINDOW, strides=WINDOW, padding="same")(embedded))
    pooled = L.GlobalMaxPooling1D()(L.Multiply()([features, gate]))
    hidden = L.Dense(64)(pooled)
    outputs = L.Dense(1, activation="softmax" if buggy else "sigmoid")(hidden)  # the fix: sigmoid
    model = keras.Model(inputs, outputs)
    return model, x, y, "binary_crossentropy", keras.optimizers.Adam()


CASES += [
    case("ninth_keras_malconv_softmax_unit_embedding_short", "keras", "loss/output pairing",
         GH + "j40903272/MalConv-keras/commit/a0c3f1c22a24599bcce809e979722875e55e9ceb",
         "MalConv, a gated 1-D convolution over byte embeddings for a benign/malware label trained with binary "
         "cross-entropy, ends in Dense(1, activation='softmax'), whose output is always 1, and its Embedding has "
         "len(tok.word_counts) rows while the tokenizer's byte indices run from 1 to len(tok.word_counts).",
         "End the model in Dense(1, activation='sigmoid') and give the Embedding len(tok.word_counts) + 1 rows.",
         {"one-unit-softmax", "embedding-too-small"}, _build_malconv_softmax_unit_embedding_short,
         note="The commit (message 'bug fix') fixes both in build()'s scope: the output activation in malconv.py and "
              "the vocabulary size passed from train.py (it also drops a no-op Reshape and fixes preprocessing "
              "code that did not run: saving the unpadded sequences, undefined names). The buggy twin keeps both "
              "bugs, the fixed twin fixes both, and each code's fix is one half of the commit's fix. The "
              "repository's architecture is kept (Embedding to 8, two Conv1D of 128 filters with kernel = stride "
              "= window and 'same' padding, a sigmoid gate multiplied in, global max pooling, Dense(64) without "
              "activation, one output unit), with binary_crossentropy and Adam at its defaults. Files of up to "
              "200,000 bytes with a 500-byte window become 128 synthetic files of 300-512 byte tokens padded "
              "with 0 and a 16-token window; malware draws its bytes from a shifted frequency profile. On a GPU "
              "the out-of-range index reads zeros and training goes on with the softmax output stuck at 1; on "
              "this CPU TensorFlow's gather raises at the first batch instead, so the embedding error is what "
              "the buggy twin shows in plain training. With the table fixed and the softmax kept, today's Keras "
              "computes binary cross-entropy from the pre-softmax value, so the loss falls (0.693 to 2e-7 in 50 "
              "steps) while every prediction is 1 (training accuracy 0.50): one prediction for every input."),
]


# --- IndRNN: the example's only recurrent layer returns sequences into Dense(1) -------------------

REVIEW_LEN, REVIEW_WORDS = 40, 200  # the example's maxlen 500 and max_features 20000, scaled down


def _review_sequences(n=128):
    """Synthetic movie reviews as the example gets them from imdb.load_data and pad_sequences: word indices
    1..199 padded with 0 at the front to 40 steps; words 1-10 are positive, 11-20 negative, the rest neutral.
    A review (label 1 positive, 0 negative) holds two to four words of its own sentiment and at most one of the
    other."""
    rng = _rng()
    x = np.zeros((n, REVIEW_LEN), dtype=np.int64)
    y = (np.arange(n) % 2).astype(np.float32)
    for i in range(n):
        length = rng.integers(20, REVIEW_LEN + 1)
        words = rng.integers(21, REVIEW_WORDS, size=length)
        own, other = (1, 11) if y[i] else (11, 1)
        slots = rng.choice(length, size=5, replace=False)
        count = rng.integers(2, 5)
        words[slots[:count]] = rng.integers(own, own + 10, size=count)
        if rng.random() < 0.5:
            words[slots[4]] = rng.integers(other, other + 10)
        x[i, REVIEW_LEN - length:] = words
    return x, y


def _indrnn_cell_class(keras):
    class IndRNNCell(keras.layers.Layer):
        """An independently recurrent cell, h_t = relu(x_t W + u * h_{t-1} + b), with its recurrent weights u
        (one per unit) clipped to [0, clip_max] in the forward pass. ``fixed`` selects the repository's cell after
        the commit (u drawn uniform in +-clip_max, clip_max = 2 ** (1 / timesteps), zero bias) or before it (u
        drawn glorot-uniform like the input kernel, clip_max = 2 ** (1 / units), bias starting at 1)."""

        def __init__(self, units, timesteps, fixed, **kwargs):
            super().__init__(**kwargs)
            self.units, self.state_size, self.output_size = units, units, units
            self.fixed = fixed
            self.clip_max = 2.0 ** (1.0 / (timesteps if fixed else units))

        def build(self, input_shape):
            init = keras.initializers
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform",
                                          name="input_kernel")
            recurrent_init = (init.RandomUniform(-self.clip_max, self.clip_max) if self.fixed
                              else init.GlorotUniform())
            self.recurrent_kernel = self.add_weight(shape=(self.units,), initializer=recurrent_init,
                                                    name="recurrent_kernel")
            self.bias = self.add_weight(shape=(self.units,), initializer="zeros" if self.fixed else "ones",
                                        name="bias")

        def call(self, inputs, states):
            ops = keras.ops
            u = ops.clip(self.recurrent_kernel, 0.0, self.clip_max)
            h = ops.relu(ops.matmul(inputs, self.kernel) + states[0] * u + self.bias)
            return h, [h]

    return IndRNNCell


def _build_indrnn_sequence_output_into_dense(buggy):
    keras = _keras()
    L = keras.layers
    cell = _indrnn_cell_class(keras)
    x, y = _review_sequences()
    units = 32  # the example's 128
    if buggy:  # the example before the commit: one IndRNN that returns its whole sequence, then Dense(1)
        recurrent = [L.RNN(cell(units, REVIEW_LEN, fixed=False), return_sequences=True)]
    else:  # the commit: a second IndRNN that returns only its last state (and the fixed cell)
        recurrent = [L.RNN(cell(units, REVIEW_LEN, fixed=True), return_sequences=True),
                     L.RNN(cell(units, REVIEW_LEN, fixed=True), return_sequences=False)]
    model = keras.Sequential([keras.Input((REVIEW_LEN,)), L.Embedding(REVIEW_WORDS, 32), *recurrent,
                              L.Dense(1, activation="sigmoid")])
    return model, x, y, "binary_crossentropy", keras.optimizers.Adam()


CASES += [
    case("ninth_keras_indrnn_sequence_output_into_dense", "keras", "model structure / output shape",
         GH + "titu1994/Keras-IndRNN/commit/6ec03d6ae374ca745630e7830d45b643b62690be",
         "The IMDB example's only IndRNN layer keeps return_sequences=True, so Dense(1, sigmoid) gives one output per "
         "time step, (batch, 500, 1), against labels of shape (batch,), and training stops at the loss.",
         "Follow it with a second IndRNN with return_sequences=False so Dense(1) gets one vector per review (the "
         "commit, which also fixes the IndRNN cell's initialisation and clipping range).",
         {"target-shape-broadcast"}, _build_indrnn_sequence_output_into_dense,
         note="The commit ('Fix IndRNN + add addition test') changes the example and the cell: the buggy twin uses "
              "the cell as it was (recurrent weights drawn glorot-uniform, clipped to [0, 2^(1/units)], bias "
              "initialised to 1, copied from an LSTM's forget-gate bias) and the fixed twin the cell as it became "
              "(uniform in +-2^(1/timesteps), clipped to [0, 2^(1/timesteps)], zero bias); the cell is rewritten "
              "for Keras 3's RNN layer with the clip in the forward pass, as the repository's clipped tensor was "
              "in TensorFlow 1's graph. Embedding, relu IndRNN, Dense(1, sigmoid), binary cross-entropy and Adam "
              "at its defaults are kept; IMDB's 25,000 reviews of 500 words over 20,000 words and 128 units "
              "become 128 synthetic reviews of 40 steps over 200 words (sentiment words among neutral ones, "
              "padded at the front) and 32 units. Keras 2 stopped at its target check ('expected dense_1 to have 3 "
              "dimensions'); Keras 3 stops at the loss ('target and output must have the same rank'), the same "
              "place. target-shape-broadcast's fix asks for the output's and the targets' shapes to agree, which "
              "here means one output per review; a judgement call, as in "
              "eighth_keras_bilstm_sequence_output_integer_labels. The commit's second layer also deepens the "
              "model; the fixed twin keeps it because it is the commit's fix."),
]
