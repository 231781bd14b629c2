"""Fifteenth held-out set, part e: real faults from Humbatova et al.'s taxonomy of real faults in deep learning
systems (Stack Overflow posts and GitHub commits or issues), each rebuilt as (buggy, fixed) twins, for one
measurement.

The entries were taken in a fixed shuffled order (`fifteenth_frame.txt`, entries 29-35) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Fifteenth held-out
set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np

from . import case
from .fresh_cases import _rng
from .keras_cases import _keras


# --- entry 31: one time step per sample for a SimpleRNN that must remember earlier steps (SO 38294046) -------------

_X_SEED = [1, 0, 0, 0, 0, 0]  # the question's input stream repeats this pattern
_Y_SEED = [1, 0.8, 0.6, 0, 0, 0]  # and its target stream this one: 0.8 and 0.6 follow a 1 by one and two steps


def _build_keras_simplernn_one_step_per_sample(buggy):
    keras = _keras()
    L = keras.layers
    n = 256  # the answer's sample_size
    if buggy:
        # the bug: the repeated streams are cut into samples of one time step each, x (n, 1, 1) and y (n, 1), so the
        # recurrent layer never sees the 1 that came one or two steps earlier
        stream = np.resize(np.array(_X_SEED, dtype=np.float32), n)
        x = stream.reshape(n, 1, 1)
        y = np.resize(np.array(_Y_SEED, dtype=np.float32), n).reshape(n, 1)
        model = keras.Sequential([keras.Input((None, 1)), L.SimpleRNN(50), L.Dense(1, activation="sigmoid")])
    else:
        # the answer: each sample is the whole 6-step sequence, x (n, 6, 1) and y (n, 6, 1), with one output per step
        x = np.tile(np.array(_X_SEED, dtype=np.float32), (n, 1)).reshape(n, 6, 1)
        y = np.tile(np.array(_Y_SEED, dtype=np.float32), (n, 1)).reshape(n, 6, 1)
        model = keras.Sequential([keras.Input((None, 1)), L.SimpleRNN(50, return_sequences=True),
                                  L.TimeDistributed(L.Dense(1, activation="sigmoid"))])
    return model, x, y, "mse", keras.optimizers.RMSprop()


# --- entry 35: a triplet loss whose labels keep Keras's trailing axis (DeepPavlov commit bae243b5) ----------------

def _question_answer_pairs(n=64, questions=16, length=8, vocabulary=60):
    """``n`` (context, response) pairs of token ids, four per question as in the insurance reader (one pair per
    positive answer, labelled with the question's number): every question has two topic tokens of its own, which
    appear in its contexts and in its responses among random filler tokens."""
    rng = _rng()
    labels = np.repeat(np.arange(questions), n // questions)
    filler = np.arange(2 * questions, vocabulary)
    pairs = rng.choice(filler, size=(n, 2, length))
    for i, k in enumerate(labels):
        for side in range(2):
            where = rng.choice(length, size=3, replace=False)
            pairs[i, side, where] = rng.choice([2 * k, 2 * k + 1], size=3)
    order = rng.permutation(n)
    return pairs[order].astype(np.int32), labels[order]


def _pairwise_distances(emb_c, emb_r):
    """The program's _pairwise_distances: Euclidean distances between every context and every response of the
    batch, (batch, batch), computed on the stacked embeddings and sliced."""
    from keras import ops

    bs = ops.shape(emb_c)[0]
    embeddings = ops.concatenate([emb_c, emb_r], axis=0)
    dot_product = ops.matmul(embeddings, ops.transpose(embeddings))
    square_norm = ops.sum(embeddings * embeddings, axis=1, keepdims=True)
    distances = ops.transpose(square_norm) - 2.0 * dot_product + square_norm
    distances = distances[:bs, bs:]
    distances = ops.maximum(distances, 0.0)
    mask = ops.cast(ops.equal(distances, 0.0), distances.dtype)
    distances = ops.sqrt(distances + mask * 1e-16)
    return distances * (1.0 - mask)


def _batch_all_triplet_loss(buggy, margin=0.1):
    """The program's triplet_loss with batch_all_triplet_loss (hard_triplets false, margin 0.1 as in its config).
    Keras hands a loss function its targets with the output's rank, so the labels arrive as (batch, 1)."""
    from keras import ops

    def triplet_loss(labels, pairwise_dist):
        # the bug: the labels are used as they arrive, (batch, 1); the fix squeezes them to (batch,) first, so that
        # every mask below is (anchor, positive, negative) and not broadcast over a fourth axis
        y_true = labels if buggy else ops.squeeze(labels, axis=1)
        anchor_positive_dist = ops.expand_dims(pairwise_dist, 2)
        anchor_negative_dist = ops.expand_dims(pairwise_dist, 1)
        loss = anchor_positive_dist - anchor_negative_dist + margin
        same = ops.equal(ops.expand_dims(y_true, 0), ops.expand_dims(y_true, 1))
        mask1 = ops.cast(ops.expand_dims(same, 2), pairwise_dist.dtype)  # label(a) == label(p)
        mask2 = ops.cast(ops.expand_dims(ops.not_equal(pairwise_dist, 0.0), 2), pairwise_dist.dtype)  # a != p
        differ = ops.not_equal(ops.expand_dims(y_true, 0), ops.expand_dims(y_true, 1))
        mask3 = ops.cast(ops.expand_dims(differ, 1), pairwise_dist.dtype)  # label(n) != label(a)
        loss = ops.maximum(loss * (mask1 * mask2 * mask3), 0.0)
        valid = ops.cast(ops.greater(loss, 1e-16), loss.dtype)
        return ops.sum(loss) / (ops.sum(valid) + 1e-16)

    return triplet_loss


def _build_keras_deeppavlov_triplet_loss_unsqueezed_labels(buggy):
    keras = _keras()
    L = keras.layers
    pairs, labels = _question_answer_pairs()
    length, vocabulary = pairs.shape[2], 60
    # the shared encoder (bilstm_nn with shared weights and max pooling): embedding, BiLSTM, max over time
    encoder = keras.Sequential([keras.Input((length,), dtype="int32"), L.Embedding(vocabulary, 16),
                                L.Bidirectional(L.LSTM(16, return_sequences=True)), L.GlobalMaxPooling1D()])
    both = keras.Input((2, length), dtype="int32")  # context and response of each pair, stacked on axis 1
    emb_c, emb_r = encoder(both[:, 0]), encoder(both[:, 1])
    distances = L.Lambda(lambda t: _pairwise_distances(*t))([emb_c, emb_r])
    model = keras.Model(both, distances)
    y = labels.astype(np.float32).reshape(-1, 1)  # the question number of each pair, as Keras gives it to the loss
    return model, pairs, y, _batch_all_triplet_loss(buggy), keras.optimizers.Adam(learning_rate=1e-3)


CASES = [
    case("fifteenth_keras_simplernn_one_step_per_sample", "keras", "data / sequence layout",
         "https://stackoverflow.com/questions/38294046",
         "A SimpleRNN meant to learn that 0.8 and 0.6 follow a 1 by one and two steps is fitted on the repeated "
         "stream cut into samples of a single time step, (n, 1, 1) inputs against (n, 1) targets, so it never sees "
         "the earlier 1 and predicts the same value for every 0 input.",
         "Lay the data out as whole sequences, (samples, 6 steps, 1) inputs and (samples, 6, 1) targets, and let the "
         "recurrent layer return every step with a one-unit sigmoid output per step.",
         {"input-layout"}, _build_keras_simplernn_one_step_per_sample,
         note="Read from the stored copy of the thread at https://stackoom.com/en/question/2ag1u (stackoom's mirror of "
              "'Simple Recurrent Neural Network input shape': the question and the answer, whose stored code ends after "
              "the SimpleRNN line); taxonomy tag 'wrong shape of input data for a layer (training)', 4.2.1 Tensors and "
              "Inputs. The question: X_train the repeated list 1, 0, 0, 0, 0, 0 formatted as (6000, 1, 1), y_train "
              "1, 0.8, 0.6, 0, 0, 0 as (6000, 1), SimpleRNN(input_dim=1, output_dim=50), Dense(1, sigmoid), mse, "
              "rmsprop; it trains to a loss of about 0.1015 and predicts about 0.21-0.32 where 0.8, 0.6 and 0 are "
              "expected. The answer: the input must be (samples, time steps, dimension); with x_seed [1, 0, 0, 0, 0, "
              "0] and y_seed [1, 0.8, 0.6, 0, 0, 0] repeated for sample_size 256 as (256, 6, 1) and "
              "return_sequences=True the network predicts the sequence. Translated Keras 1 -> Keras 3: input_dim=1 "
              "and output_dim=50 become keras.Input((None, 1)) and SimpleRNN(50); Dense(output_dim=1) becomes "
              "Dense(1); 'rmsprop' is RMSprop at its defaults. Kept: 50 units, the sigmoid output, mse, the two "
              "seeds, 256 samples (the answer's sample_size; the question's 6000 rows are cut to the first 256 of the "
              "same stream). Changed: the answer's per-step output layer is cut off in the stored copy; a one-unit "
              "sigmoid Dense wrapped in TimeDistributed is what its (256, 6, 1) targets and Keras 1 require, and is "
              "written so. Every sample of the fixed twin is the same sequence, as in the answer. The buggy twin "
              "trains (no error) and stalls at the floor of predicting one value for every 0 input (0.285, the mean "
              "of 0.8, 0.6, 0, 0, 0; loss 0.101), as the question reports. expected is a judgement call: "
              "input-layout's title (the model cannot take the inputs as they are laid out) fits only loosely, since "
              "a (n, 1, 1) batch runs, but its fix names (batch, time, features) for recurrent layers, which is the "
              "answer's reshape; cannot-overfit would describe the stall but its fix does not lead to the reshape."),
    case("fifteenth_keras_deeppavlov_triplet_loss_unsqueezed_labels", "keras", "loss / target shape",
         "https://github.com/deepmipt/DeepPavlov/commit/bae243b5",
         "A siamese context-response ranking model's batch-all triplet loss builds its same-label and "
         "different-label masks from the labels as Keras hands them to the loss, (batch, 1) rather than (batch,), "
         "so the masks broadcast over an extra axis, pair the wrong anchors, positives and negatives, and the model "
         "learns no ranking.",
         "Squeeze the labels' trailing axis (K.squeeze(labels, axis=1)) at the top of the triplet loss, so every "
         "mask is indexed by anchor, positive and negative.",
         {"target-shape-broadcast"}, _build_keras_deeppavlov_triplet_loss_unsqueezed_labels,
         note="Read from the repository's snapshot (fetch github:deepmipt/DeepPavlov): git show bae243b5 ('fix: bug "
              "in triplet loss', 17 Sep 2018) restores y_true = K.squeeze(labels, axis=1) in "
              "deeppavlov/models/ranking/siamese_network.py, which an earlier commit of the same morning (5c99019) "
              "had commented out; the parent, which uses the (batch, 1) labels directly, is the buggy program. Also "
              "read at the commit: the config ranking_insurance.json (triplet_loss true, hard_triplets false, margin "
              "0.1, Adam at 1e-3, bilstm network with shared weights and max pooling) and insurance_reader.py (one "
              "training pair per positive answer, labelled with the question's number). Taxonomy tag 'wrong tensor "
              "shape (missing squeeze)', 4.1 Tensors and Inputs. DeepPavlov is a large dialogue toolkit, but the bug "
              "sits in the loss, which is rebuilt at small scale with the same mechanism. Kept: the shared encoder "
              "(embedding, BiLSTM returning sequences, global max pooling), the program's _pairwise_distances "
              "(context-to-response Euclidean distances of the batch from the stacked embeddings, clipped, masked "
              "and square-rooted; the model's output, (batch, batch)), batch_all_triplet_loss and its three masks "
              "written as in the program, margin 0.1, Adam at 1e-3, labels that are question numbers given to the "
              "loss as (batch, 1) (what Keras 2 made of the program's 1-D y for a 2-D output). Changed: 64 synthetic "
              "pairs of 8 tokens over a 60-token vocabulary, 16 questions with 4 pairs each (each question has two "
              "topic tokens that appear in its contexts and responses among filler), instead of InsuranceQA's "
              "200-token texts with fastText embeddings; 16-dimensional embeddings and 16 LSTM units instead of 300; "
              "the program's model takes the context and the response as two inputs, here one (n, 2, 8) input "
              "sliced on axis 1 (the benchmark's batch is one array), and the distances sit in a Lambda layer. 64 "
              "rows, because the buggy mask broadcasts to (batch,)^4 values. In a 200-step check on the whole batch "
              "the buggy twin's loss stays at the margin (0.1005 -> 0.0995) and no context's nearest response "
              "belongs to its question (0 of 64; the loss the fix computes rose from about 0.09 to 0.17), while the "
              "fixed twin's loss falls to 0 with every context's nearest response from its own question. expected "
              "is a judgement call: target-shape-broadcast's title is the mechanism (the targets' shape differs, "
              "and the loss broadcasts it), and its fix names the squeeze; but its fix speaks of giving the targets "
              "the output's shape, while here the output is (batch, batch) distances and the targets must become "
              "(batch,) labels."),
]
