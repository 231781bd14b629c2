"""Seventh held-out set, Keras half: public threads rebuilt as (buggy, fixed) twins, for one final measurement.

Built apart from the other half by the same rule, by someone who read only diagnose's catalogue and never
ran the detectors; how the threads were chosen is in the README, "Seventh held-out set".

Every builder returns (model, x, y, loss, optimizer). Data are scikit-learn's bundled sets or small
synthetic data of the same kind and scale as the thread's (at most 256 rows). ``expected`` was written
from the catalogue's codes, titles and fix sentences only, before any diagnose run;
``check_fresh_fidelity.py --seventh`` trains both twins with plain code to confirm that the buggy twin
shows the thread's symptom and the fixed twin learns.
"""
from __future__ import annotations

import numpy as np

from . import case, data
from .fresh_cases import GH, OUTSIDE, _rng
from .keras_cases import _keras, _sequential


# --- next-word prediction with the word's index as a one-unit target (keras-team/keras#2009) ------

def _next_word_windows(n=128, vocabulary=30, context=5):
    """Windows of ``context`` word indices (1..vocabulary-1, 0 kept for padding) cut from a text in
    which every word is always followed by the same word, and the index of the word that comes next."""
    rng = _rng()
    successor = rng.permutation(np.arange(1, vocabulary))
    following = dict(zip(range(1, vocabulary), successor))
    text = [int(rng.integers(1, vocabulary))]
    while len(text) < n + context:
        text.append(int(following[text[-1]]))
    windows = np.array([text[i:i + context] for i in range(n)], dtype=np.int64)
    return windows, np.array(text[context:context + n], dtype=np.int64)


def _build_keras_next_word_index_target(buggy):
    keras = _keras()
    L = keras.layers
    vocabulary = 30
    x, next_word = _next_word_windows(vocabulary=vocabulary)
    body = [L.Embedding(vocabulary, 16), L.LSTM(32, return_sequences=True), L.Dropout(0.2), L.LSTM(32),
            L.Dropout(0.2)]
    if buggy:  # one linear unit scored against the word's index, as in the thread
        head, y, loss = [L.Dense(1)], next_word.astype(np.float32).reshape(-1, 1), "binary_crossentropy"
    else:  # the reply: one output per word of the vocabulary, one-hot targets
        head, y = [L.Dense(vocabulary, activation="softmax")], data.one_hot(next_word, vocabulary)
        loss = "categorical_crossentropy"
    model = _sequential(keras, x.shape[1:], body + head)
    return model, x, y, loss, keras.optimizers.RMSprop(1e-2)


# --- a time-series transformer whose pooling averages the time axis away (keras-team/keras-io#1813) ---

def _ramps(pairs=64, steps=16):
    """Univariate series (batch, steps, 1): each of ``pairs`` sets of random values appears once sorted
    upwards (class 1) and once downwards (class 0), so only the order of the values tells the classes apart."""
    values = np.sort(_rng().normal(size=(pairs, steps)), axis=1)
    series = np.concatenate([values, values[:, ::-1]])[..., None].astype(np.float32)
    labels = np.concatenate([np.ones(pairs), np.zeros(pairs)]).astype(np.int64)
    return series, labels


def _transformer_encoder(keras, x, head_size, heads, ff_dim, dropout):
    """The keras.io example's encoder block: attention and a 1x1-convolution feed-forward part, each with
    layer normalisation and a residual connection; the last convolution gives back x's one channel."""
    L = keras.layers
    attended = L.MultiHeadAttention(key_dim=head_size, num_heads=heads, dropout=dropout)(
        L.LayerNormalization(epsilon=1e-6)(x), L.LayerNormalization(epsilon=1e-6)(x))
    x = x + L.Dropout(dropout)(attended)
    fed = L.Conv1D(ff_dim, 1, activation="relu")(L.LayerNormalization(epsilon=1e-6)(x))
    fed = L.Conv1D(x.shape[-1], 1)(L.Dropout(dropout)(fed))
    return x + fed


def _build_keras_series_pooled_over_time(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _ramps()
    inputs = keras.Input(x.shape[1:])
    hidden = _transformer_encoder(keras, inputs, head_size=16, heads=2, ff_dim=4, dropout=0.25)
    # (batch, 16 steps, 1 channel): channels_last averages the 16 steps into one number per series;
    # channels_first (the fix) averages the single channel away and keeps the 16 steps
    hidden = L.GlobalAveragePooling1D(data_format="channels_last" if buggy else "channels_first")(hidden)
    hidden = L.Dropout(0.4)(L.Dense(32, activation="relu")(hidden))
    outputs = L.Dense(2, activation="softmax")(hidden)
    model = keras.Model(inputs, outputs)
    return model, x, y, "sparse_categorical_crossentropy", keras.optimizers.Adam(1e-3)


# --- a CNN on 16 features ending in one softmax unit under sparse cross-entropy (Stack Overflow 44151760) ---

def _build_keras_one_softmax_unit_sparse_labels(buggy):
    keras = _keras()
    L = keras.layers
    features, labels = data.breast_cancer(128)
    x = data.standardise(features[:, :16]).reshape(-1, 16, 1, 1)  # 16 features as a 16x1 one-channel image
    body = [L.Conv2D(64, 1, activation="relu"), L.MaxPooling2D((1, 1)), L.Conv2D(32, 1, activation="relu"),
            L.MaxPooling2D((1, 1)), L.Flatten(), L.Dense(128, activation="relu"), L.Dense(64, activation="relu")]
    if buggy:  # one softmax unit scored by sparse categorical cross-entropy against labels 0 and 1
        head, y, loss = L.Dense(1, activation="softmax"), labels.astype(np.int64), "sparse_categorical_crossentropy"
    else:  # the accepted answer: a binary loss on one sigmoid unit
        head, y, loss = L.Dense(1, activation="sigmoid"), labels.reshape(-1, 1), "binary_crossentropy"
    model = _sequential(keras, x.shape[1:], body + [head])
    return model, x, y, loss, keras.optimizers.Adam(1e-3)


# --- a stacked LSTM whose last layer still returns sequences (newbe.dev copy of a Stack Overflow thread) ---

def _keras2_target_checked_mse(keras):
    """Mean squared error that first checks the target's shape against the output's, as Keras 2's fit did
    ("expected dense_1 to have 3 dimensions, but got array with shape (118, 1)"); Keras 3 broadcasts instead."""

    def mse(y_true, y_pred):
        # Keras 3 has already expanded a (batch, 1) target to the output's rank here, so compare whole shapes
        if tuple(y_true.shape[1:]) != tuple(y_pred.shape[1:]):
            raise ValueError(f"Error when checking target: expected the output's shape {tuple(y_pred.shape[1:])} "
                             f"per sample, but got targets of shape {tuple(y_true.shape[1:])}")
        return keras.losses.mean_squared_error(y_true, y_pred)

    return mse


def _build_keras_lstm_stack_returns_sequences(buggy):
    keras = _keras()
    L = keras.layers
    x = _rng().normal(size=(128, 12, 2)).astype(np.float32)
    y = x[:, :, 0].mean(axis=1, keepdims=True)  # one number per sequence, from all of its steps
    # the bug: the second LSTM keeps return_sequences=True, so Dense(1) gives one output per time step
    layers = [L.LSTM(16, return_sequences=True), L.LSTM(16, return_sequences=buggy), L.Dense(1)]
    model = _sequential(keras, x.shape[1:], layers)
    return model, x, y, _keras2_target_checked_mse(keras), keras.optimizers.Adam(1e-2)


# --- a mask model whose loss thresholds the prediction first (xiaobeizi.cn copy of a Stack Overflow thread) ---

def _stroke_mask_batch(n=128):
    """8x8 digits scaled to [0, 1] (batch, 8, 8, 1) and their stroke masks: 1 where the pixel is darker than 0.5."""
    images, _ = data.digits(n)
    x = (images / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)
    return x, (x > 0.5).astype(np.float32)


def _build_keras_thresholded_mask_loss(buggy):
    keras = _keras()
    L = keras.layers
    ops = keras.ops
    x, masks = _stroke_mask_batch()
    layers = [L.Conv2D(16, 3, padding="same", activation="relu"), L.Conv2D(16, 3, padding="same", activation="relu"),
              L.Conv2D(1, 1, activation="sigmoid")]
    model = _sequential(keras, x.shape[1:], layers)

    def thresholded_mse(y_true, y_pred):  # the bug: the 0/1 mask made from y_pred has no gradient
        thresholded = ops.where(y_pred >= 0.5, 1.0, 0.0)
        return ops.mean(ops.square(y_true - thresholded), axis=-1)

    # the answer: train on the continuous sigmoid output and threshold only the predictions
    return model, x, masks, thresholded_mse if buggy else "mse", keras.optimizers.Adam(1e-2)


# --- digits reshaped channels-first for a channels-last Conv2D (shangmayuan.com blog) -------------

def _build_keras_digits_channels_first(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.digits()
    x = x / 16.0
    y = data.one_hot(labels, 10)
    head = [L.Conv2D(32, 5, activation="relu"), L.MaxPooling2D(2), L.Flatten(), L.Dense(10, activation="softmax")]
    if buggy:
        # (n, 1, 8, 8): Keras reads it as 1 row of 8 columns with 8 channels, and a 5x5 kernel no longer fits.
        # The post's model declared input_shape=(1, 28, 28); Keras 3 would refuse that at construction, so the
        # model is left to take its shape from the first batch, where the same error is raised in the forward pass.
        model = keras.Sequential(head)
        x = x.reshape(len(x), 1, 8, 8)
    else:
        model = _sequential(keras, (8, 8, 1), head)
        x = x.reshape(len(x), 8, 8, 1)
    return model, x.astype(np.float32), y, "categorical_crossentropy", keras.optimizers.Adam(1e-2)


# --- news topics numbered from 1 by a Tokenizer, five softmax units (stackoom.com copy of a Stack Overflow thread) ---

def _topic_sequences(n=128, vocabulary=60, length=12, topics=5, keywords=4):
    """Padded word-index sequences (0 kept for padding) for ``topics`` topics: each text mixes common words
    with a few of its topic's keywords, and its topic is numbered from 1, as Keras's Tokenizer numbers
    the label words."""
    rng = _rng()
    common = np.arange(1 + topics * keywords, vocabulary)
    topic = rng.integers(0, topics, size=n)
    x = rng.choice(common, size=(n, length))
    for i, t in enumerate(topic):
        slots = rng.choice(length, size=3, replace=False)
        x[i, slots] = 1 + t * keywords + rng.integers(0, keywords, size=3)
    return x.astype(np.int64), (topic + 1).astype(np.int64)


def _build_keras_one_based_topic_labels(buggy):
    keras = _keras()
    L = keras.layers
    vocabulary, topics = 60, 5
    x, labels = _topic_sequences(vocabulary=vocabulary, topics=topics)
    y = labels if buggy else labels - 1  # the answer: subtract 1 so the topics are numbered 0..4
    model = _sequential(keras, x.shape[1:], [L.Embedding(vocabulary, 16), L.GlobalAveragePooling1D(),
                                             L.Dense(24, activation="relu"), L.Dense(topics, activation="softmax")])
    return model, x, y, "sparse_categorical_crossentropy", keras.optimizers.Adam(1e-2)


# --- 29 tabular features fed to Conv1D without a channel axis (fatal001.com copy of a Stack Overflow thread) ---

def _build_keras_conv1d_features_without_channel_axis(buggy):
    keras = _keras()
    L = keras.layers
    features, labels = data.breast_cancer(128)
    x = data.standardise(features[:, :29]).astype(np.float32)
    if not buggy:  # the answer: one channel per feature, (samples, 29, 1)
        x = x.reshape(len(x), 29, 1)
    # Keras 3 adds a missing trailing axis of size 1 itself when the model declares input_shape=(29, 1), which
    # Keras 2 did not; the model is left to take its shape from the first batch (in both twins), so the
    # buggy twin's Conv1D meets the 2-D batch and raises as in the thread.
    model = keras.Sequential([L.Conv1D(32, 3, activation="relu"), L.Flatten(), L.Dense(1, activation="sigmoid")])
    return model, x, labels.reshape(-1, 1).astype(np.float32), "binary_crossentropy", keras.optimizers.Adam(1e-3)


# --- Dense layers on (128, 2) sequences with no Flatten (shijianchuo.net copy of a Stack Overflow thread) ---

def _build_keras_dense_stack_sequence_no_flatten(buggy):
    keras = _keras()
    L = keras.layers
    rng = _rng()
    steps = 16
    w, phase = rng.uniform(0.2, 0.6, size=(128, 1)), rng.uniform(0, 2 * np.pi, size=(128, 1))
    t = np.arange(steps + 1)[None, :]
    series = np.stack([np.sin(w * t + phase), np.cos(w * t + phase)], axis=-1).astype(np.float32)
    x, next_step = series[:, :steps], series[:, steps]  # (128, 16, 2) and the step after it, (128, 2)
    body = [L.Dense(50, activation="relu", kernel_initializer="he_normal"),
            L.Dense(20, activation="relu", kernel_initializer="he_normal"),
            L.Dense(5, activation="relu", kernel_initializer="he_normal")]
    if buggy:  # as in the thread: Dense acts on the last axis only, so the output keeps all 16 steps
        layers, y = body + [L.Dense(2)], next_step[:, None, :]
    else:  # the answer: a Flatten before the last Dense layer, one (2,) target per sequence
        layers, y = body + [L.Flatten(), L.Dense(2)], next_step
    model = _sequential(keras, x.shape[1:], layers)
    return model, x, y, _keras2_target_checked_mse(keras), keras.optimizers.Adam(1e-2)


# --- three classes into one sigmoid unit under binary cross-entropy (newbedev.com copy of a Stack Overflow thread) ---

def _build_keras_three_classes_one_sigmoid(buggy):
    keras = _keras()
    L = keras.layers
    features, labels = data.iris(120)
    x = data.standardise(features).astype(np.float32)
    body = [L.Dense(64, activation="relu"), L.Dropout(0.5)]
    if buggy:  # as in the thread: class_mode='binary' labels 0, 1, 2 into Dense(1, sigmoid) and binary cross-entropy
        head, loss = [L.Dense(1, activation="sigmoid")], "binary_crossentropy"
        y = labels.astype(np.float32).reshape(-1, 1)
    else:  # the answer: Dense(3, softmax), categorical cross-entropy, one-hot (class_mode='categorical') targets
        head, y, loss = [L.Dense(3, activation="softmax")], data.one_hot(labels, 3), "categorical_crossentropy"
    model = _sequential(keras, x.shape[1:], body + head)
    return model, x, y, loss, keras.optimizers.RMSprop(1e-3)


CASES = [
    case("seventh_keras_next_word_index_target", "keras", "output layer / targets",
         GH + "keras-team/keras/issues/2009",
         "A next-word model (Embedding, two LSTMs, one linear output unit) is trained on the index of the next "
         "word as its single target under binary cross-entropy; the loss sits at a large negative value from "
         "the first epoch and the model learns nothing.",
         "Give the model one output per word of the vocabulary (softmax) and one-hot targets of shape "
         "(batch, vocabulary) under categorical cross-entropy (the reply the poster thanked).",
         {"output-width-mismatch", "labels-not-class-indices"}, _build_keras_next_word_index_target,
         note="The thread shows loss='mse' with binary_crossentropy commented out, but reports a steady loss of "
              "-5444, which only binary cross-entropy on targets far above 1 gives; the case uses binary "
              "cross-entropy with the linear unit, as the reported loss shows it ran. The books' 20k-word text "
              "is rebuilt as 128 five-word windows from a 29-word text in which each word is always followed by "
              "the same word; the model shrinks from 128-dim embeddings and two 256-unit LSTMs to 16 and 32, "
              "and RMSprop's rate is raised to 1e-2 so the fixed twin learns in a few hundred steps. "
              "output-width-mismatch's fix (as wide as the number of classes, labels 0..K-1) and "
              "labels-not-class-indices' fix (make the output as wide as the number of classes) both lead to "
              "the vocabulary-wide softmax."),
    case("seventh_keras_series_pooled_over_time", "keras", "model structure",
         GH + "keras-team/keras-io/issues/1813",
         "In the keras.io time-series transformer the encoder's output is (batch, 500 steps, 1 channel) and "
         "GlobalAveragePooling1D(data_format='channels_last') averages the 500 steps into one number per "
         "series, so the classifier head sees a single value and accuracy stays at chance for every epoch.",
         "Pool over the single channel instead (data_format='channels_first'), so the head receives the 500 "
         "per-step values (the commenter's fix, the one in the published example).",
         set(), _build_keras_series_pooled_over_time,
         note=OUTSIDE + "no catalogue code names a pooling layer that averages away the axis the information is "
              "on (here time, with one channel left); missing-flatten is about feature maps reaching a Dense "
              "layer, the opposite case. The same report is keras-io#1908, #2395 and keras#20627 (fixed in "
              "keras-io PR#2006). FordA's 500-step engine-noise series are rebuilt as 64 sets of 16 random "
              "values, each sorted upwards (class 1) and downwards (class 0): the example has no positional "
              "encoding and 1x1 convolutions, so after pooling over time the two members of a pair give the "
              "same output. One encoder block (head size 16, 2 heads, feed-forward 4) and one 32-unit head "
              "layer instead of 4 blocks (head size 256, 4 heads) and 128 units; Adam at 1e-3 instead of 1e-4 "
              "so the fixed twin learns in a few hundred steps."),
    case("seventh_keras_one_softmax_unit_sparse_labels", "keras", "output layer / loss",
         "https://stackoverflow.com/questions/44151760",
         "A small CNN on 16 features arranged as a 16x1 image ends in Dense(1, activation='softmax') and is trained "
         "with sparse categorical cross-entropy on binary labels; training stops with 'Received a label value of 1 "
         "which is outside the valid range of [0, 1)'.",
         "Use a binary loss on one sigmoid unit (the accepted answer), or make the last layer as wide as the number "
         "of classes for the sparse loss (the other answers).",
         {"one-unit-softmax", "labels-not-class-indices", "output-width-mismatch"},
         _build_keras_one_softmax_unit_sparse_labels,
         note="The stored copy of the question drops the compile line and shows no Flatten between the last "
              "pooling layer and Dense(128); the error the poster quotes comes from the sparse softmax "
              "cross-entropy on a one-unit output, so the case uses that loss and a Flatten. The poster's data "
              "(16 features, binary classes) are rebuilt as the first 16 standardised features of 128 breast-cancer "
              "rows, shaped (16, 1, 1). one-unit-softmax's fix names both of the answers' fixes; "
              "labels-not-class-indices' and output-width-mismatch's fixes (make the output as wide as the number "
              "of classes) lead to the wider-output fix."),
    case("seventh_keras_lstm_stack_returns_sequences", "keras", "model structure / output shape",
         "https://newbe.dev/error-when-checking-target-expected-dense-1-to-have-3-dimensions-but-got-array-with-shape-118-1",
         "A stacked-LSTM regressor keeps return_sequences=True on its second LSTM, so Dense(1) gives one output per "
         "time step (batch, 45, 1) against one target per sequence (batch, 1), and fit stops with 'expected dense_1 "
         "to have 3 dimensions, but got array with shape (118, 1)'.",
         "Set return_sequences=False on the last LSTM so it returns one vector per sequence (the answer); another "
         "reply puts a Flatten before the last Dense layer instead.",
         {"target-shape-broadcast", "missing-flatten"}, _build_keras_lstm_stack_returns_sequences,
         note="The page is a copy of a Stack Overflow question and its answers; the copy shows no post id. Keras 3 "
              "no longer raises here (its mean squared error broadcasts the (batch, 1) target over the time "
              "steps), so the case writes Keras 2's target check out in the loss, identically in both twins, as "
              "the sixth set did for a similar change. Two 512-unit LSTMs on 45 steps of 2 features shrink to two "
              "16-unit LSTMs on 12 steps; 118 windows become 128 synthetic windows whose target is the mean of the "
              "first feature over the window. target-shape-broadcast's title names the mismatch and its fix asks "
              "for the output's and the target's shapes to agree; missing-flatten's fix (a Flatten before the "
              "Dense layer) is the other reply's fix."),
    case("seventh_keras_thresholded_mask_loss", "keras", "loss",
         "http://xiaobeizi.cn/x/6JuuQQjucd",
         "A Keras model that predicts an image mask gets a custom loss that first rounds the prediction to 0 or 1 "
         "with tf.where(y_pred >= 0.5, 1.0, 0.0) and then takes the squared error, and training stops with 'No "
         "gradients provided for any variable'.",
         "Train on the continuous (sigmoid) output with the plain squared error and threshold only the predictions "
         "(the answer).",
         {"no-gradient-path", "zero-gradients"}, _build_keras_thresholded_mask_loss,
         note="The page is a Chinese copy of a Stack Overflow question and its answer; the copy shows no post id and "
              "not the model, only that it segments images into a 0/1 mask and was first trained with mean squared "
              "error. Rebuilt as a three-layer convolutional mask model on 128 8x8 digits whose mask is the stroke "
              "(pixels above 0.5). no-gradient-path's title names the bug (no gradient reaches the weights) and its "
              "fix asks for one unbroken chain of tensors from input to loss; zero-gradients' fix (walk back from "
              "the output to the first place that passes no gradient) also leads to the thresholding; both are "
              "judgement calls, as neither fix sentence names a threshold."),
    case("seventh_keras_digits_channels_first", "keras", "data / input layout",
         "https://www.shangmayuan.com/a/b1a63da65f574f88aac775a7.html",
         "MNIST images are reshaped to (n, 1, 28, 28), channels first, for a Conv2D model on the TensorFlow backend, "
         "whose layers take channels last, so the 5x5 convolution meets an input one row high and model building "
         "stops with 'Negative dimension size caused by subtracting 5 from 1'.",
         "Reshape the images to (n, 28, 28, 1) and declare input_shape=(28, 28, 1), channels last (the post's second "
         "fix; its first switches Keras to channels-first ordering instead).",
         {"input-layout"}, _build_keras_digits_channels_first,
         note="A blog post in which the author reports the error from their own MNIST program and the fix that "
              "worked. 28x28 MNIST images become 128 8x8 digits (pixels / 16), so the 5x5 kernel still cannot fit "
              "a one-row input; the convolution-pool-dense model, one-hot targets and categorical cross-entropy "
              "follow the usual MNIST tutorial the post builds on. input-layout's fix names this layout for Keras "
              "convolutions ((batch, height, width, channels))."),
    case("seventh_keras_one_based_topic_labels", "keras", "targets",
         "https://stackoom.com/en/question/4F1Ib",
         "A news-topic classifier (Embedding, GlobalAveragePooling1D, Dense(24), softmax) is trained with sparse "
         "categorical cross-entropy on topic labels that Keras's Tokenizer numbered 1 to 5; with five output units, "
         "as many as there are topics, accuracy stays at 0.",
         "Subtract 1 from the labels so the topics are numbered 0 to 4 and keep Dense(5) (the answer; the course "
         "notebook instead used Dense(6), leaving class 0 unused).",
         {"labels-not-class-indices", "output-width-mismatch"}, _build_keras_one_based_topic_labels,
         note="The page is a copy of a Stack Overflow question and its answer; the copy shows no post id "
              "(pullrequest.ru/13662601 holds a Russian copy of the poster's own follow-up, which reports that "
              "training succeeded with five units once every label was reduced by 1). On the CPU the TensorFlow "
              "backend raises for the label 5 instead of training at zero accuracy as on the thread's Colab "
              "machine, as in fourth_keras_signed_class_labels_sparse. The BBC news texts are rebuilt as 128 "
              "twelve-word sequences over 60 word indices, each with three of its topic's four keywords; Adam at "
              "1e-2 instead of the default rate so the fixed twin learns in a few hundred steps. "
              "labels-not-class-indices' fix names this one (map labels 1..K onto 0..K-1); output-width-mismatch's "
              "fix (as wide as the number of classes, labels 0..K-1) also leads to renumbering the labels."),
    case("seventh_keras_conv1d_features_without_channel_axis", "keras", "data / input layout",
         "http://fatal001.com/tensorflow/50872958595547719616.html",
         "A Conv1D model declared with input_shape=(29, 1) is fitted on a (4000, 29) array of 29 features per "
         "sample, and fit stops because the layer expects 3 dimensions and receives 2.",
         "Reshape the data to (samples, 29, 1), one channel per feature, to match input_shape=(29, 1) (the "
         "answer).",
         {"input-layout"}, _build_keras_conv1d_features_without_channel_axis,
         note="The page is a Chinese copy of a Stack Overflow question and its answer; the copy shows no post id. "
              "Keras 3 no longer raises when the model declares input_shape=(29, 1) (it adds the missing axis "
              "itself), so neither twin declares an input shape and the model is built from the first batch, "
              "where the buggy twin's Conv1D raises the thread's error (expected min_ndim=3, found ndim=2), as "
              "seventh_keras_digits_channels_first does for a similar change. The poster's 4000 rows of 29 features "
              "are rebuilt as the first 29 standardised features of 128 "
              "breast-cancer rows with their binary labels; the answer's Conv1D(32, 3) is followed by Flatten and "
              "one sigmoid unit, since the thread does not show the rest of the model. input-layout's title names "
              "inputs the model cannot take as laid out (shape, axis order or dtype), and its fix asks for the "
              "layout the model was built for."),
    case("seventh_keras_dense_stack_sequence_no_flatten", "keras", "model structure / output shape",
         "https://shijianchuo.net/question/52681601.html",
         "A feed-forward next-step predictor stacks Dense layers on sequences of shape (128, 2) with targets of "
         "shape (1, 2); Dense acts on the last axis only, so the output stays (128, 2) per sample and fit stops "
         "with 'expected dense_4 to have shape (128, 2) but got array with shape (1, 2)'.",
         "Put a Flatten layer before the last Dense layer (or a pooling layer) so the model gives one (2,) output "
         "per sequence, and give targets of shape (2,) (the answer).",
         {"missing-flatten", "target-shape-broadcast"}, _build_keras_dense_stack_sequence_no_flatten,
         note="The page is a Chinese copy of a Stack Overflow question and its answer (likecs.com/ask-2374417.html "
              "holds another copy of the answer); the copies show no post id. Keras 3 no longer raises here (its "
              "mean squared error broadcasts the (1, 2) target over the 128 steps), so the case writes Keras 2's "
              "target check out in the loss, identically in both twins, as seventh_keras_lstm_stack_returns_"
              "sequences does. The poster's sequences are rebuilt as 128 pairs (sine, cosine) of 16 steps with "
              "random frequency and phase, the target being the 17th step; the Dense(50, 20, 5, 2) stack and "
              "he_normal initialisers are the thread's, and Adam at 1e-2 lets the fixed twin learn in a few "
              "hundred steps. missing-flatten's fix (a Flatten before the Dense layer) is the answer's fix; "
              "target-shape-broadcast's title names the mismatch between output and target shapes."),
    case("seventh_keras_three_classes_one_sigmoid", "keras", "output layer / loss",
         "https://newbedev.com/cnn-with-keras-accuracy-not-improving",
         "A three-class image CNN ends in Dense(1) with a sigmoid and is trained with binary cross-entropy on "
         "labels 0, 1 and 2 from the generators, and its accuracy does not improve.",
         "Make the last layer Dense(3) with a softmax, train with categorical cross-entropy, and have the generators "
         "give one-hot targets (class_mode='categorical') (the answer).",
         {"binary-loss-on-one-class-rows", "output-width-mismatch"}, _build_keras_three_classes_one_sigmoid,
         note="The page is a copy of a Stack Overflow thread under the question's title; the copy shows no post id and "
              "only the answer, which gives a corrected version of the question's model (three Conv2D blocks, "
              "Dense(64), Dropout(0.5)) and names the three classes, the sigmoid output, the binary cross-entropy "
              "and the generators' class mode. The images are rebuilt as "
              "the 4 standardised iris features of 120 rows (three classes) with the same Dense(64)-Dropout head, "
              "without the convolutions. binary-loss-on-one-class-rows' fix (K softmax units with categorical "
              "cross-entropy for one class per sample) is the answer's; output-width-mismatch's fix (as wide as "
              "the number of classes) is its 'Dense(1) should be Dense(3)'."),
]
