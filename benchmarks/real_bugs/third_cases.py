"""Third held-out set: public threads rebuilt as (buggy, fixed) twins, for one final, honest measurement.

Nobody had run diagnose on these when they were written, and ``expected`` was written from the
catalogue's codes, titles and fix sentences only (course_utils/diagnosis/findings.py), before any
diagnose run. The threads were taken by a fixed rule from a written list of search queries (see the
README, "Third held-out set"), not by what diagnose can detect. Where no catalogue code leads to the
thread's fix, ``expected`` is empty and ``note`` says so: the case counts as a miss.
Run them once with ``python -m benchmarks.real_bugs --third``.

Every builder returns (model, x, y, loss, optimizer). Data are scikit-learn's bundled sets or
small synthetic data of the same kind and scale as the thread's (at most 256 rows).
``check_fresh_fidelity.py --third`` trains both twins with plain code to confirm the buggy twin
shows the thread's symptom and the fixed twin learns.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import case, data
from .fresh_cases import GH, OUTSIDE, _rng, _tensors
from .held_out_cases import SO
from .keras_cases import _keras, _sequential


# --- Keras --------------------------------------------------------------------------------------

def _binary_sequences(n=128, steps=16):
    """Rows of 0/1 steps; the label says whether more than half of the steps are 1."""
    bits = _rng().integers(0, 2, (n, steps, 1)).astype(np.float32)
    return bits, (bits.sum(axis=(1, 2)) > steps / 2).astype(np.float32).reshape(-1, 1)


def _build_keras_lstm_one_unit_softmax(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _binary_sequences()
    layers = [L.LSTM(16), L.Dense(1, activation="softmax" if buggy else "sigmoid")]
    model = _sequential(keras, x.shape[1:], layers)
    return model, x, y, "binary_crossentropy", keras.optimizers.Adam(1e-2)


def _build_keras_misspelled_loss(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = data.digits(128)
    x = (x / 16.0).astype(np.float32).reshape(-1, 8, 8)  # grey images, as Fashion-MNIST's 28x28
    model = _sequential(keras, (8, 8), [L.Flatten(), L.Dense(64, activation="relu"),
                                       L.Dense(10, activation="softmax")])
    loss = "spare_categorical_crossentropy" if buggy else "sparse_categorical_crossentropy"
    return model, x, labels, loss, keras.optimizers.Adam(1e-3)


def _keyword_sequences(n=160, length=12, classes=8, vocabulary=60):
    """Token ids; each class has two keyword tokens that appear in its sequences among random filler."""
    rng = _rng()
    labels = np.arange(n) % classes
    tokens = rng.integers(2 * classes, vocabulary, (n, length))
    for row, label in enumerate(labels):
        where = rng.choice(length, 2, replace=False)
        tokens[row, where] = [2 * label, 2 * label + 1]
    return tokens.astype(np.int32), labels


def _build_keras_binary_loss_multiclass_bottleneck(buggy):
    keras = _keras()
    L = keras.layers
    x, labels = _keyword_sequences()
    width = 1 if buggy else 16  # the answer: widen the Dense(1) bottleneck ...
    layers = [L.Embedding(60, 16), L.LSTM(32), L.Dense(width, activation="sigmoid"),
              L.Dense(8, activation="softmax")]
    model = _sequential(keras, (12,), layers)
    loss = "binary_crossentropy" if buggy else "categorical_crossentropy"  # ... and use a multi-class loss
    return model, x, data.one_hot(labels, 8), loss, keras.optimizers.Adam(1e-2)


def _stroke_masks(n=96):
    """8x8 digits and a per-pixel label: 0 background, 1 faint stroke, 2 dark stroke (one-hot)."""
    images, _ = data.digits(n)
    images = (images / 16.0).astype(np.float32)
    classes = np.digitize(images, [0.05, 0.5])
    return images.reshape(-1, 8, 8, 1), data.one_hot(classes, 3).reshape(-1, 8, 8, 3)


def _build_keras_segmentation_no_output_activation(buggy):
    keras = _keras()
    L = keras.layers
    x, y = _stroke_masks()
    layers = [L.Conv2D(16, 3, padding="same", activation="relu"),
              L.Conv2D(16, 3, padding="same", activation="relu"),
              L.Conv2D(3, 1, activation=None if buggy else "softmax")]
    model = _sequential(keras, (8, 8, 1), layers)
    return model, x, y, "categorical_crossentropy", keras.optimizers.Adam(1e-3)


def _digits_28x28(n=128):
    """8x8 digits blown up to MNIST's 28x28 (each pixel repeated 3x3, then a 2-pixel border), values in [0, 1]."""
    images, labels = data.digits(n)
    images = np.kron(images.reshape(-1, 8, 8) / 16.0, np.ones((3, 3)))
    return np.pad(images, ((0, 0), (2, 2), (2, 2))).astype(np.float32), labels


def _build_keras_lstm_pixel_by_pixel(buggy):
    keras = _keras()
    L = keras.layers
    images, labels = _digits_28x28()
    # the thread: 784 steps of one pixel each; the poster's fix: 28 steps (rows) of 28 pixels
    x = images.reshape(-1, 784, 1) if buggy else images
    y = (labels % 2).astype(np.float32).reshape(-1, 1)
    model = _sequential(keras, x.shape[1:], [L.LSTM(32), L.Dense(1, activation="sigmoid")])
    return model, x, y, "binary_crossentropy", keras.optimizers.Adam(1e-3)


# --- PyTorch ------------------------------------------------------------------------------------

class _TwoHeads(nn.Module):
    """Two classification tasks from one input; the buggy version sends both through the same last layer."""

    def __init__(self, shared_head, features=10, hidden=32, classes=3):
        super().__init__()
        self.shared_head = shared_head
        self.body = nn.Sequential(nn.Linear(features, hidden), nn.ReLU())
        self.head_a = nn.Linear(hidden, classes)
        self.head_b = self.head_a if shared_head else nn.Linear(hidden, classes)

    def forward(self, x):
        h = self.body(x)
        return torch.cat([torch.log_softmax(self.head_a(h), dim=1), torch.log_softmax(self.head_b(h), dim=1)], dim=1)


class _TwoTaskNLL(nn.Module):
    """Sum of the two tasks' NLL losses; the model's output holds both tasks' log-probabilities side by side."""

    def __init__(self, classes=3):
        super().__init__()
        self.classes = classes

    def forward(self, out, y):
        k = self.classes
        return nn.functional.nll_loss(out[:, :k], y[:, 0]) + nn.functional.nll_loss(out[:, k:], y[:, 1])


def _build_torch_two_targets_one_head(buggy):
    torch.manual_seed(0)
    x, y_a = data.blobs(150, classes=3, features=10)
    y_b = (y_a + 1 + (x[:, 0] > np.median(x[:, 0]))) % 3  # a second labelling of the same rows
    model = _TwoHeads(shared_head=buggy)
    x, y = _tensors(data.standardise(x), np.stack([y_a, y_b], axis=1), torch.long)
    return model, x, y, _TwoTaskNLL(), torch.optim.Adam(model.parameters(), lr=1e-2)


class _SequenceRegressor(nn.Module):
    """LSTM over a window of past values, a linear layer on the last state; the fix flattens to (batch,)."""

    def __init__(self, flatten_output):
        super().__init__()
        self.flatten_output = flatten_output
        self.lstm = nn.LSTM(1, 16, batch_first=True)
        self.out = nn.Linear(16, 1)

    def forward(self, x):
        states, _ = self.lstm(x)
        out = self.out(states[:, -1])
        return out.view(len(x)) if self.flatten_output else out


def _build_torch_lstm_forecast_target_rank1(buggy):
    torch.manual_seed(0)
    rng = _rng()
    t = np.arange(10 + 128, dtype=np.float32)
    prices = (np.sin(t / 6.0) + 0.3 * np.sin(t / 17.0) + rng.normal(0, 0.05, t.shape)).astype(np.float32)
    windows = np.stack([prices[i:i + 10] for i in range(128)])[:, :, None]
    model = _SequenceRegressor(flatten_output=not buggy)
    x, y = _tensors(windows, prices[10:10 + 128])  # targets of shape (batch,)
    return model, x, y, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=1e-2)


def _build_torch_float_class_labels(buggy):
    torch.manual_seed(0)
    images, labels = data.digits(128)
    images = (images / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 64, 10))
    x, y = _tensors(images, labels, torch.float32 if buggy else torch.long)
    return model, x, y, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1)


class _BagOfTokens(nn.Module):
    """Token ids -> embeddings averaged over the sequence -> class scores (a small stand-in for a BERT classifier)."""

    def __init__(self, vocabulary=60, width=16, classes=8):
        super().__init__()
        self.embed = nn.Embedding(vocabulary, width)
        self.out = nn.Linear(width, classes)

    def forward(self, tokens):
        return self.out(self.embed(tokens).mean(dim=1))


def _build_torch_int32_class_labels(buggy):
    torch.manual_seed(0)
    tokens, labels = _keyword_sequences()
    model = _BagOfTokens()
    x = torch.as_tensor(tokens, dtype=torch.long)
    y = torch.as_tensor(labels, dtype=torch.int32 if buggy else torch.long)  # the merged fix: .long()
    return model, x, y, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-2)


def _build_torch_multilabel_cross_entropy(buggy):
    torch.manual_seed(0)
    x, y = data.multilabel(128, features=20, labels=6)  # several emotions switched on per sample
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 6))
    if buggy:  # the README's command: cross-entropy on multi-hot targets
        x, y = _tensors(x, y, torch.long)
        return model, x, y, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-2)
    x, y = _tensors(x, y)
    return model, x, y, nn.BCEWithLogitsLoss(), torch.optim.Adam(model.parameters(), lr=1e-2)


def _grids(n=128, side=6):
    """Single-channel 3-D grids with a bright blob in the lower or the upper half; the label says which."""
    rng = _rng()
    labels = np.arange(n) % 2
    grids = rng.normal(0, 0.3, (n, 1, side, side, side)).astype(np.float32)
    for row, label in enumerate(labels):
        z = rng.integers(0, side // 2) + label * (side // 2)
        y0, x0 = rng.integers(0, side - 1, 2)
        grids[row, 0, z, y0:y0 + 2, x0:x0 + 2] += 2.0
    return grids, labels


def _build_torch_class_targets_column(buggy):
    torch.manual_seed(0)
    grids, labels = _grids()
    model = nn.Sequential(nn.Conv3d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 216, 2))
    targets = labels.reshape(-1, 1) if buggy else labels  # the fix: targets.view(-1)
    x, y = _tensors(grids, targets, torch.long)
    return model, x, y, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-3)


def _tiny_fcn(classes):
    """A fully convolutional net: one score map per class, same height and width as the image."""
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(16, classes, 1))


def _build_torch_fcn_too_few_classes(buggy):
    torch.manual_seed(0)
    images, masks = _stroke_masks()  # one-hot per pixel over 3 classes, as FCN-pytorch's target maps
    model = _tiny_fcn(2 if buggy else 3)  # the poster's fix: set num_class to the data's class count
    x, y = _tensors(images.transpose(0, 3, 1, 2), masks.transpose(0, 3, 1, 2))
    return model, x, y, nn.BCEWithLogitsLoss(), torch.optim.Adam(model.parameters(), lr=1e-2)


def _build_torch_rgb_masks(buggy):
    torch.manual_seed(0)
    images, _ = data.digits(96)
    images = (images / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    masks = (images > 0.4).astype(np.float32)  # one grey channel, as the one-channel output
    if buggy:
        masks = np.repeat(masks, 3, axis=1)  # the masks were read as RGB images
    model = _tiny_fcn(1)
    x, y = _tensors(images, masks)
    return model, x, y, nn.BCEWithLogitsLoss(), torch.optim.Adam(model.parameters(), lr=1e-2)


def _build_torch_negative_class_labels(buggy):
    torch.manual_seed(0)
    tokens, labels = _keyword_sequences(classes=3)
    labels = labels - 1 if buggy else labels  # sentiment written as -1/0/1; the fix numbers classes from 0
    model = _BagOfTokens(classes=3)
    x = torch.as_tensor(tokens, dtype=torch.long)
    y = torch.as_tensor(labels, dtype=torch.long)
    return model, x, y, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-2)


CASES = [
    # --- Keras ---
    case("third_keras_lstm_one_unit_softmax", "keras", "output activation", SO + "47241622",
         "A stateful LSTM binary classifier ends in Dense(1) with softmax under binary cross-entropy, so its "
         "output is 1 for every sequence and accuracy stays near chance.",
         "Use a sigmoid on the single output unit (the accepted answer).",
         {"one-unit-softmax"}, _build_keras_lstm_one_unit_softmax,
         note="128 binary features per sample rebuilt as 16-step 0/1 sequences; labels 0/1 instead of the "
              "thread's -1/1 (the accepted answer addresses only the output activation), stateful batching "
              "left out. Keras 3 computes binary cross-entropy from the pre-softmax score, so the reported loss "
              "falls while the output stays 1 for every sequence (accuracy at chance)."),
    case("third_keras_misspelled_loss", "keras", "loss", GH + "tensorflow/tensorflow/issues/42131",
         "The loss is given as 'spare_categorical_crossentropy', a name Keras does not know, so the Fashion-MNIST "
         "classifier cannot be trained.",
         "Spell the loss 'sparse_categorical_crossentropy' (the commenter's fix, confirmed by the poster).",
         set(), _build_keras_misspelled_loss,
         note=OUTSIDE + "the framework rejects the unknown loss name before any step; no catalogue code names "
              "a misspelt loss. 8x8 digits stand in for Fashion-MNIST."),
    case("third_keras_binary_loss_multiclass_bottleneck", "keras", "loss/output pairing",
         GH + "keras-team/keras/issues/4994",
         "An Embedding-LSTM text classifier squeezes through Dense(1)+sigmoid before a 20-way softmax and is "
         "trained with binary cross-entropy, so accuracy stays at the same value every batch.",
         "Widen the Dense(1) layer and train with categorical cross-entropy (the top answer).",
         set(), _build_keras_binary_loss_multiclass_bottleneck,
         note=OUTSIDE + "no catalogue code names a one-unit bottleneck or binary cross-entropy on a "
              "one-label-per-row multi-class task (the softmax rows are valid probabilities). 20 Newsgroups "
              "rebuilt as 8 classes of keyword-token sequences."),
    case("third_keras_segmentation_no_output_activation", "keras", "loss/output pairing",
         GH + "bonlime/keras-deeplab-v3-plus/issues/129",
         "A segmentation network's last layer has no activation (the constructor's default) while the loss is "
         "categorical cross-entropy, so the loss collapses towards 0 and pixel accuracy stays around 30%.",
         "Give the last layer a softmax activation (the top answer).",
         {"logits-into-probability-loss", "rows-not-probabilities"}, _build_keras_segmentation_no_output_activation,
         note="DeepLab v3+ rebuilt as a 3-layer conv net labelling the pixels of 8x8 digits (background, faint "
              "stroke, dark stroke). Keras 3 divides the raw outputs by their per-pixel sum, so the loss is NaN "
              "from the first step where the thread's Keras 2 showed a loss clipped to 1.19e-07; nothing is "
              "learned either way."),
    case("third_keras_lstm_pixel_by_pixel", "keras", "input shape", GH + "cerndb/dist-keras/issues/9",
         "An LSTM binary classifier reads each MNIST image as 784 steps of one pixel and predicts the same value "
         "for every image.",
         "Feed the image as 28 steps of 28 pixels (rows), as the poster found.",
         set(), _build_keras_lstm_pixel_by_pixel,
         note=OUTSIDE + "no catalogue code leads to reshaping the input into fewer, wider steps "
              "(vanishing-gradients' fix names activations, normalisation and residual connections). 8x8 "
              "digits blown up to 28x28: 784 steps of one pixel against 28 rows of 28; the label is the "
              "digit's parity (the thread's binary labels)."),
    # --- PyTorch ---
    case("third_torch_two_targets_one_head", "torch", "model structure",
         "https://discuss.pytorch.org/t/multi-output-model/49447",
         "A two-output model sends both outputs through the same layers, so the two predictions are identical "
         "and one loss rises when the other falls.",
         "Give each target its own last layer (dense2a, dense2b) on the shared body (the answer).",
         set(), _build_torch_two_targets_one_head,
         note=OUTSIDE + "no catalogue code names two targets read from one head. Rebuilt on 10-feature blobs "
              "with two different 3-class labellings; the model returns both tasks' log-probabilities side "
              "by side and the loss sums two NLL terms."),
    case("third_torch_lstm_forecast_target_rank1", "torch", "shapes", GH + "mlpanda/DeepLearning_Financial/issues/2",
         "An LSTM price forecaster outputs (batch, 1) while the targets are (batch,), so MSELoss compares them by "
         "broadcasting (older PyTorch raised 'input and target shapes do not match').",
         "Reshape the output to the target's shape (out.view(len(target))), as the poster did.",
         {"target-shape-broadcast"}, _build_torch_lstm_forecast_target_rank1,
         note="Stock prices rebuilt as a noisy two-sine series in windows of 10; current PyTorch warns and "
              "broadcasts to (batch, batch) instead of raising."),
    case("third_torch_float_class_labels", "torch", "targets", GH + "burlachenkok/flpytorch/pull/14",
         "Class labels reach CrossEntropyLoss as floating-point numbers instead of integer class indices, so "
         "the simulation crashes at the loss.",
         "Cast the labels to long (integer class indices) before the loss (merged fix).",
         set(), _build_torch_float_class_labels,
         note=OUTSIDE + "PyTorch raises at the loss because the float targets are not class indices; no "
              "catalogue code names the target dtype. A small CNN on 8x8 digits stands in for the federated "
              "image models."),
    case("third_torch_int32_class_labels", "torch", "targets",
         GH + "dumitrescustefan/Romanian-Transformers/pull/6",
         "A text classifier's labels reach CrossEntropyLoss as 32-bit integers, so training stops at the loss "
         "with 'Expected object of scalar type Long but got scalar type Int' (on Windows, where NumPy's default "
         "integer is 32-bit).",
         "Cast the labels to long before the loss (merged fix).",
         set(), _build_torch_int32_class_labels,
         note=OUTSIDE + "PyTorch raises at the loss because the targets are not 64-bit class indices; no "
              "catalogue code names the target dtype. The fine-tuned BERT classifier is rebuilt as averaged "
              "token embeddings and a linear layer on 8 classes of keyword-token sequences."),
    case("third_torch_multilabel_cross_entropy", "torch", "loss/target pairing",
         GH + "wenliangdai/Modality-Transferable-MER/issues/3",
         "CMU-MOSEI's emotion labels are multi-hot (several emotions per sample) but the documented command "
         "trains with cross-entropy, so the loss raises 'multi-target not supported' (current PyTorch: 'Expected "
         "floating point type for target with class probabilities, got Long').",
         "Train with binary cross-entropy for the multi-label task (the poster's diagnosis, confirmed by the "
         "maintainer).",
         {"rows-not-probabilities"}, _build_torch_multilabel_cross_entropy,
         note="rows-not-probabilities' fix sentence names sigmoid outputs with binary cross-entropy for several "
              "labels per sample, which is the thread's fix, although its title describes the outputs, not "
              "multi-hot targets. The multimodal emotion model is rebuilt as a two-layer MLP on scikit-learn's "
              "multi-label data (6 labels), integer multi-hot targets as in the thread's error; the fixed twin uses "
              "BCEWithLogitsLoss on float targets."),
    case("third_torch_class_targets_column", "torch", "shapes", GH + "DeepRank/deeprank/issues/28",
         "Class targets of shape (batch, 1) reach CrossEntropyLoss, which wants (batch,), so classification "
         "training raises 'multi-target not supported'.",
         "Pass targets.view(-1) to the loss (the reporter's fix, applied by the maintainer).",
         {"target-shape-broadcast"}, _build_torch_class_targets_column,
         note="target-shape-broadcast is the nearest code: its title (output and target shapes differ) points "
              "at the targets' shape, though its example reshapes towards (batch, 1), the wrong way for class "
              "indices; a judgement call. DeepRank's 3-D CNN on protein grids is rebuilt as one Conv3d layer "
              "on 6x6x6 grids whose bright blob lies in the lower or upper half."),
    case("third_torch_fcn_too_few_classes", "torch", "output size", GH + "pochih/FCN-pytorch/issues/15",
         "An FCN's number of output classes (20) does not match the classes in the data's one-hot target maps "
         "(32), so BCEWithLogitsLoss raises 'Target size must be the same as input size'.",
         "Set num_class to the data's number of classes (the poster's own follow-up).",
         set(), _build_torch_fcn_too_few_classes,
         note=OUTSIDE + "PyTorch raises at the loss; target-shape-broadcast's fix reshapes the targets, while "
              "this fix widens the output layer, and no code names an output width that differs from the "
              "class count. Rebuilt as a 3-layer FCN on 8x8 digits whose pixels are background, faint or dark "
              "stroke (3 classes); the buggy net has 2 output maps."),
    case("third_torch_rgb_masks", "torch", "shapes", GH + "milesial/Pytorch-UNet/issues/244",
         "Segmentation masks are read as 3-channel RGB images while the U-Net predicts one channel, so "
         "BCEWithLogitsLoss raises 'Target size ([1, 3, 256, 256]) must be the same as input size "
         "([1, 1, 256, 256])'.",
         "Convert the masks to one grey channel (the answer; the poster solved it by changing the input).",
         {"target-shape-broadcast"}, _build_torch_rgb_masks,
         note="target-shape-broadcast's fix (give the targets the output's shape) is the thread's fix. The "
              "U-Net is rebuilt as a 3-layer FCN on 8x8 digits with stroke masks; the buggy masks repeat the "
              "grey mask in three channels."),
    case("third_torch_negative_class_labels", "torch", "targets", GH + "EricFillion/happy-transformer/issues/248",
         "A text classifier's labels include -1, so CrossEntropyLoss raises 'Target -1 is out of bounds'.",
         "Number the labels from 0 (the maintainer).",
         set(), _build_torch_negative_class_labels,
         note=OUTSIDE + "PyTorch raises at the loss because -1 is not a class index; no catalogue code names "
              "labels outside 0..K-1. The library's BERT classifier is rebuilt as averaged token embeddings "
              "and a linear layer on 3 classes of keyword-token sequences labelled -1/0/1."),
]
