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
from .fresh_cases import GH, _rng
from .keras_cases import _keras, _sequential
from .seventh_keras_cases import _topic_sequences


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


# --- an embedding table smaller than the vocabulary, loss NaN without an error (keras-team/keras#10694) ---

def _build_keras_sequence_embedding_too_small(buggy):
    keras = _keras()
    L = keras.layers
    vocabulary, topics = 60, 5
    x, labels = _topic_sequences(vocabulary=vocabulary, topics=topics)  # word indices 1..59
    # the bug: 40 rows for 60 word indices; the fix gives the table a row for every index the data hold
    table = 40 if buggy else vocabulary
    model = _sequential(keras, x.shape[1:], [L.Embedding(table, 16), L.LSTM(16),
                                             L.Dense(topics, activation="softmax")])
    return model, x, labels - 1, "sparse_categorical_crossentropy", keras.optimizers.Adam(1e-2)


# --- a model wrapped in a Lambda layer, whose weights are then never trained (keras-team/keras-applications#168) ---

def _build_keras_model_wrapped_in_lambda(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _digit_rows()
    inner = keras.Sequential([keras.Input(x.shape[1:]), L.Bidirectional(L.LSTM(16)), L.Dense(6, activation="softmax")])
    if buggy:  # as in the thread: the recurrent model is called inside a Lambda layer of the model that is trained
        inputs = keras.Input(x.shape[1:])
        model = keras.Model(inputs, L.Lambda(lambda t: inner(t))(inputs))
    else:  # the poster's working version: train the recurrent model itself
        model = inner
    return model, x, labels, "sparse_categorical_crossentropy", keras.optimizers.Adam(1e-2)


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
    case("eighth_keras_sequence_embedding_too_small", "keras", "model structure / embedding",
         GH + "keras-team/keras/issues/10694",
         "A tf.keras sequence model fed by tf.data has an Embedding layer with fewer rows than there are token "
         "indices in the data; training raises no error and the loss goes to NaN.",
         "Give the Embedding layer at least as many rows as there are token indices (input_dim = largest index + 1), "
         "as the report's title and text name the cause.",
         {"embedding-too-small"}, _build_keras_sequence_embedding_too_small,
         note="The report names its own cause (an embedding with 100 rows and more tokens than that) and its symptom "
              "(loss NaN, no error), but shows no code: the sequence model is rebuilt as an Embedding-LSTM(16)-softmax "
              "topic classifier on 128 twelve-word sequences over 59 word indices (the seventh set's topic "
              "sequences, labels 0-4), with a 40-row table in the buggy twin. On the CPU the TensorFlow backend "
              "raises for an index outside the table, where the thread's setup trained on without an error until "
              "the loss went NaN, as in fourth_keras_embedding_size_max_index (a book recommender); the cause and "
              "the fix are the same. Adam at 1e-2 so the fixed twin learns in a few hundred steps. "
              "embedding-too-small's title and fix name this bug."),
    case("eighth_keras_model_wrapped_in_lambda", "keras", "model structure / untracked weights",
         GH + "keras-team/keras-applications/issues/168",
         "A Bidirectional-LSTM model is built inside a function that a Lambda layer calls, and the Sequential model "
         "that is trained holds only that Lambda layer; the weights inside it are not the trained model's weights, "
         "so training starts from a worse accuracy and stays there.",
         "Train the recurrent model itself (add its layers to the trained model) instead of wrapping it in a Lambda "
         "layer, or write a custom Layer for anything with weights (the poster's own follow-up).",
         {"unregistered-parameters"}, _build_keras_model_wrapped_in_lambda,
         note="The poster's wrapper creates the inner Sequential inside the function the Lambda layer calls; Keras 2 "
              "called it once while building the graph, whereas Keras 3 calls it at every step and refuses to create "
              "variables there, so the rebuild creates the inner model once, outside the Lambda, and only calls it "
              "inside: its weights are still used by the trained model and still not among its weights. The poster's "
              "unnamed sequence task is rebuilt as 102 digits of classes 0-5 read row by row (8 steps of 8 "
              "pixels), LSTM(100) shrinks to LSTM(16) and a softmax layer is added inside the wrapped model; Adam "
              "at 1e-2 so the fixed twin learns in a few hundred steps. unregistered-parameters' title names the "
              "bug (the model uses weights it does not register, so no optimizer trains them); its Keras fix "
              "sentence speaks of add_weight in a custom layer, which is the poster's second option."),
]


# --- Added by a second person (who read the first person's record), appended below the first three cases ---

def _post_padded_reviews(n=128, length=200, vocabulary=80, keywords=6, shortest=10, longest=40):
    """Word-index "reviews" of 10-40 words, post-padded with 0 to ``length`` steps as TextVectorization pads
    them; three words of each review come from its sentiment's keywords (indices 1-6 negative, 7-12
    positive), the rest from common words. Labels (n, 1) in {0, 1}."""
    rng = _rng()
    common = np.arange(1 + 2 * keywords, vocabulary)
    label = rng.integers(0, 2, size=n)
    x = np.zeros((n, length), dtype=np.int64)
    for i in range(n):
        size = int(rng.integers(shortest, longest + 1))
        words = rng.choice(common, size=size)
        words[rng.choice(size, size=3, replace=False)] = 1 + label[i] * keywords + rng.integers(0, keywords, size=3)
        x[i, :size] = words  # the padding comes after the words
    return x, label.astype(np.float32).reshape(-1, 1)


# --- an LSTM reading post-padded token sequences without a mask (keras-team/keras-io#2044) ---

def _build_keras_lstm_post_padded_unmasked(buggy):
    keras = _keras()
    L = keras.layers
    vocabulary = 80
    x, y = _post_padded_reviews(vocabulary=vocabulary)
    # the bug: the LSTM runs on through the trailing padding; the fix (the maintainer's reply): mask_zero=True
    embedding = L.Embedding(vocabulary, 16, mask_zero=not buggy)
    model = _sequential(keras, x.shape[1:], [embedding, L.LSTM(16), L.Dense(1, activation="sigmoid")])
    return model, x, y, "binary_crossentropy", keras.optimizers.Adam()


CASES += [
    case("eighth_keras_lstm_post_padded_unmasked", "keras", "model structure / padding and masking",
         GH + "keras-team/keras-io/issues/2044",
         "The keras.io text-classification example with its Conv1D and pooling layers replaced by an LSTM reads "
         "reviews that TextVectorization pads with zeros after the words, up to 500 steps, through an Embedding "
         "without a mask; the LSTM's last state is taken after the padding and accuracy stays near 0.50 "
         "(Keras 3.8).",
         "Create the Embedding with mask_zero=True so that the LSTM skips the padded steps (the maintainer's reply; "
         "the poster confirmed that the model then learns).",
         {"rnn-too-many-steps"}, _build_keras_lstm_post_padded_unmasked,
         note="The poster traced the failure to TextVectorization's post-padding (go_backwards=True also made the "
              "model learn); the maintainer's reply proposed mask_zero=True and the poster's follow-up says it works. "
              "The same poster filed the report again as keras-team/keras#20898. The IMDB reviews and 500-step "
              "vectorizer are rebuilt as 128 synthetic reviews of 10-40 word indices (three sentiment keywords each, "
              "labels 0/1) post-padded to 200 steps; Embedding(80, 16), LSTM(16) and a sigmoid unit under binary "
              "cross-entropy with Adam's defaults, as in the example. rnn-too-many-steps is a judgement call: its "
              "title names the mechanism (the words are the early steps of a long sequence whose gradient does not "
              "reach them) and its fix asks for a shorter sequence for the recurrent layer, which masking the "
              "padding gives; no code's fix names mask_zero."),
]
