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

from . import case
from .fresh_cases import GH, _rng, _tensors
from .sixth_torch_cases import _digit_images, _digit_pairs

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

    def __init__(self, classes, width=16, in_channels=1):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(),
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



# --- a U-Net fed its RGB images channels-last ------------------------------------------------------

def _tinted_lesions(n=96):
    """8x8 digits as RGB images, (n, 8, 8, 3) as an image file decodes them: each stroke gets its own colour
    over a pale background. The mask (n, 1, 8, 8) marks the stroke ('lesion') pixels."""
    rng = _rng()
    images, _ = _digit_images(n)
    strokes = images[:, 0]  # (n, 8, 8) in [0, 1]
    colours = rng.uniform(0.3, 1.0, (n, 1, 1, 3))
    background = 0.9 - 0.1 * rng.random((n, 8, 8, 1))
    rgb = (1 - strokes[..., None]) * background + strokes[..., None] * colours
    masks = (strokes > 0.4).astype(np.float32)[:, None]
    return rgb.astype(np.float32), masks


class _SigmoidUNet(nn.Module):
    """The two-level U-Net with one output map and the repository's sigmoid on it (its loss is BCELoss)."""

    def __init__(self, in_channels):
        super().__init__()
        self.unet = _TinyUNet(1, in_channels=in_channels)

    def forward(self, x):
        return torch.sigmoid(self.unet(x))


def _build_unet_images_channels_last(buggy):
    torch.manual_seed(0)
    rgb, masks = _tinted_lesions()
    images = rgb if buggy else rgb.transpose(0, 3, 1, 2)  # the fix: (n, 3, h, w), channels first
    model = _SigmoidUNet(in_channels=3)
    x, y = _tensors(images, masks)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))
    return model, x, y, nn.BCELoss(), optimizer


# --- a siamese CNN whose pair distances lose their column ----------------------------------------

class _SiameseFaces(nn.Module):
    """The tutorial's siamese CNN (three reflection-padded 3x3 convolutions with ReLU and BatchNorm, then
    500-500-5 dense layers) run on both images of each pair; returns the Euclidean distance of the two
    embeddings, F.pairwise_distance, with or without keepdim."""

    def __init__(self, keepdim):
        super().__init__()
        self.keepdim = keepdim
        self.cnn = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(1, 4, 3), nn.ReLU(), nn.BatchNorm2d(4),
            nn.ReflectionPad2d(1), nn.Conv2d(4, 8, 3), nn.ReLU(), nn.BatchNorm2d(8),
            nn.ReflectionPad2d(1), nn.Conv2d(8, 8, 3), nn.ReLU(), nn.BatchNorm2d(8))
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(8 * 8 * 8, 500), nn.ReLU(), nn.Linear(500, 500), nn.ReLU(),
                                nn.Linear(500, 5))

    def forward(self, pairs):
        first, second = self.fc(self.cnn(pairs[:, 0])), self.fc(self.cnn(pairs[:, 1]))
        return nn.functional.pairwise_distance(first, second, keepdim=self.keepdim)


class _TutorialContrastiveLoss(nn.Module):
    """The tutorial's contrastive loss: label 0 for a pair of the same person, 1 for different people;
    mean((1 - label) * d^2 + label * max(margin - d, 0)^2) with margin 2."""

    def __init__(self, margin=2.0):
        super().__init__()
        self.margin = margin

    def forward(self, distance, label):
        return torch.mean((1 - label) * distance.pow(2)
                          + label * torch.clamp(self.margin - distance, min=0.0).pow(2))


def _build_siamese_distance_without_keepdim(buggy):
    torch.manual_seed(0)
    images, digits = _digit_images(1797)
    pairs, same = _digit_pairs(images, digits, per_class=6)
    labels = 1.0 - same  # the tutorial's labels: 1 when the two images show different people
    model = _SiameseFaces(keepdim=not buggy)  # the fix: keepdim=True, one distance per row, (n, 1)
    x, y = _tensors(pairs, labels)
    return model, x, y, _TutorialContrastiveLoss(), torch.optim.Adam(model.parameters(), lr=0.0005)


# --- a four-level U-Net given images whose side is not a multiple of 16 ---------------------------

def _resized_rgb_scenes(side, n=64):
    """Digit strokes drawn in colour over a grey background, resized (bilinear) to side x side: RGB images
    (n, 3, side, side) normalised to [-1, 1] as the repository's transform does, and binary stroke masks
    (n, 1, side, side)."""
    rng = _rng()
    images, _ = _digit_images(n)
    big = nn.functional.interpolate(torch.as_tensor(images), size=(side, side), mode="bilinear",
                                    align_corners=False).numpy()
    colours = rng.uniform(0.3, 1.0, (n, 3, 1, 1))
    rgb = (1 - big) * 0.5 + big * colours
    masks = (big > 0.4).astype(np.float32)
    return ((rgb - 0.5) / 0.5).astype(np.float32), masks


class _FourLevelUNet(nn.Module):
    """The repository's U_Net shape at 1/8 of its width: five double-convolution blocks (8..128 channels) with
    four 2x2 max-poolings, upsampling (nearest, then a convolution) and skip concatenations, one
    output map (logits)."""

    def __init__(self, in_channels=3, width=8):
        super().__init__()
        widths = [width * 2 ** i for i in range(5)]

        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                                 nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())

        self.pool = nn.MaxPool2d(2)
        self.downs = nn.ModuleList([block(in_channels, widths[0])]
                                   + [block(widths[i], widths[i + 1]) for i in range(4)])
        self.ups = nn.ModuleList([nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(widths[i + 1], widths[i], 3,
                                                                                      padding=1), nn.ReLU())
                                  for i in reversed(range(4))])
        self.merges = nn.ModuleList([block(2 * widths[i], widths[i]) for i in reversed(range(4))])
        self.out = nn.Conv2d(widths[0], 1, 1)

    def forward(self, x):
        skips = []
        for i, down in enumerate(self.downs):
            x = down(x if i == 0 else self.pool(x))
            skips.append(x)
        for up, merge, skip in zip(self.ups, self.merges, reversed(skips[:-1])):
            x = merge(torch.cat((skip, up(x)), dim=1))  # fails when a pooled side was odd
        return self.out(x)


class _BceDiceLoss(nn.Module):
    """The repository's calc_loss: 0.5 * BCE-with-logits + 0.5 * soft Dice loss (smooth 1) on the sigmoid."""

    def forward(self, logits, target):
        bce = nn.functional.binary_cross_entropy_with_logits(logits, target)
        probabilities = torch.sigmoid(logits).reshape(-1)
        intersection = (probabilities * target.reshape(-1)).sum()
        dice = 1 - (2.0 * intersection + 1.0) / (probabilities.sum() + target.sum() + 1.0)
        return 0.5 * bce + 0.5 * dice


def _build_unet_image_side_not_multiple_of_16(buggy):
    torch.manual_seed(0)
    side = 24 if buggy else 16  # the fix: resize the images (and masks) to a multiple of 2 ** 4
    images, masks = _resized_rgb_scenes(side)
    model = _FourLevelUNet()
    x, y = _tensors(images, masks)
    return model, x, y, _BceDiceLoss(), torch.optim.Adam(model.parameters(), lr=1e-3)

CASES = [
    case("eighth_torch_unet_one_hot_masks", "torch", "targets",
         GH + "UsamaI000/CamVid-Segmentation-Pytorch/issues/2",
         "A U-Net for CamVid's 12 classes is given its masks one-hot, one binary map per class (batch, 12, h, w), "
         "so CrossEntropyLoss, which takes one class index per pixel, fails at the loss ('only batches of spatial "
         "targets supported (3D tensors)').",
         "Give the loss masks of one class index per pixel, shape (batch, h, w), e.g. mask.argmax(1) (the "
         "maintainer's answer; the repository's training script does this).",
         {"labels-not-class-indices"}, _build_unet_one_hot_masks,
         note="The repository's U-Net on 128x128 CamVid frames (SGD at 1e-4, momentum 0.99, a focal loss around "
              "CrossEntropyLoss) is rebuilt as a two-level U-Net (16 and 32 channels, one skip connection) on 96 of "
              "scikit-learn's 8x8 digits, each pixel labelled background or one of three stroke intensities (4 "
              "classes), with plain CrossEntropyLoss (the poster's loss) and Adam at 1e-3 (the poster's optimizer "
              "is not shown). The repository's masks are float one-hot maps; the PyTorch of the thread (2021) "
              "refused any 4-D target, while PyTorch 1.10 and later read a float target of the logits' shape as "
              "class probabilities and train on it. The buggy twin therefore gives the one-hot masks as int64 (the "
              "repository casts its targets with .long()), which today's PyTorch refuses with 'Expected floating "
              "point type for target with class probabilities, got Long' where the thread's raised 'only batches "
              "of spatial targets supported'. labels-not-class-indices' fix (one whole number per sample from 0 "
              "to K-1, int64) leads to one class index per pixel; target-shape-broadcast's fix would not (the "
              "targets already have the output's shape). Close to seventh_torch_segmentation_targets_channel_axis "
              "(class maps with a spare channel axis), but here the masks are one-hot, and the fix is argmax, not "
              "dropping an axis."),
]

CASES += [
    case("eighth_torch_unet_images_channels_last", "torch", "input layout",
         GH + "LeeJunHyun/Image_Segmentation/issues/29",
         "A U-Net built for 3-channel images is trained on RGB images kept as the image files decode them, "
         "(batch, height, width, 3), so the first convolution fails ('expected input[1, 512, 512, 3] to have 3 "
         "channels, but got 512 channels instead').",
         "Transpose the images to (batch, 3, height, width) before the model (the maintainer's answer; the poster "
         "confirmed it solved the problem).",
         {"input-layout"}, _build_unet_images_channels_last,
         note="The repository's U-Net (img_ch=3, one sigmoid output map, BCELoss on the flattened maps, Adam at "
              "2e-4 with betas 0.5 and 0.999, batches of one 224x224 skin-lesion image) is rebuilt as a two-level "
              "U-Net (16 and 32 channels) on 96 of scikit-learn's 8x8 digits turned into RGB images (each stroke "
              "in its own colour over a pale background), the stroke pixels as the lesion mask, with the "
              "repository's loss and optimizer settings and the whole batch at once. The poster's 512x512 images "
              "become 8x8 ones, so the error reads 'got 8 channels instead'. input-layout's fix ('(batch, "
              "channels, height, width) for PyTorch convolutions') is the fix."),
    case("eighth_torch_siamese_distance_without_keepdim", "torch", "shapes",
         GH + "harveyslash/Facial-Similarity-with-Siamese-Networks-in-Pytorch/issues/27",
         "A siamese face-similarity CNN computes each pair's distance with F.pairwise_distance, which returns "
         "shape (batch,), against labels of shape (batch, 1), so the contrastive loss broadcasts every distance "
         "against every label; the loss curve is unstable and the test performance bad.",
         "Call F.pairwise_distance(output1, output2, keepdim=True) so the distances have the labels' shape "
         "(batch, 1) (the reporter's fix, confirmed by another user and welcomed by the maintainer).",
         {"target-shape-broadcast"}, _build_siamese_distance_without_keepdim,
         note="The tutorial's siamese CNN (three reflection-padded convolutions with 4, 8 and 8 channels, ReLU and "
              "BatchNorm, then 500-500-5 dense layers) on 100x100 AT&T face pairs, with its contrastive loss "
              "(margin 2, label 1 for different people) and Adam at 5e-4, is rebuilt with the same layers on "
              "120 pairs of scikit-learn's 8x8 digits (per digit, six pairs of the same digit and six with another "
              "digit), a digit standing for a person. In the tutorial the distance is computed inside the loss "
              "from the two embeddings; here the model returns the distance (F.pairwise_distance, the same call "
              "with or without keepdim) so that the loss receives one value per pair, and the loss is the "
              "tutorial's. In the buggy twin every distance is pulled towards the same value (the loss settles "
              "at 1.0, the minimum of the broadcast loss with half the labels 1), so same and different pairs "
              "cannot be told apart. target-shape-broadcast's fix (give the output and the targets one shape) is "
              "the fix. The same mechanism as torch_mse_rank1_target (an (n,) output against (n, 1) targets), "
              "in a siamese network under a contrastive loss."),
]

CASES += [
    case("eighth_torch_unet_image_side_not_multiple_of_16", "torch", "input size",
         GH + "bigmb/Unet-Segmentation-Pytorch-Nest-of-Unets/issues/55",
         "A four-level U-Net (four 2x2 max-poolings) is trained on images whose side is not a multiple of 16, so a "
         "pooled side is odd, the upsampled decoder map comes back one pixel short, and the skip concatenation "
         "fails ('Sizes of tensors must match except in dimension 1. Expected size 61 but got size 60').",
         "Give the network images whose sides are multiples of 2^4 (resize the data), or use a shallower U-Net "
         "(the maintainer's answer, repeated from an earlier issue of the repository).",
         {"layer-size-mismatch", "input-layout"}, _build_unet_image_side_not_multiple_of_16,
         note="The repository's U_Net (in_ch 3, out_ch 1, filters 64 to 1024, Upsample + convolution in the "
              "decoder) with its calc_loss (0.5 BCE-with-logits + 0.5 Dice) and Adam at 1e-3 on 128x128 images "
              "is rebuilt at 1/8 of the width (8 to 128 filters) on 64 of scikit-learn's 8x8 digits drawn in "
              "colour and resized to 24x24 (buggy: 24, 12, 6, 3, then 1 at the bottom, so the decoder's 2 meets "
              "the skip's 3) or to 16x16 (the fix, a multiple of 16), normalised to [-1, 1] as the repository's "
              "transform does, the stroke pixels as the mask. The poster's image size is not given (61 at the "
              "fourth level). layer-size-mismatch's fix ('or give x the size the model was built for') and "
              "input-layout's ('give x the layout the model was built for', shape included) both lead to "
              "resizing the images; a judgement call, since no code names a spatial size that the poolings must "
              "divide."),
]
