"""PyTorch cases: each ``_build_*(buggy)`` returns (model, x, y, loss, optimizer) for one twin."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import case, data

FORUM = "https://discuss.pytorch.org/t/"


def _tensors(x, y, target_dtype=torch.float32):
    return torch.as_tensor(np.asarray(x), dtype=torch.float32), torch.as_tensor(np.asarray(y), dtype=target_dtype)


def _mlp(sizes, activation=nn.ReLU, tail=()):
    """Linear layers of the given sizes with ``activation`` between them (none after the last), then ``tail``."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2 and activation is not None:
            layers.append(activation())
    return nn.Sequential(*layers, *tail)


def _digits_batch():
    x, labels = data.digits(128)
    return _tensors(x / 16.0, labels, torch.long)


def _build_softmax_into_cross_entropy(buggy):
    torch.manual_seed(0)
    x, y = _digits_batch()
    model = _mlp([64, 64, 10], tail=[nn.Softmax(dim=1)] if buggy else [])
    return model, x, y, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-3)


def _build_dead_relu_negative_weights(buggy):
    torch.manual_seed(0)
    x, y = _digits_batch()
    model = _mlp([64, 32, 32, 10])
    if buggy:  # the state a too-large step leaves behind: first-layer weights and biases all negative
        with torch.no_grad():
            model[0].weight.copy_(-model[0].weight.abs())
            model[0].bias.fill_(-0.5)
    lr = 1.0 if buggy else 0.01
    return model, x, y, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=lr)


def _build_linear_xor(buggy):
    torch.manual_seed(0)
    x, y = _tensors(*data.xor(64))
    model = nn.Sequential(nn.Linear(2, 8), *([] if buggy else [nn.ReLU()]), nn.Linear(8, 1), nn.Sigmoid())
    return model, x, y.reshape(-1, 1), nn.BCELoss(), torch.optim.Adam(model.parameters(), lr=1e-2)


def _build_xor_sigmoid_mse_slow_sgd(buggy):
    torch.manual_seed(0)
    x, xor_target = data.xor(64)
    x, y = _tensors(x, (1 - xor_target).reshape(-1, 1))  # the thread's gate: 1 when both inputs are equal
    if buggy:
        model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
        with torch.no_grad():
            for layer in (model[0], model[2]):
                nn.init.uniform_(layer.weight)
        return model, x, y, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.01)
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
    return model, x, y, nn.BCEWithLogitsLoss(), torch.optim.Adam(model.parameters(), lr=1e-2)


def _standardised(*arrays):
    return [data.standardise(np.asarray(a, dtype=np.float32)) for a in arrays]


def _build_unscaled_cubic(buggy):
    torch.manual_seed(0)
    x = np.linspace(1, 4000, 128, dtype=np.float32).reshape(-1, 1)
    y = x ** 3
    if not buggy:
        x, y = _standardised(x, y)
    model = _mlp([1, 50, 1])
    x, y = _tensors(x, y)
    return model, x, y, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=1e-3)


def _build_unscaled_wide_range_linear(buggy):
    torch.manual_seed(0)
    x = np.random.default_rng(0).uniform(-1000, 1000, (100, 1)).astype(np.float32)
    y = 2 * x ** 3 + 7 * x ** 2 - 8 * x + 120
    if not buggy:
        x, y = _standardised(x, y)
    model = nn.Linear(1, 1)
    x, y = _tensors(x, y)
    return model, x, y, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.01)


def _build_offset_inputs_sigmoid(buggy):
    torch.manual_seed(0)
    x, labels = data.binary_blobs(128, features=2)
    x = x * 5 + 92  # features around 92 with a spread of a few units
    if not buggy:
        x = data.standardise(x)
    model = nn.Sequential(nn.Linear(2, 16), nn.Sigmoid(), nn.Linear(16, 1), nn.Sigmoid())
    x, y = _tensors(x, labels.reshape(-1, 1))
    return model, x, y, nn.BCELoss(), torch.optim.Adam(model.parameters(), lr=1e-3 if buggy else 1e-2)


def _build_mse_three_outputs_one_target(buggy):
    torch.manual_seed(0)
    x = np.linspace(1, 4, 32, dtype=np.float32).reshape(-1, 1)
    model = nn.Linear(1, 3 if buggy else 1)
    x, y = _tensors(x, 2 * x)
    return model, x, y, nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.01)


def _build_mse_rank1_target(buggy):
    torch.manual_seed(0)
    from sklearn.datasets import load_diabetes

    x, y = load_diabetes(return_X_y=True)
    x, y = _standardised(x[:128], y[:128].reshape(-1, 1))
    target = y.ravel() if buggy else y
    model = _mlp([10, 32, 1])
    x, target = _tensors(x, target)
    return model, x, target, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=1e-2)


def _build_lr_far_too_high(buggy):
    torch.manual_seed(0)
    x, labels = data.wine(128)
    model = _mlp([13, 64, 3])
    x, y = _tensors(data.standardise(x), labels, torch.long)
    lr = 5.0 if buggy else 1e-2
    return model, x, y, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def _build_frozen_hidden_layers(buggy):
    torch.manual_seed(0)
    x, y = _digits_batch()
    model = _mlp([64, 16, 16, 10])
    if buggy:  # left frozen after a fine-tuning experiment: only the head still trains
        for layer in (model[0], model[2]):
            layer.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    return model, x, y, nn.CrossEntropyLoss(), torch.optim.Adam(trainable, lr=1e-2)


def _build_nll_with_softmax(buggy):
    torch.manual_seed(0)
    x, y = _digits_batch()
    model = _mlp([64, 64, 10], tail=[nn.Softmax(dim=1) if buggy else nn.LogSoftmax(dim=1)])
    return model, x, y, nn.NLLLoss(), torch.optim.Adam(model.parameters(), lr=1e-3)


def _build_nll_on_raw_scores(buggy):
    torch.manual_seed(0)
    x, y = _digits_batch()
    model = _mlp([64, 64, 10], tail=[] if buggy else [nn.LogSoftmax(dim=1)])
    return model, x, y, nn.NLLLoss(), torch.optim.Adam(model.parameters(), lr=1e-3)


def _build_tiny_init_plateau(buggy):
    torch.manual_seed(0)
    x, labels = data.breast_cancer(128)
    model = _mlp([30, 64, 64, 1])
    if buggy:  # every weight drawn with a tiny scale: the untrained model outputs ~0 for every sample
        with torch.no_grad():
            for layer in model:
                if isinstance(layer, nn.Linear):
                    nn.init.normal_(layer.weight, std=1e-4)
                    nn.init.zeros_(layer.bias)
    x, y = _tensors(data.standardise(x), labels.reshape(-1, 1))
    return model, x, y, nn.BCEWithLogitsLoss(), torch.optim.Adam(model.parameters(), lr=1e-4)


def _build_optimizer_on_previous_model(buggy):
    torch.manual_seed(0)
    x, labels = data.iris(120)
    first = _mlp([4, 32, 3])
    optimizer = torch.optim.SGD(first.parameters(), lr=0.05)
    model = _mlp([4, 32, 3]) if buggy else first  # the bug: the model is built a second time after the optimizer
    x, y = _tensors(data.standardise(x), labels, torch.long)
    return model, x, y, nn.CrossEntropyLoss(), optimizer


T = "torch"
NLL_PAGE = "https://runebook.dev/ru/docs/pytorch/generated/torch.nn.nllloss"
CE_THREAD = FORUM + "cross-entropy-loss-is-not-decreasing/43814"
CASES = [
    case("torch_softmax_into_cross_entropy", T, "loss/output pairing", CE_THREAD,
         "The model ends in nn.Softmax and its output goes to nn.CrossEntropyLoss, which applies softmax again.",
         "Remove the final Softmax and pass raw scores to CrossEntropyLoss.", {"softmax-before-crossentropy"},
         _build_softmax_into_cross_entropy),
    case("torch_dead_relu_negative_weights", T, "dying ReLU", CE_THREAD,
         "After large steps the first layer's weights and biases are all negative, so every ReLU outputs 0 "
         "and its gradient is 0.",
         "Re-initialise and train with a smaller learning rate.", {"dead-relu", "zero-gradients"},
         _build_dead_relu_negative_weights,
         note="The thread's second cause; the dead state is set directly instead of trained into."),
    case("torch_linear_xor", T, "linear stack",
         FORUM + "unable-to-learn-xor-representation-using-2-layers-of-multi-layered-perceptron-mlp/13287",
         "Two nn.Linear layers meet with no activation between them, so the model cannot represent XOR.",
         "Put a ReLU between the two Linear layers.", {"linear-stack"}, _build_linear_xor,
         note="Optimizer settings are not in the thread's excerpt; Adam at 1e-2 here."),
    case("torch_xor_sigmoid_mse_slow_sgd", T, "learning rate too low / slow optimizer",
         FORUM + "simple-linear-sigmoid-network-not-learning/98714",
         "A 2-4-1 sigmoid net with [0, 1]-uniform weights, MSE and SGD at 0.01 barely moves on an XOR-like gate.",
         "Drop the final sigmoid, use BCEWithLogitsLoss, a wider layer and Adam, as the answer suggests.",
         {"too-few-steps", "update-ratio-low"}, _build_xor_sigmoid_mse_slow_sgd),
    case("torch_unscaled_cubic", T, "unscaled inputs",
         FORUM + "neural-network-could-not-learn-on-this-type-of-data-why/96648",
         "A 1-50-1 net regresses y = x**3 on raw x in [1, 4000], so targets reach 6e10.",
         "Standardise the input and the target (and unscale predictions afterwards).",
         {"unscaled-inputs", "exploding-gradients", "non-finite-loss"}, _build_unscaled_cubic),
    case("torch_unscaled_wide_range_linear", T, "unscaled inputs",
         "https://qa.1r1g.com/sf/ask/4433342651",
         "A single nn.Linear(1, 1) is fitted with SGD to a cubic of x in [-1000, 1000]; the loss is NaN.",
         "Scale the input and the target before training.",
         {"unscaled-inputs", "exploding-gradients", "non-finite-loss"},
         _build_unscaled_wide_range_linear,
         note="A mirror of a Stack Overflow question; the learning rate (0.01) is ours."),
    case("torch_offset_inputs_sigmoid", T, "unscaled inputs",
         "https://python.19633.com/es/Python/1002052967.html",
         "Inputs centred around 92 feed a sigmoid network, which saturates and stays stuck.",
         "Standardise the inputs and raise the learning rate to 1e-2, as the answer does.", {"unscaled-inputs"},
         _build_offset_inputs_sigmoid,
         note="A translated mirror of a Stack Overflow answer; synthetic two-feature classes of the same offset."),
    case("torch_mse_three_outputs_one_target", T, "target shape broadcasting",
         "http://xiaobeizi.cn/x/6iuujguWdu",
         "nn.Linear(1, 3) is trained with MSELoss against (n, 1) targets; the loss broadcasts them with a warning.",
         "Give the model one output per target (nn.Linear(1, 1)).", {"target-shape-broadcast"},
         _build_mse_three_outputs_one_target,
         note="A translated mirror of a Stack Overflow question; 32 points on the thread's line y = 2x."),
    case("torch_mse_rank1_target", T, "target shape broadcasting",
         "https://runebook.dev/zh/docs/pytorch/generated/torch.nn.mseloss/torch.nn.MSELoss",
         "Predictions of shape (n, 1) are compared with MSELoss to targets of shape (n,), which broadcast to (n, n).",
         "Unsqueeze the targets to (n, 1).", {"target-shape-broadcast"}, _build_mse_rank1_target,
         note="scikit-learn's diabetes data."),
    case("torch_lr_far_too_high", T, "learning rate too high",
         FORUM + "tricks-for-being-able-to-use-a-higher-learning-rate/142179",
         "The learning rate is so high that the loss goes to NaN after the first steps.",
         "Lower the learning rate (with a warm-up if a higher one is wanted later).",
         {"lr-too-high", "non-finite-loss"},
         _build_lr_far_too_high,
         note="The thread's model is not shown; an MLP on wine with SGD at 5.0 and momentum 0.9."),
    case("torch_frozen_hidden_layers", T, "frozen parameters",
         FORUM + "freezing-the-updates-without-freezing-the-gradients/7358",
         "requires_grad=False is left on the hidden layers, so only the output layer trains.",
         "Set requires_grad=True again on the layers that must learn, and give them to the optimizer.",
         {"zero-gradients", "frozen-parameters"}, _build_frozen_hidden_layers,
         note="Written with zero-gradients, the closest code then; frozen-parameters was added to the catalogue "
              "for this mechanism and to this list after the first run."),
    case("torch_nll_with_softmax", T, "loss/output pairing", NLL_PAGE,
         "The model ends in nn.Softmax and feeds nn.NLLLoss, which expects log-probabilities.",
         "End the model in nn.LogSoftmax (or drop it and use CrossEntropyLoss).",
         {"softmax-before-crossentropy", "logits-into-probability-loss"}, _build_nll_with_softmax,
         note="The page lists two NLLLoss mistakes; this is the softmax one. Neither code's fix text says "
              "'use LogSoftmax'; both name the mismatch."),
    case("torch_nll_on_raw_scores", T, "loss/output pairing", NLL_PAGE,
         "Raw scores from the last nn.Linear go straight into nn.NLLLoss, which is then unbounded below.",
         "Add nn.LogSoftmax (or use CrossEntropyLoss).", {"logits-into-probability-loss"}, _build_nll_on_raw_scores,
         note="The page's other NLLLoss mistake: forgetting LogSoftmax."),
    case("torch_tiny_init_plateau", T, "initialisation",
         FORUM + "bce-loss-stuck-at-0-693-in-the-beginnng-of-training-and-then-started-to-decrease-why/183958",
         "Weights initialised at a tiny scale make the model output ~0, so BCE sits at 0.693 for thousands of steps.",
         "Initialise with the default (or a larger) scale.", {"vanishing-gradients"}, _build_tiny_init_plateau,
         note="The thread is a Transformer; here a 3-layer MLP on breast-cancer data with the same symptom."),
    case("torch_optimizer_on_previous_model", T, "optimizer over the wrong parameters",
         "https://github.com/spro/practical-pytorch/issues/9",
         "The model is instantiated a second time after the optimizer was made, so the optimizer steps the first "
         "instance's parameters and the trained model never changes.",
         "Create the optimizer after the model that is trained (from that model's parameters).",
         {"update-ratio-low", "optimizer-not-on-model"}, _build_optimizer_on_previous_model,
         note="Written with update-ratio-low (steps do not change the weights), the closest code then; "
              "optimizer-not-on-model was added to the catalogue for this mechanism and to this list after the "
              "first run."),
]
