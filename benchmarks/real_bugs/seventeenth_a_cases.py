"""Seventeenth held-out set, part a: Stack Overflow bugs from Shah, Rahman and Khomh's study of deep learning bug
reproducibility (EMSE 2024), each rebuilt as (buggy, fixed) twins, for one measurement.

The entries were taken in a fixed shuffled order (`seventeenth_frame.txt`, entries 1-7) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Seventeenth held-out
set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import case
from .fresh_cases import _rng

SO = "https://stackoverflow.com/questions/"


# --- entry 4: a linear autoencoder whose SGD optimizer was handed columns of the data, not the weights (SO 69284837) --

def _correlated_pairs(n=100):
    """The question's data: n rows of 2 uniform features, the first made the sum of both and the second half the first
    plus itself, so the two columns are correlated and one hidden unit can carry most of a row."""
    x = _rng().random((n, 2))
    x[:, 0] = x[:, 0] + x[:, 1]
    x[:, 1] = 0.5 * x[:, 0] + x[:, 1]
    return torch.as_tensor(x, dtype=torch.float32)


def _build_torch_linear_autoencoder_optimizer_on_data_columns(buggy):
    torch.manual_seed(0)
    x = _correlated_pairs()
    # encoder 2 -> 1 (3 numbers: the question's wEncoder (D, 1) and bEncoder (1,)) and decoder 1 -> 2 (4 numbers: its
    # wDecoder (1, D) and bDecoder (1, D)), no activation: a linear autoencoder
    model = nn.Sequential(nn.Linear(2, 1), nn.Linear(1, 2))
    if buggy:
        # the bug: the optimizer is handed the two columns of the data, which get no gradient, so step() moves nothing
        optimizer = torch.optim.SGD([x[:, 0], x[:, 1]], lr=0.01)
    else:
        # the answer's fix: the optimizer is built over the autoencoder's weights and biases
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    return model, x, x, nn.MSELoss(), optimizer


CASES = [
    case("seventeenth_torch_linear_autoencoder_optimizer_on_data_columns", "torch", "optimizer over the wrong tensors",
         SO + "69284837",
         "A two-feature linear autoencoder (one hidden unit) is trained with SGD whose parameter list is the two "
         "columns of the input data instead of the encoder's and decoder's weights and biases, so each step leaves "
         "the model as it was and the reconstruction loss is the same at every epoch.",
         "Hold the encoder and decoder weights in the model and build the optimizer from model.parameters().",
         {"optimizer-not-on-model", "weights-unchanged"}, _build_torch_linear_autoencoder_optimizer_on_data_columns,
         note="Program: the package's Bugs/067/original_code_snippet.py (the post's code; main.py is the authors' own "
              "sigmoid MNIST autoencoder with BCE and Adam, a different program, not used). Fix: the stored copy at "
              "stackoverflow.org.cn/questions/69284837 (the question and the first of its two answers: write the "
              "autoencoder as a module of Linear layers and hand model.parameters() to the optimizer so the encoder "
              "and decoder weights are what it updates; the question says the loss is the same at every epoch). "
              "Kept: the question's data (100 rows of two uniform features, made correlated as in the post), D = 2 "
              "with one hidden unit and no activation (3 encoder and 4 decoder numbers, as the question counts them), "
              "the input as its own target, MSELoss, plain SGD at lr 0.01 with no momentum, the buggy optimizer's "
              "list [x[:, 0], x[:, 1]]. Changed: the post's forward pass is not written out (x_reconstructed is never "
              "defined), so the loose wEncoder/bEncoder/wDecoder/bDecoder tensors become nn.Linear(2, 1) and "
              "nn.Linear(1, 2) with the same shapes, as in the answer's module; the data come from _rng() instead of "
              "torch.rand. expected: optimizer-not-on-model's fix is the answer's; weights-unchanged's fix ends in the "
              "same place (an optimizer built over this model's parameters)."),
]
