"""Thirteenth held-out set, part c: Stack Overflow programs of SFData (TENSFA), each rebuilt from the poster's
program and the researchers' repair as (buggy, fixed) twins, for one measurement.

The entries were taken in a fixed shuffled order (`thirteenth_frame.txt`, part c's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Thirteenth held-out
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
from .keras_cases import _keras, _sequential
from .ninth_f_cases import _digit_colour_images


# --- an LSTM declared for (1, 20) inputs fed windows of 20 steps x 1 feature (SFData s42585356) -------------------

def _windows(n=100, steps=20):
    """A daily series of the program's kind (a seasonal cycle of 60 days with noise), min-max scaled to [0, 1] as
    the program does, cut into ``n`` windows of ``steps`` values, each with the next value as its target. Shapes
    (n, steps, 1) and (n,), as in SFData's context program."""
    rng = _rng()
    t = np.arange(n + steps, dtype=np.float64)
    series = np.sin(2 * np.pi * t / 60) + rng.normal(0, 0.05, t.shape)
    series = (series - series.min()) / (series.max() - series.min())
    x = np.stack([series[i:i + steps] for i in range(n)]).reshape(n, steps, 1).astype(np.float32)
    y = series[steps:steps + n].astype(np.float32)
    return x, y


def _build_keras_forecast_lstm_declared_one_step_of_20(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _windows()
    # the bug: input_shape=(1, 20), one step of 20 features; SFData's repair: (20, 1), 20 steps of one feature,
    # which is how the windows are laid out
    model = _sequential(keras, (1, 20) if buggy else (20, 1), [L.LSTM(4), L.Dense(1)])
    return model, x, y, "mse", keras.optimizers.Adam()


# --- a Dense network whose input_shape is taken from the number of rows (SFData s60226423) -------------------------

def _build_keras_dense_input_shape_from_rows(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.binary_blobs(180, 10)
    y = labels.astype(np.int64)
    # the bug: input_shape=(X_train.shape[0],), the 180 rows; SFData's repair: X_train.shape[1:], the 10 features
    input_shape = (x.shape[0],) if buggy else x.shape[1:]
    model = _sequential(keras, input_shape, [L.Dense(100, activation="relu"), L.Dense(500, activation="relu"),
                                             L.Dense(2, activation="softmax")])
    return model, x, y, "sparse_categorical_crossentropy", keras.optimizers.Adam()


# --- a VGG-style network declared channels first, (3, rows, cols), under channels-last Keras (SFData s39815518) ----

def _build_keras_vgg_channels_first_input_shape(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _digit_colour_images()
    y = data.one_hot(labels, 10)

    def block(filters):
        return [L.ZeroPadding2D(1), L.Conv2D(filters, 3, activation="relu"),
                L.ZeroPadding2D(1), L.Conv2D(filters, 3, activation="relu"), L.MaxPooling2D(2, strides=2)]

    layers = [*block(16), *block(32), L.Flatten(), L.Dense(64, activation="relu"), L.Dropout(0.5),
              L.Dense(64, activation="relu"), L.Dropout(0.5), L.Dense(10, activation="softmax")]
    if buggy:
        # the bug: the first layer is declared with input_shape=(3, rows, cols), Theano's channels-first order, so
        # Keras reads 3 rows of 8 columns with 8 channels, and the second 2x2 pooling meets a map one row high.
        # Keras 3 refuses such an Input at construction, so the model takes its shape from the batch (given in the
        # declared order), where the same error comes in the forward pass.
        model = keras.Sequential(layers)
        x = np.transpose(x, (0, 3, 1, 2)).copy()
    else:
        # SFData's repair: input_shape=(rows, cols, 3), channels last, for images laid out that way
        model = _sequential(keras, (8, 8, 3), layers)
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam()


# --- a deep autoencoder of scalars fed a 1-D batch for a (None, 1) input (SFData s46715794) ------------------------

def _build_torch_autoencoder_scalars_without_feature_axis(buggy):
    torch.manual_seed(0)
    rng = _rng()
    values = rng.random(10).astype(np.float32)  # ten scalar samples, input_dim = 1, as in the post's error
    act = nn.Sigmoid
    # encoder 1 -> 32 -> 16 -> 1 (the program's n_nodes_hl), mirrored decoder back to 1
    model = nn.Sequential(nn.Linear(1, 32), act(), nn.Linear(32, 16), act(), nn.Linear(16, 1), act(),
                          nn.Linear(1, 16), act(), nn.Linear(16, 32), act(), nn.Linear(32, 1))
    if buggy:
        # the bug: the batch is fed as a vector of shape (10,), with no feature axis
        x = torch.as_tensor(values)
    else:
        # SFData's repair: np.expand_dims(batch, 1) for inputs and targets, shape (10, 1)
        x = torch.as_tensor(values.reshape(-1, 1))
    y = x.clone()  # an autoencoder: the targets are the inputs, fed with the same shape
    return model, x, y, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=0.02)


# --- one-hot labels given to sparse categorical cross-entropy in an image CNN (SFData s58398491) -------------------

def _build_keras_three_folder_cnn_one_hot_sparse_ce(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.digits(400)
    keep = np.flatnonzero(labels < 3)[:128]  # three classes, as in the program's three image folders
    x, labels = x[keep] / 16.0, labels[keep]
    # 8x8 grey digits blown up to 48x48 and copied into three colour channels, so that the program's four
    # convolution/pooling blocks fit (the program's images were 192x192x3)
    x = np.kron(x.reshape(-1, 8, 8), np.ones((6, 6)))
    x = np.repeat(x[..., None], 3, axis=3).astype(np.float32)
    layers = [L.Conv2D(8, 3, activation="relu"), L.MaxPooling2D(2), L.Conv2D(16, 3, activation="relu"),
              L.MaxPooling2D(2)]
    for _ in range(2):
        layers += [L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2)]
    model = _sequential(keras, (48, 48, 3), [*layers, L.Flatten(), L.Dense(3, activation="softmax")])
    # the bug: one-hot label rows (n, 3), as the image generator gives them by default; SFData's repair:
    # np.argmax(y, -1), one class index per image, for sparse categorical cross-entropy
    y = data.one_hot(labels, 3) if buggy else labels.astype(np.int64)
    return model, x, y, "sparse_categorical_crossentropy", keras.optimizers.Adam()


# --- softmax regression trained one image at a time, each fed without its batch axis (SFData s55237206) ------------

def _build_keras_single_image_without_batch_axis(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _digit_colour_images(1)  # the first training image (a 0), (8, 8, 3)
    # padded by one blank pixel on each side to 10x10, so that an image without its batch axis has as many rows as
    # its one-hot label has classes (10): the benchmark's tests ask len(x) == len(y) of every twin
    image = np.pad(x[0], ((1, 1), (1, 1), (0, 0)))
    target = data.one_hot(labels, 10)[0]
    # the program's placeholder is [1, rows, cols, 3] and its weights and biases start at zero
    model = keras.Sequential([keras.Input(batch_shape=(1, 10, 10, 3)), L.Flatten(),
                              L.Dense(10, activation="softmax", kernel_initializer="zeros")])
    if buggy:
        # the bug: X_training[i], Y_training[i] fed as they are, (rows, cols, 3) and (classes,)
        x, y = image, target
    else:
        # SFData's repair: np.expand_dims(..., 0) on both, (1, rows, cols, 3) and (1, classes)
        x, y = image[None], target[None]
    return model, x, y, "categorical_crossentropy", keras.optimizers.SGD(learning_rate=0.003)


CASES = [
    case("thirteenth_keras_forecast_lstm_declared_one_step_of_20", "keras", "input shape / recurrent layer",
         "https://stackoverflow.com/questions/42585356",
         "A one-step-ahead LSTM forecaster is declared with input_shape=(1, 20), one time step of 20 features, while "
         "its windows are laid out as 20 time steps of one feature, (n, 20, 1), so the first training step fails in "
         "the LSTM.",
         "Declare the LSTM's input_shape as (20, 1), the (time steps, features) layout the windows already have.",
         {"layer-size-mismatch", "input-layout"}, _build_keras_forecast_lstm_declared_one_step_of_20,
         note="SFData s42585356_original.py / _context.py / _ground_truth.py (ICSE2020 list; Feature Input "
              "Incompatible, repair Model Input Shape; Keras's input check at fit). The ground truth changes only "
              "the LSTM's input_shape from (1, 20) to (20, 1). Kept from the context program: 100 windows of 20 "
              "steps x 1 feature with one target each (a 1-D y of 100 values, which Keras matches to the (n, 1) "
              "output), LSTM(4) -> Dense(1), mean squared error, Adam at its default rate. Changed: the context's "
              "uniform noise (inputs and targets unrelated) is replaced by windows of a synthetic daily series of "
              "the poster's kind (daily values of a 60-day seasonal sine with noise, min-max scaled as the poster's "
              "program does) whose target is the next value, so that the fixed twin has something to learn. Translated from "
              "tf.keras 2 to Keras 3 (keras.Input instead of input_shape). expected is a judgement call: "
              "layer-size-mismatch's fix (size the model from the shape it really receives, keras.Input with x's "
              "shape) is SFData's repair; input-layout's title names the axis order and its fix names (batch, time, "
              "features) for recurrent layers, which shows the windows are right and the declaration is not, though "
              "read literally it would reshape x instead."),
    case("thirteenth_keras_dense_input_shape_from_rows", "keras", "input shape / Dense layer",
         "https://stackoverflow.com/questions/60226423",
         "A Dense classifier of 180 rows of 10 features declares input_shape=(X_train.shape[0],), the number of rows "
         "(180), instead of the number of features, so the first Dense layer cannot take the (batch, 10) inputs.",
         "Declare input_shape=X_train.shape[1:], the per-sample feature shape (10,).",
         {"layer-size-mismatch"}, _build_keras_dense_input_shape_from_rows,
         note="SFData s60226423_original.py / _context.py / _ground_truth.py (StackOverflow list; Feature Input "
              "Incompatible, repair Model Input Shape; Keras's input check at fit: expected (180,), got (10,)). "
              "Kept from the context program: 180 rows x 10 features, two classes as integer labels, Dense(100, "
              "relu) -> Dense(500, relu) -> Dense(2, softmax), sparse categorical cross-entropy, Adam; the shape is "
              "still computed from x, as in the program. Changed: the context's uniform noise with random labels "
              "is replaced by scikit-learn's make_classification (data.binary_blobs(180, 10)) so that the fixed "
              "twin can learn. Translated from tf.keras 2 to Keras 3 (keras.Input instead of input_shape). expected: "
              "layer-size-mismatch's fix (size the layer from the shape it really receives, keras.Input with x's "
              "shape) is SFData's repair. input-layout was left out: its fix (give x the layout the model was built "
              "for) would point at reshaping the data to 180 features, not at the declaration."),
    case("thirteenth_keras_vgg_channels_first_input_shape", "keras", "data / input layout",
         "https://stackoverflow.com/questions/39815518",
         "A VGG-style network is declared with input_shape=(3, rows, cols), Theano's channels-first order, under "
         "TensorFlow's channels-last convolutions, so Keras reads an image three rows high and a 2x2 max-pooling "
         "meets a feature map one row high (a negative dimension size).",
         "Declare input_shape=(rows, cols, 3) and give the images channels last.",
         {"input-layout"}, _build_keras_vgg_channels_first_input_shape,
         note="SFData s39815518_original.py / _context.py / _ground_truth.py (ICSE2020 list; Feature Input "
              "Incompatible, repair Model Input Shape; 'Negative dimension size caused by subtracting 2 from 1' at "
              "a MaxPool). The ground truth changes the first layer's input_shape from (3, 224, 224) to (224, 224, "
              "3); its context keeps images channels last. Kept from the poster's program: VGG16's first two blocks "
              "(zero-padding of 1 before each 3x3 convolution with ReLU, 2x2 max-pooling of stride 2 after each "
              "pair), up to the pooling the poster marks as the one that fails, then Flatten, two Dense layers with "
              "ReLU and Dropout 0.5, and a softmax; categorical cross-entropy and Adam (the context's choice; the "
              "poster's snippet stops before compile). Changed: the remaining three VGG blocks are left out and "
              "widths are cut (16 and 32 filters, Dense 64, 10 classes instead of 1000) to fit 128 of scikit-learn's "
              "8x8 digits, scaled to [0, 1] with the grey value copied into three channels; with 8x8 images read "
              "channels first the same pooling meets a one-row map, as 224x224 ones did. The poster's "
              "Convolution2D(64, 3, 3) (Keras 1: a 3x3 kernel) is written Conv2D(filters, 3); SFData's context reads "
              "the same call under tf.keras as stride 3 and cuts the network shorter, which moves the failure to the "
              "first pooling; the poster's meaning was kept. Keras 3 raises already at construction for an Input of "
              "(3, 8, 8) under these layers, so the buggy twin's model is left without an Input and its images are "
              "given in the declared (3, 8, 8) order, as the channels-first program fed them; the same error is "
              "raised in the forward pass (as twelfth_keras_mnist_cnn_channels_first_input does). expected: "
              "input-layout's fix names (batch, height, width, channels) for Keras convolutions, which is SFData's "
              "repair."),
    case("thirteenth_torch_autoencoder_scalars_without_feature_axis", "torch", "data / input layout",
         "https://stackoverflow.com/questions/46715794",
         "A deep autoencoder of one-feature samples (input width 1) is trained on batches sliced from a 1-D array, so "
         "each batch arrives as a vector of shape (10,) with no feature axis and the first layer cannot take it.",
         "Add the feature axis to the inputs and the targets (np.expand_dims(batch, 1)), giving (10, 1).",
         {"input-layout", "target-shape-broadcast"}, _build_torch_autoencoder_scalars_without_feature_axis,
         note="SFData s46715794_original.py / _context.py / _ground_truth.py (StackOverflow list; Feature Input "
              "Incompatible, repair Feature Data Shape; TensorFlow 1: 'Cannot feed value of shape (10,) for Tensor "
              "Placeholder:0, which has shape (?, 1)' at the training step's sess.run). The ground truth adds "
              "np.expand_dims(batch, 1) to the input and target batches. Kept: ten scalar samples in [0, 1), input "
              "width 1, the hidden sizes (32, 16, 1) of n_nodes_hl as the encoder, the learning rate 0.02, inputs "
              "and targets fed with the same shape. Changed: the post elides the layers, cost and optimizer ('...'), "
              "so the decoder mirrors the encoder, the activations are sigmoids, the cost is mean squared error and "
              "the optimizer Adam, all chosen here; the targets are the inputs (an autoencoder), where SFData's "
              "context fills them with zeros. Translated from TensorFlow 1 to PyTorch, not Keras: Keras 3 accepts a "
              "1-D array for a (None, 1) input and adds the axis itself (tried: train_on_batch runs), so the "
              "mechanism survives only where the framework does not add the axis; PyTorch's Linear(1, 32) reads the "
              "vector as one sample of 10 features and fails at the forward pass, as the placeholder refused the feed. "
              "expected is a judgement call: input-layout's fix ((batch, features) for Linear layers) is the inputs' "
              "half of the repair and target-shape-broadcast's fix (y.reshape(-1, 1)) is the targets' half, though "
              "the buggy twin fails before the loss. layer-size-mismatch was left out: the layer is sized right and "
              "its fix would first point at resizing it."),
    case("thirteenth_keras_three_folder_cnn_one_hot_sparse_ce", "keras", "labels / loss pairing",
         "https://stackoverflow.com/questions/58398491",
         "A three-class image CNN is compiled with sparse categorical cross-entropy but trained on one-hot label rows "
         "of shape (n, 3), the image generator's default, so the loss cannot take the labels.",
         "Give the loss one class index per image (np.argmax(y, -1)).",
         {"labels-not-class-indices"}, _build_keras_three_folder_cnn_one_hot_sparse_ce,
         note="SFData s58398491_original.py / _context.py / _ground_truth.py (StackOverflow list; Label Output "
              "Incompatible, repair Label Data Shape; TensorFlow 2.0 failed in the accuracy metric's squeeze at the "
              "first step). The ground truth adds y = np.argmax(y, -1) to the context's one-hot labels (in the "
              "poster's program they come from flow_from_directory's default class_mode). Kept: four 3x3 "
              "convolution + 2x2 pooling blocks with ReLU, Flatten, Dense(3, softmax), sparse categorical "
              "cross-entropy, Adam, one-hot labels of three classes. Changed: the 192x192x3 images from three "
              "folders become the 123 digits of classes 0-2 among scikit-learn's first 400, scaled to [0, 1], blown "
              "up to 48x48 and copied into three channels (the smallest size the four blocks fit), with 8, 16, 32 "
              "and 32 filters instead of 32, 64, 128 and 128; compiled without the accuracy metric (the fidelity "
              "check compiles with the loss alone), so under Keras 3 the same labels are refused by the loss "
              "itself, at the first step. Translated from tf.keras 2.0 to Keras 3. expected: "
              "labels-not-class-indices's fix (one whole number per sample from 0 to K-1) is SFData's repair."),
    case("thirteenth_keras_single_image_without_batch_axis", "keras", "data / missing batch axis",
         "https://stackoverflow.com/questions/55237206",
         "A softmax regression on images, whose input is declared for a batch of one (1, rows, cols, 3), is trained "
         "one image at a time with each image and its one-hot label fed as they are, (rows, cols, 3) and (classes,), "
         "without the batch axis, so the first training step fails.",
         "Add the batch axis to each training image and label (np.expand_dims(..., 0)): (1, rows, cols, 3) and "
         "(1, classes).",
         {"input-layout", "target-shape-broadcast"}, _build_keras_single_image_without_batch_axis,
         note="SFData s55237206_original.py / _context.py / _ground_truth.py (StackOverflow list; Feature Input "
              "Incompatible and Label Output Incompatible, repair Feature Data Shape and Label Data Shape; "
              "TensorFlow 1: 'Cannot feed value of shape (100, 100, 3) for Tensor Placeholder:0, which has shape "
              "(1, 100, 100, 3)' at the training step's sess.run). The ground truth adds np.expand_dims(..., 0) to "
              "the image and the label of each step (its other changes are a space and a summary writer). Kept: "
              "the input declared for a batch of exactly one, flattening, one Dense layer of softmax units "
              "with weights and biases starting at zero, cross-entropy (the program's -sum(y * log p) equals "
              "Keras's categorical cross-entropy for one sample), gradient descent at 0.003, and one image per "
              "step. Changed: the 100x100x3 images become 10x10x3 (the first of scikit-learn's digits, a 0, "
              "scaled to [0, 1], its grey value copied into three channels and padded by a blank pixel on each "
              "side), and the two classes become the ten digit classes (one-hot of 10): the benchmark's tests ask "
              "len(x) == len(y) of every twin, and an image without its batch axis has as many rows as its label "
              "has classes only when both are 10 here; the class count plays no part in the failure, which comes "
              "at the input. build() returns that one step's batch. Translated from TensorFlow 1 (placeholder [1, 100, 100, 3], "
              "feed_dict) to Keras 3 with keras.Input(batch_shape=(1, 10, 10, 3)): Keras 3 checks the fed array "
              "against the declared shape and refuses (10, 10, 3), as the placeholder did, so the mechanism survives "
              "the translation. expected is a judgement call: input-layout's fix (give x the layout the model was "
              "built for) is the images' half of the repair and target-shape-broadcast's fix (give the targets "
              "the output's shape) is the labels' half, though the buggy twin fails at the input first."),
]
