"""Sixth held-out set, PyTorch half: public threads rebuilt as (buggy, fixed) twins, for one final measurement.

Built apart from the Keras half, by the same rule; how both were chosen, written and checked is in
sixth_keras_cases.py's docstring and in the README, "Sixth held-out set".
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import case, data
from .fourth_cases import _digit_images as _digit_squares
from .fresh_cases import GH, _digit_pixels, _rng, _tensors
from .third_cases import _keyword_sequences, _tiny_fcn

FORUM = "https://discuss.pytorch.org/t/"


def _digit_images(n=128):
    """8x8 digits as one-channel (n, 1, 8, 8) float32 images in [0, 1], and their labels 0..9."""
    images, labels = _digit_squares(n)
    return images[:, None], labels


# --- a binary CNN whose last ReLU sits in front of the sigmoid ----------------------------------

def _build_relu_before_sigmoid(buggy):
    torch.manual_seed(0)
    images, digits = _digit_images()
    labels = (digits >= 5).astype(np.float32).reshape(-1, 1)  # two classes: digits 0-4 and 5-9
    layers = [nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
              nn.Linear(8 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 1)]
    if buggy:
        layers.append(nn.ReLU())  # the bug: the score is clipped at 0, so the sigmoid never goes below 0.5
    model = nn.Sequential(*layers, nn.Sigmoid())
    x, y = _tensors(images, labels)
    return model, x, y, nn.BCELoss(), torch.optim.Adam(model.parameters(), lr=1e-3)


# --- a sentiment LSTM whose labels were all mapped to 0 ------------------------------------------

class _SentimentLSTM(nn.Module):
    """Embedding (index 0 is padding), LSTM, then Linear-ReLU-Linear-sigmoid on the last hidden state."""

    def __init__(self, vocabulary, embed=20, hidden=64):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, embed, padding_idx=0)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1), nn.Sigmoid())

    def forward(self, tokens):
        _, (hidden, _) = self.lstm(self.embedding(tokens))
        return self.head(hidden[-1])[:, 0]


def _build_review_labels_all_zero(buggy):
    torch.manual_seed(0)
    tokens, sentiment = _keyword_sequences(n=128, classes=2, vocabulary=40)
    tokens = tokens + 1  # keep index 0 free for padding, as the book's vocabulary does
    raw_labels = np.where(sentiment == 1, 2, 1)  # newer torchtext's IMDB labels: 1 negative, 2 positive
    if buggy:  # the book's label pipeline still compares with the old string label
        labels = np.array([1.0 if label == "pos" else 0.0 for label in raw_labels], dtype=np.float32)
    else:
        labels = (raw_labels == 2).astype(np.float32)
    model = _SentimentLSTM(vocabulary=41)
    x = torch.as_tensor(tokens, dtype=torch.long)
    y = torch.as_tensor(labels)
    return model, x, y, nn.BCELoss(), torch.optim.Adam(model.parameters(), lr=1e-3)


# --- siamese networks under a contrastive loss ---------------------------------------------------

def _digit_pairs(images, digits, per_class=12, seed=0):
    """Pairs as the siamese examples make them: for each digit, neighbours of the same digit (label 1)
    and the same image with an image of another digit (label 0)."""
    rng = _rng(seed)
    by_digit = [np.flatnonzero(digits == d) for d in range(10)]
    firsts, seconds, labels = [], [], []
    for d in range(10):
        for i in range(per_class):
            other = (d + rng.integers(1, 10)) % 10
            firsts += [by_digit[d][i], by_digit[d][i]]
            seconds += [by_digit[d][i + 1], by_digit[other][i]]
            labels += [1.0, 0.0]
    pairs = np.stack([images[firsts], images[seconds]], axis=1)
    return pairs, np.array(labels, dtype=np.float32).reshape(-1, 1)


class _SiameseDistance(nn.Module):
    """Runs one embedding network on both images of each pair (x: (n, 2, ...)) and returns the squared
    Euclidean distance between the two embeddings, one value per pair."""

    def __init__(self, embedding):
        super().__init__()
        self.embedding = embedding

    def forward(self, pairs):
        first, second = self.embedding(pairs[:, 0]), self.embedding(pairs[:, 1])
        return (first - second).pow(2).sum(dim=1, keepdim=True)


class _ContrastiveLoss(nn.Module):
    """Similar pairs (target 1) are pulled together, dissimilar ones pushed beyond the margin. ``eps`` is
    added under the square root; with eps=0 the gradient of sqrt at a zero distance is infinite."""

    def __init__(self, margin=1.0, eps=0.0):
        super().__init__()
        self.margin, self.eps = margin, eps

    def forward(self, squared_distance, target):
        distance = (squared_distance + self.eps).sqrt()
        pushed = torch.clamp(self.margin - distance, min=0.0).pow(2)
        return (target * squared_distance + (1 - target) * pushed).sum() / 2.0 / len(target)


def _build_siamese_integer_division(buggy):
    torch.manual_seed(0)
    pixels, digits = _digit_pixels(1797)  # 0..255 integers, as MNIST's raw images
    # the bug: Python 2 divides integers with floor division, so pixels / 255 keeps only the 255s
    scaled = (pixels // 255).astype(np.float32) if buggy else (pixels / 255.0).astype(np.float32)
    pairs, labels = _digit_pairs(scaled.reshape(-1, 1, 8, 8), digits)
    embedding = nn.Sequential(nn.Conv2d(1, 8, 3), nn.MaxPool2d(2), nn.Conv2d(8, 16, 2), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 10), nn.Linear(10, 2))
    model = _SiameseDistance(embedding)
    x, y = _tensors(pairs, labels)
    return model, x, y, _ContrastiveLoss(), torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)


def _build_contrastive_sqrt_without_eps(buggy):
    torch.manual_seed(0)
    images, digits = _digit_images(1797)
    pairs, labels = _digit_pairs(images.reshape(-1, 64), digits, per_class=10, seed=1)
    pairs[0, 1] = pairs[0, 0]  # one similar pair holds the same sample twice, as in the thread
    embedding = nn.Sequential(nn.Linear(64, 64), nn.PReLU(), nn.Linear(64, 2))
    model = _SiameseDistance(embedding)
    x, y = _tensors(pairs, labels)
    loss = _ContrastiveLoss(eps=0.0 if buggy else 1e-9)  # the maintainer's fix: a small eps under the sqrt
    return model, x, y, loss, torch.optim.Adam(model.parameters(), lr=1e-3)


# --- a segmentation whose object pixels are stored as 255 and ignored ----------------------------

def _build_segmentation_mask_255_ignored(buggy):
    torch.manual_seed(0)
    images, _ = _digit_images(96)
    objects = images[:, 0] > 0.4  # the "car" pixels of each image
    masks = objects.astype(np.int64) * (255 if buggy else 1)  # the poster's masks store the car as 255
    masks[masks == 255] = -1  # the Pascal VOC loader the poster copied marks 255 as "ignore"
    model = _tiny_fcn(2)
    x, y = _tensors(images, masks, torch.long)
    return model, x, y, nn.CrossEntropyLoss(ignore_index=-1), torch.optim.Adam(model.parameters(), lr=1e-2)


# --- transfer learning whose new head is one class short -----------------------------------------

def _frozen_backbone():
    """A small convolutional trunk standing in for the pretrained ResNet50, frozen as the tutorial freezes it."""
    trunk = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
    for parameter in trunk.parameters():
        parameter.requires_grad = False
    return trunk


def _build_transfer_head_one_class_short(buggy):
    torch.manual_seed(0)
    images, digits = _digit_images()
    classes = 10  # len(os.listdir(valid_directory)): one folder per class
    outputs = classes - 1 if buggy else classes  # the bug: one output fewer than there are folders
    model = nn.Sequential(_frozen_backbone(), nn.Linear(32 * 4 * 4, 256), nn.ReLU(), nn.Dropout(0.4),
                          nn.Linear(256, outputs), nn.LogSoftmax(dim=1))
    x, y = _tensors(images, digits, torch.long)
    return model, x, y, nn.NLLLoss(), torch.optim.Adam(model.parameters())


# --- an evidential classifier whose one-hot targets keep the default ten columns -----------------

class _EvidentialMSELoss(nn.Module):
    """The evidential (Dirichlet) squared-error loss: ReLU evidence + 1 gives the Dirichlet parameters; the
    loss is the expected squared error plus its variance (the KL term, weighted 0 at epoch 0, left out)."""

    def forward(self, outputs, one_hot_targets):
        alpha = torch.relu(outputs) + 1
        strength = alpha.sum(dim=1, keepdim=True)
        probabilities = alpha / strength
        error = (one_hot_targets - probabilities).pow(2).sum(dim=1)
        variance = (probabilities * (1 - probabilities) / (strength + 1)).sum(dim=1)
        return (error + variance).mean()


def _build_evidential_one_hot_default_width(buggy):
    torch.manual_seed(0)
    images, digits = _digit_images(256)
    keep = digits < 5  # a data set with five classes instead of MNIST's ten
    images, digits = images[keep], digits[keep]
    classes = 5
    # the bug: one_hot_embedding(labels) falls back on its default of 10 columns
    targets = data.one_hot(digits, 10 if buggy else classes)
    model = nn.Sequential(nn.Conv2d(1, 20, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(20, 50, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(50 * 2 * 2, 500), nn.ReLU(), nn.Linear(500, classes))
    x, y = _tensors(images, targets)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=0.005)
    return model, x, y, _EvidentialMSELoss(), optimizer


# --- a sleep-stage classifier whose label files are read in another order than the data ----------

def _sleep_recordings(recordings=10, epochs_each=12, length=64, stages=5):
    """Two-channel 'EEG' epochs whose dominant frequency depends on the sleep stage, grouped by recording."""
    rng = _rng()
    instants = np.arange(length) / length
    stages_of = rng.integers(0, stages, (recordings, epochs_each))
    frequency = 2.0 + 3.0 * stages_of[..., None, None]
    phase = rng.uniform(0, 2 * np.pi, (recordings, epochs_each, 2, 1))
    noise = rng.normal(0, 0.3, (recordings, epochs_each, 2, length))
    signals = np.sin(2 * np.pi * frequency * instants + phase) + noise
    return signals.astype(np.float32), stages_of


def _build_sleep_labels_other_file_order(buggy):
    torch.manual_seed(0)
    signals, stages = _sleep_recordings()
    names = [f"record_{i + 1}" for i in range(len(signals))]
    data_order = sorted(range(len(names)), key=lambda i: int(names[i].split("_")[1]))  # numeric order
    # the bug: the label files are listed by name, record_1, record_10, record_2, ...
    label_order = sorted(range(len(names)), key=lambda i: names[i]) if buggy else data_order
    x = np.concatenate([signals[i] for i in data_order])
    y = np.concatenate([stages[i] for i in label_order])
    model = nn.Sequential(nn.Conv1d(2, 8, 7, padding=3), nn.ReLU(), nn.MaxPool1d(4),
                          nn.Conv1d(8, 8, 5, padding=2), nn.ReLU(), nn.AdaptiveAvgPool1d(1), nn.Flatten(),
                          nn.Linear(8, 5))
    x, y = _tensors(x, y, torch.long)
    return model, x, y, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-3)


# --- a PointNet whose data set holds one point cloud that normalises to NaN ----------------------

def _point_clouds(per_class=32, points=64):
    """Point clouds, each (points, 3), sampled on a sphere, a cube or a cylinder (labels 0, 1, 2), at random
    scales."""
    rng = _rng()
    clouds, labels = [], []
    for label in range(3):
        for _ in range(per_class):
            raw = rng.normal(size=(points, 3))
            if label == 0:
                raw /= np.linalg.norm(raw, axis=1, keepdims=True)
            elif label == 1:
                raw = np.clip(raw, -1, 1)
                raw[np.arange(points), rng.integers(0, 3, points)] = rng.choice([-1.0, 1.0], points)
            else:
                raw[:, :2] /= np.linalg.norm(raw[:, :2], axis=1, keepdims=True)
            clouds.append(raw * rng.uniform(0.5, 2.0))
            labels.append(label)
    return clouds, np.array(labels)


def _normalise_cloud(cloud):
    """Centre the cloud and divide it by its largest distance from the centre, as the repository's loader
    does (0 / 0 for a cloud whose points all coincide)."""
    centred = cloud - cloud.mean(axis=0, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return centred / np.max(np.sqrt((centred ** 2).sum(axis=1)))


def _build_pointnet_degenerate_cloud(buggy):
    torch.manual_seed(0)
    clouds, labels = _point_clouds()
    if buggy:  # the poster's data set held one model whose sampled points all coincide (here at the origin)
        clouds[5] = np.zeros_like(clouds[5])
    else:  # the poster's fix: that model was taken out of the data set
        del clouds[5]
        labels = np.delete(labels, 5)
    x = np.stack([_normalise_cloud(cloud).T for cloud in clouds]).astype(np.float32)
    model = nn.Sequential(nn.Conv1d(3, 32, 1), nn.BatchNorm1d(32), nn.ReLU(), nn.Conv1d(32, 64, 1),
                          nn.BatchNorm1d(64), nn.ReLU(), nn.AdaptiveMaxPool1d(1), nn.Flatten(),
                          nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 3), nn.LogSoftmax(dim=1))
    x, y = _tensors(x, labels, torch.long)
    return model, x, y, nn.NLLLoss(), torch.optim.Adam(model.parameters(), lr=1e-3)


# --- a trajectory sequence model built for a vocabulary two tokens smaller than the data's -------

class _TrajectoryDenoiser(nn.Module):
    """Embedding, GRU and a per-step Linear over the cell vocabulary: reads a noisy sequence of grid-cell
    tokens and scores the original cell at every step, as (batch, vocabulary, steps) for CrossEntropyLoss."""

    def __init__(self, vocabulary, embed=32, hidden=64):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, embed)
        self.gru = nn.GRU(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocabulary)

    def forward(self, tokens):
        states, _ = self.gru(self.embedding(tokens))
        return self.head(states).transpose(1, 2)


def _cell_trajectories(n=128, steps=12, cells=42):
    """Trajectories as walks over grid-cell tokens 0..cells-1, and noisy copies with 20% of the cells
    replaced by a neighbouring cell."""
    rng = _rng()
    starts = rng.integers(0, cells, (n, 1))
    walks = (starts + np.cumsum(rng.integers(0, 3, (n, steps)), axis=1)) % cells
    noise = rng.random((n, steps)) < 0.2
    noisy = np.where(noise, (walks + rng.choice([-1, 1], (n, steps))) % cells, walks)
    return noisy, walks


def _build_trajectory_vocabulary_too_small(buggy):
    torch.manual_seed(0)
    noisy, original = _cell_trajectories()
    vocabulary = 40 if buggy else 42  # the bug: the size the old preprocessing gave, two short of the data's
    model = _TrajectoryDenoiser(vocabulary)
    x, y = torch.as_tensor(noisy, dtype=torch.long), torch.as_tensor(original, dtype=torch.long)
    return model, x, y, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-2)


CASES = [
    case("sixth_torch_relu_before_sigmoid", "torch", "output activation",
         FORUM + "output-of-the-binary-classification-model/56327",
         "A binary image classifier applies ReLU to its one output score and then a sigmoid, so its "
         "probability never falls below 0.5 and the class near 0 can never be predicted.",
         "Remove the final ReLU so the sigmoid receives the raw score (the poster's own follow-up, confirmed "
         "by a reply).",
         {"output-cannot-reach-target"}, _build_relu_before_sigmoid,
         note="The poster's Xception-like CNN on three patch sizes (16, 32, 48) is rebuilt as one small CNN "
              "(Conv-ReLU-MaxPool, Linear 64, Linear 1) on 128 of scikit-learn's 8x8 digits, labelled 0-4 "
              "against 5-9, with BCELoss; the optimizer is not shown in the thread, Adam at 1e-3 is used. The "
              "poster reasoned that the model cannot predict the class near 0, a collapse to one class. "
              "output-cannot-reach-target's fix ('use a linear output (no activation)' in front of the "
              "probability) is the thread's fix. dead-relu was considered and left out: its LeakyReLU keeps "
              "a clipped score, not the thread's fix."),
    case("sixth_torch_review_labels_all_zero", "torch", "targets",
         GH + "rasbt/machine-learning-book/pull/137",
         "A book's IMDb sentiment LSTM maps each label with `1. if label == 'pos' else 0.`, but newer "
         "torchtext gives the labels as 1 and 2, so every review is labelled 0 and the model reports "
         "100% accuracy while learning nothing.",
         "Map the new integer labels (2 is positive) onto 1 and 0 (the merged fix).",
         {"constant-targets"}, _build_review_labels_all_zero,
         note="The book's Embedding(padding_idx=0)-LSTM-Linear-ReLU-Linear-sigmoid model, BCELoss and Adam at "
              "1e-3 are kept; IMDb reviews are rebuilt as 128 synthetic sequences of 12 token ids (vocabulary "
              "40) in which two keyword tokens mark the sentiment, without padding, so the packing step is "
              "left out. The reported symptom is the collapse itself: a constant prediction scores 100% on "
              "labels that are all 0."),
    case("sixth_torch_siamese_integer_division", "torch", "inputs",
         GH + "delijati/pytorch-siamese/issues/3",
         "A siamese CNN's preprocessing divides the uint8 MNIST pixels by 255 under Python 2, whose integer "
         "division keeps only the pixels equal to 255, so distinct images become identical, a pair's "
         "distance is exactly 0 and the square root in the contrastive loss gives a NaN loss.",
         "Divide by 255.0 so the pixels become floats in [0, 1] (a reply found it, the maintainer fixed it).",
         {"non-finite-loss"}, _build_siamese_integer_division,
         note="MNIST is rebuilt as scikit-learn's 8x8 digits put on the 0..255 scale; Python 2's integer "
              "division is written as floor division (//). The thread's contrastive loss, SGD at 0.01 with "
              "momentum 0.9 and a conv-pool-conv-pool-fc embedding (sized for 8x8) are kept; 240 pairs are "
              "built as the repository does (neighbours of one digit, label 1; the same image with another "
              "digit, label 0), of which one similar pair becomes two identical images after the buggy "
              "division. The model returns each pair's squared distance, so the accuracy the fidelity check "
              "prints for this case has no meaning. Judgement call: non-finite-loss's fix ('scale the "
              "inputs, check log/division') leads to the division in the preprocessing."),
    case("sixth_torch_contrastive_sqrt_without_eps", "torch", "loss",
         GH + "adambielski/siamese-triplet/issues/18",
         "A contrastive loss takes the square root of a squared distance that is exactly 0 for a pair of "
         "identical samples, so the gradient is NaN and the weights become NaN.",
         "Add a small epsilon under the square root (the reporter's suggestion, added by the maintainer).",
         {"non-finite-loss"}, _build_contrastive_sqrt_without_eps,
         note="The repository's siamese training on MNIST is rebuilt on scikit-learn's 8x8 digits (200 pairs, "
              "flattened) with a small MLP embedding into 2-D and Adam at 1e-3; one similar pair holds the "
              "same sample twice, the case the reporter met. The model returns each pair's squared distance, "
              "so the accuracy the fidelity check prints for this case has no meaning. non-finite-loss's fix "
              "('check log/division') leads to the square root at 0."),
    case("sixth_torch_segmentation_mask_255_ignored", "torch", "targets",
         GH + "Tramac/awesome-semantic-segmentation-pytorch/issues/26",
         "A two-class (car/background) segmentation stores the car pixels as 255 in its masks; the Pascal "
         "VOC loader it copied turns 255 into the ignore index, so only background is ever trained and the "
         "model predicts background everywhere (pixel accuracy 1.0, mIoU 0.5).",
         "Store the car pixels as 1 and the background as 0 in the masks (the maintainer's answer).",
         {"labels-not-class-indices", "constant-targets"}, _build_segmentation_mask_255_ignored,
         note="PSPNet on the poster's car images is rebuilt as a three-layer fully convolutional net on 96 of "
              "scikit-learn's 8x8 digits, the 'car' being the stroke pixels (> 0.4), with the repository's "
              "cross-entropy with ignore_index=-1 and Adam at 1e-2. The accuracy the fidelity check prints "
              "for the buggy twin counts the ignored pixels as wrong. Judgement call: labels-not-class-indices' "
              "fix (labels 0..K-1) is the thread's fix; constant-targets' fix ('check the labels: scaled ... "
              "divided by 255') also leads to the 255s, and every label the loss keeps is background."),
    case("sixth_torch_transfer_head_one_class_short", "torch", "output size",
         GH + "spmallick/learnopencv/pull/516",
         "A transfer-learning tutorial sets the new head's number of outputs to the number of class folders "
         "minus one, so the last class's label is out of range and NLLLoss fails at the first batch.",
         "Give the last Linear layer one output per class folder (num_classes = number of folders; the pull "
         "request, which the maintainer found already in the tutorial).",
         {"output-width-mismatch", "labels-not-class-indices"}, _build_transfer_head_one_class_short,
         note="The tutorial's frozen, pretrained ResNet50 on ten Caltech classes is rebuilt as a frozen random "
              "convolutional trunk (nothing is downloaded) on 128 of scikit-learn's 8x8 digits (ten classes); "
              "the tutorial's head (Linear 256, ReLU, Dropout 0.4, Linear, LogSoftmax), NLLLoss and Adam at "
              "its default rate are kept. On the CPU the failure is an IndexError (the thread's GPU run "
              "stops at a device-side assertion). Both codes' fixes ask for one output per class."),
    case("sixth_torch_evidential_one_hot_default_width", "torch", "targets",
         GH + "dougbrion/pytorch-classification-uncertainty/issues/1",
         "An evidential classifier trained on a data set with fewer than ten classes builds its one-hot "
         "targets with one_hot_embedding(labels), whose default is ten columns, so the targets do not match "
         "the model's outputs and the loss fails.",
         "Pass the number of classes: one_hot_embedding(labels, num_classes) (the reporter's fix, accepted "
         "by the maintainer).",
         {"target-shape-broadcast"}, _build_evidential_one_hot_default_width,
         note="The repository's LeNet on MNIST is rebuilt as a small LeNet-like CNN on scikit-learn's 8x8 "
              "digits 0-4 (five classes, about 130 rows) with the repository's evidential squared-error loss "
              "(its KL term, weighted 0 in the first epoch, left out) and Adam at 1e-3 with weight decay "
              "0.005. target-shape-broadcast's fix ('give the targets the output's shape') is the thread's "
              "fix; output-width-mismatch was left out because its fix widens the output layer, and the "
              "model's five outputs are right."),
    case("sixth_torch_sleep_labels_other_file_order", "torch", "targets",
         GH + "yangdai97/MultiChannelSleepNet/issues/1",
         "A multi-channel sleep-stage classifier is trained on data and label files read in different "
         "orders, so the labels do not belong to their epochs; the model never fits and predicts mostly "
         "one stage.",
         "Read the data and the label files in the same (sorted) order so each epoch keeps its own label "
         "(the poster's own follow-up).",
         set(), _build_sleep_labels_other_file_order,
         note="Outside what diagnose can see: no catalogue code names labels that belong to other inputs "
              "(shuffled or misaligned pairs). The thread's transformer on EEG recordings is rebuilt as a "
              "small 1-D CNN on 120 synthetic two-channel epochs from ten 'recordings', whose dominant "
              "frequency gives the stage; the buggy twin reads the label files in name order (record_1, "
              "record_10, record_2, ...) while the data are in numeric order. On this small set the buggy "
              "twin fits part of the shuffled labels (accuracy 0.52 after 300 steps, predictions spread over "
              "the stages) rather than collapsing to one stage as in the thread."),
    case("sixth_torch_pointnet_degenerate_cloud", "torch", "inputs",
         GH + "fxia22/pointnet.pytorch/issues/58",
         "A PointNet classifier's data set holds one CAD model whose sampled points all coincide, so the "
         "loader's centre-and-scale step divides 0 by 0, that input is NaN and the loss turns NaN.",
         "Take the degenerate model out of the data set (the poster's follow-up, confirming the maintainer's "
         "advice to look for NaN in the data).",
         {"non-finite-loss"}, _build_pointnet_degenerate_cloud,
         note="The poster's custom CAD-model data set is rebuilt as 96 synthetic point clouds of 64 points on a "
              "sphere, a cube or a cylinder, normalised as the repository's loader does; one cloud's points all "
              "sit at the origin in the buggy twin (the thread does not say how its model was degenerate) and "
              "that cloud is removed in the fixed one. PointNet is cut down to two shared point-wise layers "
              "with BatchNorm, max pooling and a two-layer head (the input and feature transforms left out), "
              "with NLLLoss and Adam at 1e-3. Trained on the whole batch, the "
              "loss is NaN from the first step (the thread saw it after 10-20 batches, when the bad model's "
              "batch came up). The poster's follow-up survives only as a quotation in a later comment. "
              "non-finite-loss's fix ('check log/division') leads to the division."),
    case("sixth_torch_trajectory_vocabulary_too_small", "torch", "model structure",
         GH + "boathit/t2vec/issues/17",
         "A trajectory seq2seq model is built with the vocabulary size its README gives (18864) while the "
         "user's preprocessing produced 18866 cell tokens, so the largest token ids are out of range and "
         "training stops with an index error.",
         "Build the model with the vocabulary size that the preprocessing outputs (the maintainer's answer).",
         {"embedding-too-small", "output-width-mismatch", "labels-not-class-indices"},
         _build_trajectory_vocabulary_too_small,
         note="t2vec's GRU encoder-decoder, trained on noisy and down-sampled taxi trajectories with a "
              "neighbour-weighted KL loss, is rebuilt as a one-layer GRU that reads 128 synthetic noisy walks "
              "of 12 grid-cell tokens (42 cells) and scores the original cell at each step with "
              "cross-entropy (Adam at 1e-2); the buggy twin is built for 40 cells, two short as in the "
              "thread, and fails at the embedding lookup (the thread's run failed at the loss's gather on "
              "the output). All three codes' fixes size the tables from the data: the embedding (vocabulary "
              "size from the largest index), and the output layer (one unit per class)."),
]
