"""Fourteenth held-out set, part f: Stack Overflow programs of SFData (TENSFA), each rebuilt from the poster's
program and the researchers' repair as (buggy, fixed) twins, for one measurement.

The entries were taken in a fixed shuffled order (`thirteenth_frame.txt`, entries 111-120) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Fourteenth held-out
set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import case, data
from .fresh_cases import _rng
from .held_out_cases import SO
from .keras_cases import _keras, _sequential


# --- entry 111: eleven points given as one row of 11 features to a Dense(1) declared for 1 input (SO 59446800) ----

def _build_keras_dense_input_shape_1_points_in_one_row(buggy):
    keras = _keras()
    L = keras.layers
    # the program's own data: y = 2x - 1 at x = 0..10, written as one row of 11 values each
    x = np.arange(11, dtype=np.float32).reshape(1, 11)
    y = (2.0 * x - 1.0).astype(np.float32)
    if not buggy:
        # SFData's repair: one sample per point, x.reshape(-1, 1) and y.reshape(-1, 1)
        x, y = x.reshape(-1, 1), y.reshape(-1, 1)
    # the bug (buggy twin): the model is declared for one feature per sample and receives one sample of 11 features
    model = _sequential(keras, (1,), [L.Dense(1)])
    return model, x, y, "mean_squared_error", keras.optimizers.Adam(0.1)


# --- entry 113: integer labels for a softmax regression whose labels placeholder is one-hot (SO 47482082, TF 1) ----

def _build_keras_tfrecord_softmax_regression_integer_labels(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = data.digits(256)
    keep = labels < 5  # five classes, as the program's (None, 5) labels placeholder
    x = (images[keep] / 16.0).astype(np.float32)
    labels = labels[keep].astype(np.int32)
    # the program's W and b start at zero, y = xW + b are the logits of softmax_cross_entropy_with_logits
    model = _sequential(keras, (x.shape[1],), [L.Dense(5, kernel_initializer="zeros", bias_initializer="zeros")])
    # the bug: one integer class per sample for a loss that takes a one-hot row per sample;
    # SFData's repair: labels = np.eye(5)[labels]
    y = labels if buggy else np.eye(5, dtype=np.float32)[labels]
    return (model, x, y, keras.losses.CategoricalCrossentropy(from_logits=True),
            keras.optimizers.Adam(0.001))


# --- entry 114: a CNN that reshapes its feature maps to the input image's width (SO 45212271, TF 1) ---------------

class _TwoConvNet(nn.Module):
    """The program's network: conv 5x5 (32) -> ReLU -> max pool 2 -> conv 5x5 (64) -> ReLU -> max pool 2 ->
    reshape to (-1, flat) -> fully connected (1024) -> ReLU -> dropout -> output, with ``flat`` the width the
    program gives both the reshape and the fully connected layer's weight."""

    def __init__(self, flat, classes):
        super().__init__()
        self.flat = flat
        self.conv1 = nn.Conv2d(3, 32, 5, padding=2)
        self.conv2 = nn.Conv2d(32, 64, 5, padding=2)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(flat, 1024)
        self.drop = nn.Dropout(0.2)  # keep_rate 0.8
        self.out = nn.Linear(1024, classes)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = x.reshape(-1, self.flat)
        return self.out(self.drop(torch.relu(self.fc(x))))


def _build_torch_cnn_reshape_to_image_width_224(buggy):
    torch.manual_seed(0)
    images, labels = data.digits(128)
    grey = (images / 16.0).reshape(-1, 1, 8, 8)
    x = torch.as_tensor(np.repeat(grey, 3, axis=1), dtype=torch.float32)  # three colour channels, as the program's
    y = torch.as_tensor(data.one_hot(labels, 10))  # one-hot float labels, as the program feeds them
    side = 8
    # the bug: the feature maps after two 2x2 poolings, (side/4)^2 x 64 values per image, are reshaped to the input
    # image's width side^2 x 3 (224*224*3 in the program), and the fully connected weight is sized to match;
    # SFData's repair: reshape to (side/4)^2 x 64 (56*56*64) and size the weight from it
    flat = side * side * 3 if buggy else (side // 4) ** 2 * 64
    model = _TwoConvNet(flat, 10)
    return model, x, y, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters())


# --- entry 116: an embedding text classifier given integer labels for categorical cross-entropy (SO 65215572) -----

def _tokens_16_topics(n=128, maxlen=100, max_words=100, classes=16):
    """``n`` padded sequences of ``maxlen`` token indices below ``max_words`` and one of ``classes`` topics per
    sequence: background tokens from classes + 1 .. max_words - 1, and the topic's own token (topic + 1) written at
    five random positions, so the topic can be read from the sequence."""
    rng = _rng()
    labels = rng.permutation(np.arange(n) % classes).astype(np.int32)
    x = rng.integers(classes + 1, max_words, size=(n, maxlen))
    for i, label in enumerate(labels):
        x[i, rng.choice(maxlen, size=5, replace=False)] = label + 1
    return x.astype(np.int32), labels


def _build_keras_glove_embedding_integer_labels_categorical(buggy):
    keras = _keras()
    L = keras.layers
    max_words, embedding_dim, maxlen, classes = 100, 100, 100, 16
    x, labels = _tokens_16_topics(128, maxlen, max_words, classes)
    model = keras.Sequential([keras.Input((maxlen,), dtype="int32"), L.Embedding(max_words, embedding_dim),
                              L.Flatten(), L.Dense(64, activation="relu"), L.Dense(classes, activation="softmax")])
    # the bug: integer topic labels for categorical cross-entropy; SFData's repair: to_categorical(labels)
    y = labels if buggy else data.one_hot(labels, classes)
    return model, x, y, "categorical_crossentropy", keras.optimizers.RMSprop()


# --- entry 118: a Conv1D sequence classifier given one-hot labels for every time step (SO 56190344) ---------------

def _sequences_with_step_labels(n=128, steps=48, features=20, classes=8):
    """``n`` sequences of ``steps`` x ``features`` uniform values, and a one-hot label for every step, (n, steps,
    classes): the step's class is which of its first ``classes`` features is largest."""
    x = _rng().random((n, steps, features)).astype(np.float32)
    return x, data.one_hot(x[:, :, :classes].argmax(axis=2), classes)


def _build_keras_conv1d_timestep_labels_one_output(buggy):
    keras = _keras()
    L = keras.layers
    n_outputs = 8
    x, step_labels = _sequences_with_step_labels(classes=n_outputs)
    model = _sequential(keras, x.shape[1:], [
        L.Conv1D(filters=64, kernel_size=3, activation="relu"), L.Conv1D(filters=64, kernel_size=3, activation="relu"),
        L.Dropout(0.5), L.MaxPooling1D(pool_size=2), L.Flatten(), L.Dense(100, activation="relu"),
        L.Dense(n_outputs, activation="softmax")])
    # the bug: the targets keep a one-hot label for every time step, (n, steps, 8), for a model with one 8-way
    # output per sequence; SFData's repair: y_train[:, -1, :], the label of the last step
    y = step_labels if buggy else step_labels[:, -1, :]
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam()


# --- entry 119: grey digits loaded as RGB for a CNN declared for one channel (SO 50483715) ------------------------

def _build_keras_flow_from_directory_rgb_into_grey_conv2d(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = data.digits(128)
    # 8x8 digits blown up to 32x32 (each pixel a 4x4 block), scaled to [0, 1] as rescale=1/255 does
    grey = np.kron((images / 16.0).reshape(-1, 8, 8), np.ones((4, 4)))[..., None].astype(np.float32)
    y = (labels < 5).astype(np.float32)  # class_mode='binary': one 0/1 label per image
    model = _sequential(keras, (32, 32, 1), [
        L.Conv2D(32, (3, 3)), L.Activation("relu"), L.MaxPooling2D(pool_size=(2, 2)),
        L.Conv2D(32, (3, 3)), L.Activation("relu"), L.MaxPooling2D(pool_size=(2, 2)),
        L.Conv2D(64, (3, 3)), L.Activation("relu"), L.MaxPooling2D(pool_size=(2, 2)),
        L.Flatten(), L.Dense(64), L.Activation("relu"), L.Dropout(0.5), L.Dense(1), L.Activation("sigmoid")])
    # the bug: the loader's default colour mode gives every grey image three (equal) colour channels, for a model
    # declared for one; SFData's repair: color_mode='grayscale', one channel
    x = np.repeat(grey, 3, axis=-1) if buggy else grey
    return model, x, y, "binary_crossentropy", keras.optimizers.RMSprop()


CASES = [
    case("fourteenth_keras_dense_input_shape_1_points_in_one_row", "keras", "input shape / samples as features",
         SO + "59446800",
         "Eleven (x, y) points of a line are stored as one row of 11 values each, so a Dense(1) model declared for "
         "one input feature is given a single sample with 11 features and a target row of 11 values.",
         "Reshape x and y to (-1, 1), one sample per point with one feature and one target each.",
         {"input-layout", "layer-size-mismatch", "target-shape-broadcast"},
         _build_keras_dense_input_shape_1_points_in_one_row,
         note="SFData s59446800_original.py, _context.py, _ground_truth.py; fault type Feature Input Incompatible "
              "and Label Output Incompatible (ValueError: expected dense_input to have shape (1,) but got array "
              "with shape (11,)); the repair reshapes x_train and y_train to (-1, 1). Kept: the program's own data "
              "(x = 0..10, y = 2x - 1, as (1, 11) arrays in the buggy twin), Dense(units=1) declared for one input, "
              "mean squared error, Adam at 0.1. Nothing changed but the Keras version (tf.keras -> Keras 3, "
              "input_shape=[1] written as keras.Input((1,))); the model is constructed and Keras 3 refuses the "
              "(1, 11) batch at its first call, where Keras 2 refused it in fit's input check. expected is a "
              "judgement call: input-layout ((batch, features) for Dense layers) and layer-size-mismatch (give x the "
              "size the model was built for) lead to the reshape of x; target-shape-broadcast's fix names "
              "y.reshape(-1, 1), the other half of the repair."),
    case("fourteenth_keras_tfrecord_softmax_regression_integer_labels", "keras", "labels / loss pairing",
         SO + "47482082",
         "A softmax regression whose labels are declared as one-hot rows over 5 classes (a (None, 5) placeholder "
         "under softmax cross-entropy) is fed one integer class per image, so training stops at the labels' shape.",
         "One-hot encode the labels (np.eye(5)[labels]) before feeding them.",
         {"target-shape-broadcast"}, _build_keras_tfrecord_softmax_regression_integer_labels,
         note="SFData s47482082_original.py, _context.py, _ground_truth.py; TensorFlow 1; fault type Label Output "
              "Incompatible (ValueError: cannot feed value of shape (100,) for the (?, 5) labels placeholder); the "
              "repair adds labels = np.eye(5)[labels]. The poster's program reads TFRecord files through queue "
              "runners; SFData's context feeds 100 random 1024-pixel rows with random integer labels. Translated "
              "TensorFlow 1 -> Keras 3: x (None, 1024) @ W + b with W and b at zero becomes one Dense(5) with zero "
              "initialisers, softmax_cross_entropy_with_logits on its logits becomes CategoricalCrossentropy("
              "from_logits=True), AdamOptimizer(0.001) becomes Adam(0.001); the labels placeholder's shape check "
              "becomes the loss's rank check at the first training step (same place: the labels as fed). Changed: "
              "the digits 0-4 among scikit-learn's first 256 8x8 digits (129 rows, pixels / 16, 64 pixels instead "
              "of 32x32) with their int32 labels, since random labels cannot be learnt. expected is a judgement "
              "call: target-shape-broadcast's fix (give the targets the output's shape) leads to the one-hot rows; "
              "labels-not-class-indices would lead to a sparse loss, a different repair from SFData's, so it is not "
              "listed."),
    case("fourteenth_torch_cnn_reshape_to_image_width_224", "torch", "layer sizes / flatten width",
         SO + "45212271",
         "A two-convolution CNN reshapes its pooled feature maps to the width of the input image (224*224*3) "
         "instead of the maps' own width (56*56*64) and sizes the fully connected weight to match, so the reshape "
         "fails in the forward pass.",
         "Reshape the pooled maps to their own width, (side/4)^2 x 64, and size the fully connected layer from it.",
         {"layer-size-mismatch"}, _build_torch_cnn_reshape_to_image_width_224,
         note="SFData s45212271_original.py, _context.py, _ground_truth.py; TensorFlow 1; fault type Adjacent Layer "
              "Incompatible (InvalidArgumentError in Reshape_1: a tensor with 200704 values, the requested shape "
              "needs a multiple of 150528); the repair changes both the reshape and W_fc to 56*56*64. Translated "
              "TensorFlow 1 -> PyTorch, which keeps the program's raw ops: x.reshape(-1, flat) and a Linear(flat, "
              "1024) whose size the program writes by hand (a Keras Dense infers its width, so the hand-sized weight "
              "would be lost); the error comes at the same place, the reshape in the forward pass, with the batch "
              "size unknown until data arrive in both. Kept: conv 5x5 with 32 and 64 filters, 'SAME' padding, "
              "ReLU, 2x2 max pooling twice, fully connected 1024 with ReLU, dropout at keep 0.8, a linear output, "
              "softmax cross-entropy on one-hot float labels, Adam at its defaults. Changed: 128 of scikit-learn's "
              "8x8 digits (pixels / 16, the grey value copied into 3 channels, NCHW as PyTorch takes it) and 10 "
              "classes instead of 224x224x3 images and 56 classes; the wrong width is then 8*8*3 = 192 against "
              "2*2*64 = 256 for the maps, the same 3:4 ratio as 150528 : 200704. The batch of 128 is not a multiple "
              "of 3, so, as for the program's batch of 1, the reshape cannot divide the values (a batch that is a "
              "multiple of 3 would pass the reshape with 4/3 as many rows and fail at the loss instead). The "
              "program draws its weights from N(0, 1) (tf.random_normal), a second fault the repair keeps; both "
              "twins use PyTorch's default initialisation so that the fixed twin can train."),
    case("fourteenth_keras_glove_embedding_integer_labels_categorical", "keras", "labels / loss pairing",
         SO + "65215572",
         "A 16-topic text classifier (Embedding, Flatten, Dense, 16-way softmax) is compiled with categorical "
         "cross-entropy and fitted on one integer topic per text, so the loss refuses the targets.",
         "One-hot encode the topic labels with to_categorical before fitting.",
         {"target-shape-broadcast"}, _build_keras_glove_embedding_integer_labels_categorical,
         note="SFData s65215572_original.py, _context.py, _ground_truth.py; fault type Label Output Incompatible "
              "(ValueError: a target array of shape (70, 1) with categorical_crossentropy); the repair adds "
              "labels = to_categorical(labels). Kept: max_words = 100, embedding_dim = 100, maxlen = 100 (SFData's "
              "context), Embedding -> Flatten -> Dense 64 relu -> Dense 16 softmax, categorical cross-entropy, "
              "'rmsprop' (RMSprop at its defaults). Changed: 128 synthetic token sequences (each topic's token at "
              "five random places among background tokens) instead of the poster's texts or the context's random "
              "floats (which an Embedding reads as token 0) and random labels; the poster's pretrained GloVe "
              "weights and frozen Embedding are left out, as SFData's context leaves them out (they take no part "
              "in the fault); input_length dropped (Keras 3; keras.Input((100,), int32) instead). Keras 3 raises "
              "at the loss (target rank against output rank) at the first training step. expected is a judgement "
              "call: target-shape-broadcast's fix (give the targets the output's shape) leads to one-hot labels; "
              "labels-not-class-indices would lead to the sparse loss instead, a different repair, so it is not "
              "listed."),
    case("fourteenth_keras_conv1d_timestep_labels_one_output", "keras", "target shape / one output per sequence",
         SO + "56190344",
         "A Conv1D classifier that gives one 8-way softmax per sequence is fitted on targets holding a one-hot label "
         "for every time step, (n, steps, 8), so the loss cannot match targets and outputs.",
         "Train on one label per sequence, the last time step's (y[:, -1, :]), shaped like the output.",
         {"target-shape-broadcast"}, _build_keras_conv1d_timestep_labels_one_output,
         note="SFData s56190344_original.py, _context.py, _ground_truth.py; fault type Label Output Incompatible "
              "(ValueError: a target array of shape (10, 1452, 8) for an output of shape (None, 8) with "
              "categorical_crossentropy); the repair keeps y_train[:, -1, :]. Kept: the model (Conv1D 64 k3 relu "
              "twice, Dropout 0.5, MaxPooling1D 2, Flatten, Dense 100 relu, Dense 8 softmax), categorical "
              "cross-entropy, 'adam', 20 features and 8 classes, the one-hot label per step. Changed: 128 "
              "sequences of 48 steps instead of 1452 steps (shared CPU; the length takes no part in the fault), "
              "uniform random values as in the context, and each step's label made learnable (which of the step's "
              "first 8 features is largest) instead of random. Keras 3 raises at the loss (target rank 3 against "
              "output rank 2) at the first training step. expected: target-shape-broadcast's title (output and "
              "target shapes differ) and fix (give the targets the output's shape) lead to the repair; "
              "output-width-mismatch does not (the width, 8, matches)."),
    case("fourteenth_keras_flow_from_directory_rgb_into_grey_conv2d", "keras", "data / input channels",
         SO + "50483715",
         "A binary MNIST CNN declared for one-channel 28x28 images is fed by an image loader left at its default "
         "colour mode, which gives every grey image three channels, so the model refuses the batch.",
         "Load the images in grey scale (color_mode='grayscale'), one channel, as the model is declared.",
         {"input-layout", "layer-size-mismatch"}, _build_keras_flow_from_directory_rgb_into_grey_conv2d,
         note="SFData s50483715_original.py, _context.py, _ground_truth.py; fault type Parameter Restriction "
              "Incompatible (ValueError: expected conv2d_input to have shape (150, 150, 1) but got (150, 150, 3)); "
              "the repair adds color_mode='grayscale' to both flow_from_directory calls. Judgement on rule 1: the "
              "fix is a loader flag, but it changes only the images' channel count as the model gets them (the "
              "thirteenth set counted a loader flag that changes the labels' encoding as the labels, not as file "
              "handling), so the bug is in x. Kept: the model (three Conv2D 3x3 blocks of 32, 32, 64 filters with "
              "ReLU and 2x2 max pooling, Flatten, Dense 64 relu, Dropout 0.5, Dense 1 sigmoid), binary "
              "cross-entropy, 'rmsprop', class_mode='binary' (one 0/1 label per image), pixels scaled to [0, 1]. "
              "Changed: 128 of scikit-learn's 8x8 digits blown up to 32x32 (each pixel a 4x4 block; 28x28 in the "
              "poster's program, 150x150 in SFData's context) with the label digit < 5; the grey value copied into "
              "3 channels for the buggy twin, as the loader's RGB mode does with a grey file; no augmentation "
              "(shear, zoom, flip) or directory reading. Keras 3 refuses the batch at the model's first call, as "
              "Keras 2 did in fit's input check. expected is a judgement call: input-layout (give x the layout the "
              "model was built for) and layer-size-mismatch (give x the size the model was built for) both lead to "
              "one-channel images."),
]
