"""Sixteenth held-out set, part g: real faults from Humbatova et al.'s taxonomy of real faults in deep learning
systems (Stack Overflow posts and GitHub commits or issues), each rebuilt as (buggy, fixed) twins, for one
measurement.

The entries were taken in a fixed shuffled order (`fifteenth_frame.txt`, entries 98-103) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Sixteenth held-out
set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import case, data
from .fresh_cases import _rng


# --- entry 100: a softmax appended to every classifier's forward, trained with CrossEntropyLoss -------------------
# (NervanaSystems/distiller commit 0a8a3b3; the buggy program is its parent, models/__init__.py's create_model)

class _Simplenet(nn.Module):
    """distiller's models/cifar10/simplenet_cifar.py (a LeNet for 32x32x3 images), layer for layer."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class _ForwardThenSoftmax(nn.Module):
    """create_model's patched forward: the classifier's own forward, then a softmax over the classes (the softmax is
    a closure in the source, not a registered layer, so it is applied here in forward as well)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return torch.softmax(self.net(x), dim=1)


def _build_torch_distiller_create_model_softmax(buggy):
    torch.manual_seed(0)
    images, labels = data.digits(128)
    # 8x8 digits scaled to [0, 1], enlarged 4x to the 32x32 CIFAR size Simplenet is built for, over 3 channels
    x = np.kron((images / 16.0).reshape(-1, 1, 8, 8), np.ones((1, 1, 4, 4))).repeat(3, axis=1).astype(np.float32)
    net = _Simplenet()
    model = _ForwardThenSoftmax(net) if buggy else net  # the fix deletes the softmax from create_model
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    return model, torch.as_tensor(x), torch.as_tensor(labels), nn.CrossEntropyLoss(), optimizer


# --- entry 102: kur's PyTorch "parallel" (time-distributed) operation concatenates instead of stacking -------------
# (deepgram/kur commit 04ca948; kur/backend/pytorch/modules.py, parallel())

class _KurParallel(nn.Module):
    """kur's parallel(): apply one layer to each sample (unbind over axis 0) and put the samples back together."""

    def __init__(self, layer, buggy):
        super().__init__()
        self.layer = layer
        self.buggy = buggy

    def forward(self, x):
        outputs = tuple(self.layer(sample) for sample in torch.unbind(x, 0))
        if self.buggy:
            return torch.cat(outputs, 0)  # the bug: (batch * time, units), the batch axis is gone
        return torch.stack(outputs, 0)  # the fix: (batch, time, units)


class _RecurrentThenParallelDense(nn.Module):
    """A recurrent layer followed by a parallel (per-step) dense layer, the way kur's models use `parallel`."""

    def __init__(self, buggy):
        super().__init__()
        self.rnn = nn.GRU(8, 32, batch_first=True)
        self.parallel = _KurParallel(nn.Linear(32, 1), buggy)

    def forward(self, x):
        h, _ = self.rnn(x)  # (batch, time, 32)
        return self.parallel(h)


def _build_torch_kur_parallel_cat_not_stack(buggy):
    torch.manual_seed(0)
    x = _rng().standard_normal((64, 10, 8)).astype(np.float32)
    # one target per step: the running mean of the first feature up to that step, (batch, time, 1)
    y = (np.cumsum(x[:, :, 0], axis=1) / np.arange(1, 11))[:, :, None].astype(np.float32)
    model = _RecurrentThenParallelDense(buggy)
    return (model, torch.as_tensor(x), torch.as_tensor(y), nn.MSELoss(),
            torch.optim.Adam(model.parameters(), lr=1e-3))


CASES = [
    case("sixteenth_torch_distiller_create_model_softmax", "torch", "loss/output pairing",
         "https://github.com/NervanaSystems/distiller/commit/0a8a3b3",
         "The model factory replaces every classifier's forward with one that applies a softmax to its scores (meant "
         "for ONNX export), and training feeds those probabilities to CrossEntropyLoss, which applies its own softmax, "
         "so the loss is squashed and the classifier barely learns.",
         "Remove the added softmax from the model factory so CrossEntropyLoss gets the raw scores.",
         {"softmax-before-crossentropy"}, _build_torch_distiller_create_model_softmax,
         note="Read: `git show 0a8a3b3` in the NervanaSystems/distiller mirror ('Bug fix: remove softmax layer from "
              "model loading code'; the softmax had been added two commits earlier, e68433c, for ONNX export), the "
              "parent's models/__init__.py, models/cifar10/simplenet_cifar.py and "
              "examples/classifier_compression/compress_classifier.py (nn.CrossEntropyLoss, SGD with momentum 0.9, "
              "weight decay 1e-4, lr 0.1 by default, batches of 256). Taxonomy tag: redundant softmax layer, 1.2.1 "
              "Model. Kept: Simplenet layer for layer (conv 6@5x5, pool, conv 16@5x5, pool, 120, 84, 10), the softmax "
              "over dim 1 applied after the model's own forward and not registered as a layer (a closure in the "
              "source; here a wrapper module whose forward calls torch.softmax, since the source's monkey-patched "
              "lambda would keep pointing at the original model in any copy), CrossEntropyLoss, SGD with momentum "
              "0.9 and weight decay 1e-4. Changed: 128 of scikit-learn's 8x8 digits (pixels / 16) enlarged 4x to "
              "32x32 and repeated over 3 channels instead of CIFAR-10; DataParallel and .cuda() left out; learning "
              "rate 0.01 instead of 0.1, a judgement call: on one full batch of 128 at 0.1 the fixed twin did not "
              "train either in 200 steps (loss stayed at 2.30), at 0.01 it fits the batch. Trying rates before "
              "writing the case: at 0.02-0.05 the buggy twin learns in part in 200 steps (accuracy 0.35-0.70, its "
              "loss cannot fall below about 1.46, the floor of softmax-then-cross-entropy over 10 classes), and at "
              "0.01 it reaches 0.88 accuracy after 600 steps: the symptom is learning slowed to a crawl with a loss "
              "that cannot approach zero, not a hard stop. The commit shows no run; the failure is shown by plain "
              "training of the twins. softmax-before-crossentropy's fix (remove the final softmax, the loss applies "
              "it) is the commit."),
    case("sixteenth_torch_kur_parallel_cat_not_stack", "torch", "batch axis / shape",
         "https://github.com/deepgram/kur/commit/04ca948",
         "A time-distributed (parallel) layer applies a dense layer to each sample in turn and joins the results with "
         "torch.cat along axis 0, so the (batch, time, units) output comes back as (batch * time, units) and no "
         "longer lines up with the per-step targets.",
         "Join the per-sample outputs with torch.stack along axis 0, which keeps the batch axis.",
         {"samples-mixed"}, _build_torch_kur_parallel_cat_not_stack,
         note="Read: `git show 04ca948` in the deepgram/kur mirror ('Fixed a bug with parallel operations in "
              "PyTorch') and the parent's kur/backend/pytorch/modules.py and kur/containers/layers/parallel.py; the "
              "taxonomy's sheet (round_5.xlsx) describes the fault as a wrong tensor shape, PyTorch cat vs stack "
              "(tag: wrong tensor shape, 4.1 Tensors and Inputs). kur is a framework whose models are written in "
              "YAML; its `parallel` container is Keras's TimeDistributed, which its PyTorch backend implements by "
              "unbinding the batch axis, applying the child layer to each sample and joining the results. The bug "
              "sits in that forward pass. Kept: the unbind over axis 0, the child dense layer applied per sample, cat "
              "(buggy) or stack (fixed) along axis 0, a recurrent layer before the parallel dense as in kur's "
              "examples, Adam at kur's default rate 1e-3. Changed: 64 synthetic sequences of 10 steps of 8 features "
              "with a per-step regression target (the running mean of the first feature) under mean squared error, "
              "instead of a speech model with softmax and CTC loss; a GRU of 32 units. Judgement calls: the same "
              "commit also mends kur's plumbing around the operation (the wrapper took *x and was handed kur's "
              "connect function instead of the torch operation), which in the parent would likely raise a TypeError "
              "before the cat was reached; those are framework internals with no counterpart in a PyTorch model, so "
              "the twins keep only the cat-versus-stack fault the taxonomy names. The buggy twin raises at the loss "
              "((640, 1) output against (64, 10, 1) targets) at the first step. expected: samples-mixed's fix (keep "
              "the batch on axis 0 all the way through) leads to stack; target-shape-broadcast's fix would reshape "
              "the targets to (640, 1), which here happens to line up and train, but is not the commit's fix."),
]
