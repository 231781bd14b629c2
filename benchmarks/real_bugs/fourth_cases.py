"""Fourth held-out set: public threads rebuilt as (buggy, fixed) twins, for one final measurement.

Nobody had run diagnose on these when they were written, and ``expected`` was written from the
catalogue's codes, titles and fix sentences only (the CATALOGUE dict in
course_utils/diagnosis/findings.py), before any diagnose run. The threads were taken by a fixed rule
from written lists of search queries (see the README, "Fourth held-out set"), not by what diagnose
can detect. Where no catalogue code leads to the thread's fix, ``expected`` is empty and ``note``
says so: the case counts as a miss. Run them once with ``python -m benchmarks.real_bugs --fourth``.

Every builder returns (model, x, y, loss, optimizer). Data are scikit-learn's bundled sets or
small synthetic data of the same kind and scale as the thread's (at most 256 rows).
``check_fresh_fidelity.py --fourth`` trains both twins with plain code to confirm the buggy twin
shows the thread's symptom and the fixed twin learns. Several buggy twins fail inside the forward
pass, as the threads' programs did, so only the fixed twins are guaranteed to run on their batch.
"""
from __future__ import annotations

import numpy as np
import torch
from sklearn import datasets
from torch import nn

from . import case, data
from .fresh_cases import GH, OUTSIDE, _rng, _tensors
from .keras_cases import _keras, _sequential
from .third_cases import _stroke_masks

def _diabetes(n=128):
    """scikit-learn's diabetes regression, inputs and target standardised (float32)."""
    x, y = datasets.load_diabetes(return_X_y=True)
    return data.standardise(x[:n]), data.standardise(y[:n].reshape(-1, 1))


def _digit_images(n=128):
    """8x8 digits scaled to [0, 1], shape (n, 8, 8), and their labels 0..9."""
    images, labels = data.digits(n)
    return (images / 16.0).astype(np.float32).reshape(-1, 8, 8), labels


# --- Keras --------------------------------------------------------------------------------------

def _build_keras_custom_loss_through_numpy(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _diabetes()

    def numpy_mse(y_true, y_pred):  # the bug: the loss leaves the graph through NumPy arrays
        return np.mean((np.asarray(y_true) - np.asarray(y_pred)) ** 2)

    def tensor_mse(y_true, y_pred):
        return keras.ops.mean(keras.ops.square(y_true - y_pred))

    model = _sequential(keras, (10,), [L.Dense(32, activation="relu"), L.Dense(1)])
    return model, x, y, numpy_mse if buggy else tensor_mse, keras.optimizers.Adam(1e-2)


def _sensor_windows(n=128, steps=16, channels=7):
    """Windows of 16 steps of 7 sensor channels (batch, steps, channels); the label says whether
    channel 0 is on average above 0 over the window."""
    x = _rng().normal(size=(n, steps, channels)).astype(np.float32)
    return x, (x[:, :, 0].mean(axis=1) > 0).astype(np.float32).reshape(-1, 1)


def _build_keras_sensor_axes_swapped(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _sensor_windows()
    if buggy:
        x = np.ascontiguousarray(x.transpose(0, 2, 1))  # (batch, channels, steps): the model reads 16 features
    layers = [L.Dense(16, activation="relu"), L.Flatten(), L.Dense(1, activation="sigmoid")]
    model = _sequential(keras, (16, 7), layers)
    return model, x, y, "binary_crossentropy", keras.optimizers.Adam(1e-2)


def _build_keras_cnn_declared_input_smaller(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = _digit_images()
    x = np.kron(images, np.ones((2, 2), dtype=np.float32))[..., None]  # 16x16 images, as the 256x256 files
    side = 8 if buggy else 16  # the buggy model declares half the images' size, as 128 against 256
    layers = [L.Conv2D(8, 3, padding="same", activation="relu"), L.MaxPooling2D(), L.Flatten(),
              L.Dense(10, activation="softmax")]
    model = _sequential(keras, (side, side, 1), layers)
    return model, x, labels, "sparse_categorical_crossentropy", keras.optimizers.Adam(1e-2)


def _build_keras_dense_on_rank1_input(buggy):
    keras = _keras()
    L = keras.layers
    roots = _rng().uniform(0.0, 1.0, 128).astype(np.float32)
    x, y = roots ** 2, roots.reshape(-1, 1)  # learn x from x**2, inputs of shape (n,) as in the notebook
    layers = [L.Dense(16, activation="tanh"), L.Dense(16, activation="tanh"), L.Dense(1)]
    model = keras.Sequential(layers) if buggy else _sequential(keras, (1,), layers)
    return model, x, y, "mse", keras.optimizers.Adam(1e-2)


def _build_keras_conv_dense_without_flatten(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = _digit_images()
    flatten = [] if buggy else [L.Flatten()]
    layers = [L.Conv2D(8, 3, padding="same", activation="relu"), *flatten, L.Dense(10, activation="softmax")]
    model = _sequential(keras, (8, 8, 1), layers)
    return model, images[..., None], data.one_hot(labels, 10), "categorical_crossentropy", keras.optimizers.Adam(1e-2)


def _build_keras_signed_class_labels_sparse(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = datasets.make_classification(n_samples=256, n_features=10, n_informative=6, n_redundant=0,
                                             n_classes=13, n_clusters_per_class=1, class_sep=2.0, random_state=0)
    labels = labels - 6 if buggy else labels  # a scale from -6 to +6 against 13 softmax units
    model = _sequential(keras, (10,), [L.Dense(32, activation="relu"), L.Dense(13, activation="softmax")])
    return model, x.astype(np.float32), labels.astype(np.int64), "sparse_categorical_crossentropy", \
        keras.optimizers.Adam(1e-2)


def _ratings(n=256, users=30, books=40):
    """(user id, book id) pairs numbered from 1, as in the thread's data, and ratings 1..5 from latent tastes."""
    rng = _rng()
    taste, style = rng.normal(size=(users + 1, 3)), rng.normal(size=(books + 1, 3))
    pairs = np.stack([rng.integers(1, users + 1, n), rng.integers(1, books + 1, n)], axis=1)
    score = (taste[pairs[:, 0]] * style[pairs[:, 1]]).sum(axis=1)
    ratings = np.clip(np.round(3 + score), 1, 5).astype(np.float32).reshape(-1, 1)
    return pairs.astype(np.int32), ratings, users, books


def _build_keras_embedding_size_max_index(buggy):
    keras = _keras()
    L = keras.layers
    pairs, ratings, users, books = _ratings()
    extra = 0 if buggy else 1  # Embedding's input_dim must be the largest id + 1; the bug used the largest id
    inputs = keras.Input((2,), dtype="int32")
    user = L.Embedding(users + extra, 5)(L.Lambda(lambda t: t[:, 0])(inputs))
    book = L.Embedding(books + extra, 5)(L.Lambda(lambda t: t[:, 1])(inputs))
    model = keras.Model(inputs, L.Dot(axes=1)([book, user]))
    return model, pairs, ratings, "mse", keras.optimizers.Adam(1e-2)


def _bottleneck_features(n=128):
    """Frozen "pretrained" features of 8x8 digits: a fixed random projection with ReLU, shaped (n, 4, 4, 8)
    like a convolutional base's output; the binary label says whether the digit is below 5."""
    images, labels = _digit_images(n)
    projection = _rng(7).normal(0, 0.3, (64, 128)).astype(np.float32)
    features = np.maximum(images.reshape(n, 64) @ projection, 0).reshape(n, 4, 4, 8)
    return features.astype(np.float32), (labels < 5).astype(np.float32)


def _build_keras_bottleneck_one_unit_softmax(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _bottleneck_features()  # labels of shape (n,), as the book's np.array([0] * ... + [1] * ...)
    layers = [L.Flatten(), L.Dense(64, activation="relu"), L.Dropout(0.3),
              L.Dense(1, activation="softmax" if buggy else "sigmoid")]
    model = _sequential(keras, x.shape[1:], layers)
    loss = "categorical_crossentropy" if buggy else "binary_crossentropy"
    return model, x, y, loss, keras.optimizers.Adam(1e-3)


def _build_keras_segmentation_one_channel_softmax(buggy):
    keras = _keras()
    L = keras.layers
    images, masks = _stroke_masks()
    labels = masks.argmax(axis=-1)[..., None]  # one channel of label values 0, 1, 2 per pixel
    layers = [L.SeparableConv2D(15, 3, padding="same", activation="relu"),
              L.SeparableConv2D(20, 3, padding="same", activation="relu"),
              L.Conv2D(1 if buggy else 3, 1, activation="softmax")]  # the fix: one channel per label
    model = _sequential(keras, (8, 8, 1), layers)
    return model, images, labels, "sparse_categorical_crossentropy", keras.optimizers.Adam(1e-2)


# --- PyTorch ------------------------------------------------------------------------------------

class _LinearRegression(nn.Module):
    """The book's from-scratch linear regression, torch.mm(X, w) + b, with w and b registered as parameters."""

    def __init__(self, inputs=2):
        super().__init__()
        self.w = nn.Parameter(torch.normal(0.0, 0.01, (inputs, 1)))
        self.b = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return torch.mm(x, self.w) + self.b


def _build_torch_float64_features(buggy):
    torch.manual_seed(0)
    features = _rng().normal(0, 1, (256, 2))  # NumPy's default float64, as np.random.normal in the book
    labels = features @ np.array([2.0, -3.4]) + 4.2 + _rng(1).normal(0, 0.01, 256)
    x = torch.from_numpy(features) if buggy else torch.from_numpy(features).to(torch.float32)
    y = torch.as_tensor(labels, dtype=torch.float32).reshape(-1, 1)
    model = _LinearRegression()
    return model, x, y, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.03)


class _QuadrantRestorer(nn.Module):
    """A small image-restoration CNN whose middle block overwrites the top-left quadrant of its input
    features with mixed features; the buggy version writes into the tensor autograd saved (``out = x``)."""

    def __init__(self, copy_first, width=8):
        super().__init__()
        self.copy_first = copy_first
        self.head = nn.Conv2d(1, width, 3, padding=1)
        self.mix = nn.Conv2d(width, width, 1)
        self.tail = nn.Conv2d(width, 1, 3, padding=1)

    def forward(self, x):
        features = torch.relu(self.head(x))
        mixed = self.mix(features)
        out = features.clone() if self.copy_first else features  # the fix: out = x.clone()
        half = out.shape[-1] // 2
        out[:, :, :half, :half] = mixed[:, :, :half, :half]
        return self.tail(out)


def _build_torch_inplace_write_into_input(buggy):
    torch.manual_seed(0)
    images, _ = _digit_images(96)
    clean = images.reshape(-1, 1, 8, 8)
    noisy = clean + _rng().normal(0, 0.3, clean.shape).astype(np.float32)
    model = _QuadrantRestorer(copy_first=not buggy)
    x, y = _tensors(noisy, clean)
    return model, x, y, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=1e-2)


def _build_torch_channels_last_images(buggy):
    torch.manual_seed(0)
    images, labels = _digit_images()
    rgb = np.repeat(images[..., None], 3, axis=-1)  # (n, 8, 8, 3): height, width, channels, as the loaded CIFAR
    if not buggy:
        rgb = rgb.transpose(0, 3, 1, 2)  # the fix: channels first for Conv2d
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(16 * 16, 10))
    x, y = _tensors(np.ascontiguousarray(rgb), labels, torch.long)
    return model, x, y, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-3)


def _real_and_fake_images(n=128):
    """Half real digits scaled to [-1, 1] (label 1), half uniform noise images, as an untrained
    generator's samples (label 0): one discriminator batch."""
    images, _ = _digit_images(n // 2)
    real = images * 2 - 1
    fake = _rng().uniform(-1, 1, real.shape).astype(np.float32)
    x = np.concatenate([real, fake]).reshape(-1, 1, 8, 8)
    return x, np.concatenate([np.ones(n // 2), np.zeros(n // 2)])


class _Discriminator(nn.Module):
    """A DCGAN-style discriminator: conv, LeakyReLU, one sigmoid score per image, flattened to (batch,)."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.LeakyReLU(0.2), nn.Flatten(),
                                  nn.Linear(8 * 64, 1), nn.Sigmoid())

    def forward(self, x):
        return self.body(x).view(-1)


def _build_torch_gan_integer_labels_bce(buggy):
    torch.manual_seed(0)
    x, labels = _real_and_fake_images()
    model = _Discriminator()
    # the bug: real_label = 1 and fake_label = 0 are Python ints, so the label tensor is int64
    x, y = _tensors(x, labels, torch.long if buggy else torch.float32)
    return model, x, y, nn.BCELoss(), torch.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))


def _build_torch_gan_label_shape_bce(buggy):
    torch.manual_seed(0)
    x, labels = _real_and_fake_images()
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1), nn.Sigmoid())
    # the discriminator scores (batch, 1); the buggy labels are (batch,), the fix gives them the same shape
    x, y = _tensors(x, labels if buggy else labels.reshape(-1, 1))
    return model, x, y, nn.BCELoss(), torch.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))


CASES = [
    # --- Keras ---
    case("fourth_keras_custom_loss_through_numpy", "keras", "loss", GH + "tensorflow/tensorflow/issues/50111",
         "A custom loss converts the tensors to NumPy arrays, so no gradient reaches any weight and training "
         "stops with 'No gradients provided for any variable'.",
         "Compute the loss with framework tensor operations only (the poster's own follow-up).",
         {"no-gradient-path"}, _build_keras_custom_loss_through_numpy,
         note="The thread's loss is not shown (only that it went through NumPy) and its model is not stated: "
              "rebuilt as a mean squared error through np.asarray on a small MLP regressing scikit-learn's "
              "diabetes target. The thread used a GradientTape loop; compiled Keras 3 fails earlier, when "
              "the symbolic tensor reaches NumPy (NotImplementedError)."),
    case("fourth_keras_sensor_axes_swapped", "keras", "input shape", GH + "tensorflow/tensorflow/issues/46076",
         "The data are (samples, 7, 169) while the first Dense layer expects 7 features on the last axis, "
         "so fit raises 'expected axis -1 of input shape to have value ... but received input with shape "
         "(None, 7, 169)'.",
         "Transpose the data to (samples, 169, 7) (the answer the poster quoted as solving it).",
         set(), _build_keras_sensor_axes_swapped,
         note=OUTSIDE + "Keras raises in the forward pass; no catalogue code names input axes in the wrong "
              "order. 169 time steps shrunk to 16 windows of 7 synthetic sensor channels; the thread's "
              "targets are not shown, so the label says whether channel 0 is above 0 on average."),
    case("fourth_keras_cnn_declared_input_smaller", "keras", "input shape", GH + "keras-team/keras/issues/19367",
         "A CNN declares 128x128x3 inputs while the images are 256x256, so the Dense layer after Flatten "
         "receives 65536 features instead of 16384 and fit raises.",
         "Declare the input shape the images have (the maintainer's corrected model).",
         set(), _build_keras_cnn_declared_input_smaller,
         note=OUTSIDE + "Keras raises in the forward pass; no catalogue code names a declared input shape that "
              "differs from the data. 8x8 digits blown up to 16x16 against a declared 8x8 input, ten classes."),
    case("fourth_keras_dense_on_rank1_input", "keras", "input shape", GH + "tum-pbs/pbdl-book/pull/10",
         "A stack of Dense layers with no declared input shape is fitted on a rank-1 array of shape (n,), so "
         "Keras raises 'expected min_ndim=2, found ndim=1' and the book's example does not run.",
         "Declare the input shape on the first Dense layer, so Keras inserts an input layer (merged fix).",
         set(), _build_keras_dense_on_rank1_input,
         note=OUTSIDE + "Keras raises in the forward pass of the unbuilt model; no catalogue code names a "
              "missing input shape. The book's teaser learns x from x**2 with samples of both roots; here "
              "only the positive root is kept so the fixed twin can fit its targets (the two roots are the "
              "notebook's point, not the bug)."),
    case("fourth_keras_conv_dense_without_flatten", "keras", "model structure", GH + "keras-team/keras/issues/2724",
         "A CNN puts a Dense layer straight after a convolution, without Flatten, so the Dense layer receives "
         "4-D feature maps and the model fails ('expected ndim=2, found ndim=4').",
         "Insert Flatten() between the convolutional layers and the Dense layer (the answer).",
         set(), _build_keras_conv_dense_without_flatten,
         note=OUTSIDE + "Keras 3's Dense accepts feature maps, so here the failure moves to the loss, which "
              "raises because the (n, 8, 8, 10) output and the (n, 10) one-hot targets differ in rank; no "
              "catalogue code leads to adding Flatten. 480x640 RGB images rebuilt as 8x8 digits."),
    case("fourth_keras_signed_class_labels_sparse", "keras", "targets", GH + "tplusone/hanser_ml_zeitreihen/issues/3",
         "Class labels on a scale from -6 to +6 reach sparse_categorical_crossentropy, which expects classes "
         "numbered from 0, so the book example's predictions are NaN.",
         "Number the classes from 0 upwards (the poster's own follow-up, confirmed by the author's notebook).",
         {"labels-not-class-indices"}, _build_keras_signed_class_labels_sparse,
         note="The book's data are scikit-learn generated (make_classification here, 13 classes). On the CPU the "
              "TensorFlow backend raises for a negative label instead of returning NaN as on the thread's "
              "machine."),
    case("fourth_keras_embedding_size_max_index", "keras", "model structure", GH + "TannerGilbert/Tutorials/issues/1",
         "A book recommender's Embedding layers are given the largest id as input_dim, so the largest id is "
         "out of range and training raises 'indices[4,0] = 10000 is not in [0, 10000)' on the CPU.",
         "Give each Embedding input_dim = largest id + 1 (the maintainer's fix).",
         set(), _build_keras_embedding_size_max_index,
         note=OUTSIDE + "the framework raises at the embedding lookup; no catalogue code names an embedding "
              "table smaller than the ids. Rebuilt as 30 users and 40 books numbered from 1 with ratings 1..5 "
              "from latent tastes; one (n, 2) integer input split into the two ids, dot product of the "
              "embeddings as the predicted rating."),
    case("fourth_keras_bottleneck_one_unit_softmax", "keras", "loss/output pairing",
         GH + "PacktPublishing/Deep-Learning-for-Computer-Vision/issues/2",
         "A cat-vs-dog classifier trained on frozen VGG16 features ends in Dense(1) with softmax under "
         "categorical cross-entropy against 0/1 labels, so training fails (an error, and validation accuracy "
         "0.5 once only the loss was changed).",
         "Use binary cross-entropy with a sigmoid on the single output unit (the poster's change and the "
         "later reply).",
         {"one-unit-softmax"}, _build_keras_bottleneck_one_unit_softmax,
         note="The VGG16 bottleneck features are rebuilt as a fixed random ReLU projection of 8x8 digits shaped "
              "(4, 4, 8), labels digit < 5; the book's top model (Flatten, Dense, Dropout 0.3, Dense(1)) is "
              "kept. Keras 3 accepts the (n,) labels and the loss is 0 from the first step (a softmax over one unit "
              "is 1 for every image), so nothing is learned."),
    case("fourth_keras_seg_one_channel_softmax", "keras", "output size",
         GH + "tensorflow/tensorflow/issues/35499",
         "A segmentation network ends in Conv2D(1, (1, 1), activation='softmax') while each pixel carries one "
         "of several label values, so the model cannot be trained with model.fit.",
         "Give the output layer one channel per label (the poster's own follow-up).",
         {"one-unit-softmax", "output-width-mismatch"}, _build_keras_segmentation_one_channel_softmax,
         note="The thread's loss is not shown; sparse categorical cross-entropy is the one its fix works with "
              "(one channel of label values against one output channel per label). 180x180 grey images rebuilt "
              "as 8x8 digits whose pixels are background, faint or dark stroke; on the CPU the TensorFlow "
              "backend raises for a label outside the single output channel."),
    # --- PyTorch ---
    case("fourth_torch_float64_features", "torch", "inputs", GH + "OUCMachineLearning/OUCML/issues/24",
         "The linear-regression features come from NumPy as float64 while the weights are float32, so "
         "torch.mm raises 'expected scalar type Double but found Float'.",
         "Convert the features to float32 (the poster's fix, .to(torch.float32)).",
         set(), _build_torch_float64_features,
         note=OUTSIDE + "PyTorch raises in the forward pass; no catalogue code names the input dtype. The "
              "book's from-scratch regression (w, b and torch.mm) keeps its setup, with w and b registered as "
              "parameters of a module; 256 of its 1000 synthetic rows."),
    case("fourth_torch_inplace_write_into_input", "torch", "model structure", GH + "Jee-King/TSAN/issues/3",
         "A block of an image super-resolution network sets out = x and then writes feature quadrants into "
         "out, changing in place a tensor autograd saved, so backward raises 'one of the variables needed "
         "for gradient computation has been modified by an inplace operation'.",
         "Copy the input first: out = x.clone() (the reporter's fix).",
         set(), _build_torch_inplace_write_into_input,
         note=OUTSIDE + "PyTorch raises at backward; no catalogue code names an in-place write into a saved "
              "tensor (no-gradient-path's fix concerns detach, item, numpy and re-wrapping). The "
              "super-resolution network is rebuilt as a three-conv denoiser of 8x8 digits whose middle step "
              "overwrites the top-left quadrant, as the thread's block does per quadrant."),
    case("fourth_torch_channels_last_images", "torch", "input shape", GH + "zshuai8/FedGMM_ICML2023/issues/2",
         "Images arrive as (batch, 32, 32, 3), channels last, while Conv2d expects channels first, so training "
         "raises 'expected input[128, 32, 32, 3] to have 3 channels, but got 32 channels instead'.",
         "Permute the images to (batch, 3, height, width) before the network (the maintainer's fix).",
         set(), _build_torch_channels_last_images,
         note=OUTSIDE + "PyTorch raises in the forward pass; no catalogue code names the channel axis. "
              "CIFAR-10 rebuilt as 8x8 digits repeated into three channels."),
    case("fourth_torch_gan_integer_labels_bce", "torch", "targets",
         GH + "PacktPublishing/Hands-On-Generative-Adversarial-Networks-with-PyTorch-1.x/issues/4",
         "The DCGAN's real and fake labels are integer tensors, so BCELoss raises 'Found dtype Long but "
         "expected Float' at the discriminator's first step.",
         "Cast the labels to float before the loss (the answer's real_label.float()).",
         set(), _build_torch_gan_integer_labels_bce,
         note=OUTSIDE + "PyTorch raises at the loss; no catalogue code names float targets for binary "
              "cross-entropy (labels-not-class-indices' fix asks for int64, the wrong way here). Rebuilt as "
              "the discriminator's step only: real 8x8 digits against uniform-noise images standing in for an "
              "untrained generator's samples."),
    case("fourth_torch_gan_label_shape_bce", "torch", "shapes",
         GH + "YixinChen-AI/CVAE-GAN-zoos-PyTorch-Beginner/issues/9",
         "The discriminator outputs (batch, 1) scores while the labels are (batch,), so BCELoss raises 'Using "
         "a target size (torch.Size([128])) that is different to the input size (torch.Size([128, 1])) is "
         "deprecated'.",
         "Drop the extra dimension so output and labels have the same shape (the reply, confirmed by another "
         "user).",
         {"target-shape-broadcast"}, _build_torch_gan_label_shape_bce,
         note="target-shape-broadcast's fix (give the targets the output's shape, or squeeze the output) is the "
              "thread's fix. Rebuilt as the discriminator's step of a small MLP GAN: real 8x8 digits against "
              "uniform-noise images; the fixed twin reshapes the labels to (batch, 1)."),
]
