"""Lab 08: a fine-tuning script whose new head never trains.

The lab hands the student ``fine_tune(model, x, y, steps, lr)``: it takes an encoder pretrained on wine
chemistry (13 measurements -> 32 features) with its old 5-class head, keeps the encoder frozen, puts
a new 3-class head on it (the cultivar) and trains. ``check_fine_tune(fine_tune)`` gives it a fresh
pretrained model and the training data, and measures, through a global optimizer-step hook (no
source is read):

- how many optimizer steps ran, and how many of them held the returned model's head (the tensors
  an optimizer holds are its ``param_groups``);
- whether the returned head moved during training (its weights at the first step that held it,
  against the end);
- whether the pretrained encoder is still bit for bit what it was (the lab asks to keep it);
- the returned model's accuracy on held-out wines.

It passes when some optimizer steps held the head, the head moved, the encoder is unchanged and the
test accuracy is at least ACCURACY. Every call into the student's code runs under a time limit.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ..fmt import percent, sig
from ..labs import Stopped, call_student, report

CHECK_NAME = "lab 08: the fine-tuned cultivar classifier"
N_FEATURES, N_FEATURES_OUT, OLD_CLASSES, N_CLASSES = 13, 32, 5, 3
STEPS, LEARNING_RATE = 200, 0.01
ACCURACY = 0.85  # a head trained on the frozen encoder reaches about 0.97 on the held-out wines
TIME_LIMIT_S = 60
MAX_STEPS = 20 * STEPS  # a loop that steps more than this is stopped


def lab_data():
    """scikit-learn's wines (178, 13 measurements, 3 cultivars), standardised with the training half's
    statistics: x_train (89, 13), y_train (89,), x_test (89, 13), y_test (89,) as torch tensors."""
    from sklearn.datasets import load_wine

    data = load_wine()
    order = np.random.default_rng(0).permutation(len(data.target))
    x, y = data.data[order].astype(np.float64), data.target[order]
    half = len(y) // 2
    mean, std = x[:half].mean(axis=0), x[:half].std(axis=0)
    x = ((x - mean) / std).astype(np.float32)
    as_tensors = lambda a, b: (torch.from_numpy(a), torch.from_numpy(b).long())  # noqa: E731
    return (*as_tensors(x[:half], y[:half]), *as_tensors(x[half:], y[half:]))


class WineModel(nn.Module):
    """encoder: Linear(13, 32) + ReLU, "pretrained"; head: Linear(32, 5), the old task's 5 classes."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(N_FEATURES, N_FEATURES_OUT), nn.ReLU())
        self.head = nn.Linear(N_FEATURES_OUT, OLD_CLASSES)

    def forward(self, x):
        return self.head(self.encoder(x))


def pretrained_model(seed: int = 0) -> WineModel:
    """The pretrained model, the same weights on every machine (made from ``seed``, not downloaded)."""
    generator = torch.Generator().manual_seed(seed)
    model = WineModel()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * (0.5 if p.dim() > 1 else 0.1))
    return model


def accuracy(model: nn.Module, x, y) -> float:
    """Share of wines whose highest score is their cultivar (inference mode)."""
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            return (model(x).argmax(dim=1) == y).double().mean().item()
    finally:
        model.train(was)


class StepRecorder:
    """A global optimizer-step hook: counts every optimizer step taken and keeps the tensors each held."""

    def __init__(self, most: int = MAX_STEPS):
        self.steps, self.most = 0, most
        self.first_values = {}  # id(tensor) -> its values at the first step that held it
        self.held_counts = {}   # id(tensor) -> how many steps held it
        from torch.optim.optimizer import register_optimizer_step_pre_hook

        self._handle = register_optimizer_step_pre_hook(self._pre_step)

    def _pre_step(self, optimizer, args, kwargs):
        from ..labs import RanTooLong

        self.steps += 1
        if self.steps > self.most:
            raise RanTooLong(f"your fine_tune called optimizer.step() more than {self.most} times")
        for group in optimizer.param_groups:
            for p in group["params"]:
                self.held_counts[id(p)] = self.held_counts.get(id(p), 0) + 1
                self.first_values.setdefault(id(p), p.detach().clone())

    def remove(self):
        self._handle.remove()


_HINT_HEAD = ("Your optimizer stepped, yet the new head did not move. Measure it inside your "
              "fine_tune: which tensors does the optimizer hold (course_utils.instruments.updates."
              "optimizer_coverage(model, optimizer)), and how far does each layer move in a step (step_ratios)?")
_HINT_ENCODER = ("The pretrained encoder changed. The lab keeps it as it is (requires_grad=False): train only the "
                 "new head.")
_HINT_NO_STEPS = "Train the new head with an optimizer: a torch.optim optimizer and optimizer.step() in the loop."
_HINT_ACCURACY = ("The head trained, but the model does not classify the held-out wines well: train for the given "
                  "steps at the given learning rate, on x and y as given.")


def check_fine_tune(fine_tune, seed: int = 0, time_limit_s: float = TIME_LIMIT_S):
    """Run the student's ``fine_tune(model, x, y, steps=200, lr=0.01)`` on a fresh pretrained model and judge
    the model it returns; a course_utils.labs.CheckResult. Never raises on the answer."""
    if not callable(fine_tune):
        return report(CHECK_NAME, False, [f"expected a function fine_tune(model, x, y, steps, lr), got "
                                          f"{type(fine_tune).__name__}"],
                      "Run the cell that defines fine_tune, then pass the function itself: check_fine_tune(fine_tune).")
    x_train, y_train, x_test, y_test = lab_data()
    model = pretrained_model(seed)
    encoder_before = [p.detach().clone() for p in model.encoder.parameters()]
    recorder = StepRecorder()
    try:
        returned, error = call_student("your fine_tune", fine_tune, model, x_train.clone(), y_train.clone(),
                                       steps=STEPS, lr=LEARNING_RATE, limit_s=time_limit_s)
    finally:
        recorder.remove()
    if error:
        hint = ("Keep the loop to the given number of steps." if isinstance(error, Stopped)
                else "Run your fine_tune once yourself (the cell \"Run it\"): the error above says where it stops.")
        return report(CHECK_NAME, False, [error], hint)
    shape_problem = _shape_problem(returned, x_test)
    if shape_problem:
        return report(CHECK_NAME, False, [shape_problem],
                      "Return the fine-tuned model: the encoder with a head of 3 outputs, one per cultivar.")

    head = list(returned.head.parameters()) if isinstance(getattr(returned, "head", None), nn.Module) else []
    held_steps = min((recorder.held_counts.get(id(p), 0) for p in head), default=0)
    moved = _head_moved(head, recorder)
    encoder = getattr(returned, "encoder", None)
    encoder_now = list(encoder.parameters()) if isinstance(encoder, nn.Module) else []
    encoder_same = (len(encoder_now) == len(encoder_before)
                    and all(a.shape == b.shape and torch.equal(a.detach(), b) for a, b in zip(encoder_now, encoder_before)))
    test_accuracy = accuracy(returned, x_test, y_test)

    evidence = [f"your fine_tune ran {recorder.steps} optimizer step(s); {held_steps} of them held the returned "
                f"model's head ({len(head)} tensors)",
                _moved_line(moved),
                "the pretrained encoder is unchanged, bit for bit" if encoder_same
                else "the pretrained encoder's weights changed during fine-tuning",
                f"accuracy on the {len(y_test)} held-out wines: {percent(test_accuracy)} "
                f"(a trained head reaches more than {percent(ACCURACY)})"]
    passed = held_steps > 0 and moved is not None and moved > 0 and encoder_same and test_accuracy >= ACCURACY
    if passed:
        return report(CHECK_NAME, True, evidence)
    if recorder.steps == 0:
        hint = _HINT_NO_STEPS
    elif held_steps == 0 or not moved:
        hint = _HINT_HEAD
    elif not encoder_same:
        hint = _HINT_ENCODER
    else:
        hint = _HINT_ACCURACY
    return report(CHECK_NAME, False, evidence, hint)


def _shape_problem(returned, x_test):
    if not isinstance(returned, nn.Module):
        return f"fine_tune must return the model (a torch.nn.Module), got {type(returned).__name__}"
    out, error = call_student("the returned model", lambda: returned(x_test[:4]), limit_s=10)
    if error:
        return error
    if not torch.is_tensor(out) or tuple(out.shape) != (4, N_CLASSES):
        shape = tuple(out.shape) if torch.is_tensor(out) else type(out).__name__
        return f"the returned model gives {shape} for 4 wines; expected (4, {N_CLASSES}), one score per cultivar"
    if not torch.isfinite(out).all():
        return "the returned model's outputs are not finite"
    return None


def _head_moved(head, recorder):
    """||head_end - head_at_first_held_step|| / ||head_at_first_held_step||; None if no step held it."""
    starts = [recorder.first_values.get(id(p)) for p in head]
    if not head or any(s is None for s in starts):
        return None
    change = math.sqrt(sum(float(((p.detach().double() - s.double()) ** 2).sum()) for p, s in zip(head, starts)))
    size = math.sqrt(sum(float((s.double() ** 2).sum()) for s in starts))
    return change / size if size > 0 else (math.inf if change > 0 else 0.0)


def _moved_line(moved) -> str:
    if moved is None:
        return "the head's weights never passed through an optimizer step: they are where they were made"
    if moved == 0:
        return "the head's weights did not change at all during the steps that held them"
    return f"the head moved by {sig(moved, 2)} of its norm during training"
