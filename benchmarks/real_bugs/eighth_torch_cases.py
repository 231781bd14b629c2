"""Eighth held-out set, PyTorch part (torch): public threads rebuilt as (buggy, fixed) twins, for one final measurement.

Built apart from the other parts by the same rule, by someone who read only diagnose's catalogue and never
ran the detectors; how the threads were chosen is in the README, "Eighth held-out set".

This file holds the part on images (CNNs, transfer learning, segmentation, detection heads), sequences
(recurrent and 1-D convolutional models, transformers), text and embeddings, and GANs.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import case, data
from .fresh_cases import GH, OUTSIDE, _rng, _tensors
from .sixth_torch_cases import _digit_images

# --- a U-Net given one-hot class masks -----------------------------------------------------------

SCENE_CLASSES = 4  # CamVid has 12 (or 32) classes; here background and three stroke-intensity classes


def _scene_masks(n=96):
    """8x8 digits as one-channel images and, per pixel, a class: 0 background, 1-3 faint to dark stroke."""
    images, _ = _digit_images(n)
    classes = np.digitize(images[:, 0], [0.15, 0.45, 0.75]).astype(np.int64)  # (n, 8, 8)
    return images, classes


class _TinyUNet(nn.Module):
    """A two-level U-Net: an encoder block, a pooled block, upsampling, a skip concatenation and a 1x1
    convolution that gives one score map per class."""

    def __init__(self, classes, width=16):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(width, width, 3, padding=1), nn.ReLU())
        self.bottom = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU())
        self.up = nn.ConvTranspose2d(2 * width, width, 2, stride=2)
        self.merge = nn.Sequential(nn.Conv2d(2 * width, width, 3, padding=1), nn.ReLU(),
                                   nn.Conv2d(width, classes, 1))

    def forward(self, x):
        skip = self.down(x)
        return self.merge(torch.cat([skip, self.up(self.bottom(skip))], dim=1))


def _build_unet_one_hot_masks(buggy):
    torch.manual_seed(0)
    images, classes = _scene_masks()
    if buggy:  # one binary map per class, (n, classes, h, w), as the repository's rgb_to_mask builds them
        masks = np.eye(SCENE_CLASSES, dtype=np.int64)[classes].transpose(0, 3, 1, 2)
    else:  # the fix: one class index per pixel, (n, h, w)
        masks = classes
    model = _TinyUNet(SCENE_CLASSES)
    x, y = _tensors(images, masks, torch.long)
    return model, x, y, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-3)


CASES = []
