"""Lesson 01 (missing zero_grad): the lab's check, and the lesson's record and panel.

(The notebooks themselves are covered by tests/test_notebooks.py: hygiene,
lab/solution pairing, and the check failing on the lab and passing on the
solution.)

The check must tell a loop that accumulates gradients from a fixed one, say
why in words, and never raise on a student's answer.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
from torch import nn

from course_utils import labs
from course_utils.checks import missing_zero_grad as lab
from course_utils.lessons import missing_zero_grad as lesson


# --- hand-written answers --------------------------------------------------------

def _batches(x, y, batch_size):
    for start in range(0, len(x), batch_size):
        yield x[start:start + batch_size], y[start:start + batch_size]


def fit_missing_zero_grad(model, optimizer, loss_fn, x, y, epochs, batch_size):
    for _ in range(epochs):
        for xb, yb in _batches(x, y, batch_size):
            loss_fn(model(xb), yb).backward()
            optimizer.step()


def fit_fixed(model, optimizer, loss_fn, x, y, epochs, batch_size):
    for _ in range(epochs):
        for xb, yb in _batches(x, y, batch_size):
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()


def fit_zero_after_step(model, optimizer, loss_fn, x, y, epochs, batch_size):
    """Also correct: clear after the step, with zeros instead of None."""
    for _ in range(epochs):
        for xb, yb in _batches(x, y, batch_size):
            loss_fn(model(xb), yb).backward()
            optimizer.step()
            model.zero_grad(set_to_none=False)


def fit_zero_between(model, optimizer, loss_fn, x, y, epochs, batch_size):
    for _ in range(epochs):
        for xb, yb in _batches(x, y, batch_size):
            loss_fn(model(xb), yb).backward()
            optimizer.zero_grad()
            optimizer.step()


def fit_zero_once_per_epoch(model, optimizer, loss_fn, x, y, epochs, batch_size):
    for _ in range(epochs):
        optimizer.zero_grad()
        for xb, yb in _batches(x, y, batch_size):
            loss_fn(model(xb), yb).backward()
            optimizer.step()


def fit_raises(model, optimizer, loss_fn, x, y, epochs, batch_size):
    model(x.T)  # wrong shape: (6, 512) into a layer that wants 6 features


def fit_wrong_signature(model):
    return None


def fit_own_optimizer(model, optimizer, loss_fn, x, y, epochs, batch_size):
    own = torch.optim.SGD(model.parameters(), lr=0.03)
    for _ in range(epochs):
        for xb, yb in _batches(x, y, batch_size):
            own.zero_grad()
            loss_fn(model(xb), yb).backward()
            own.step()


def fit_own_loss(model, optimizer, loss_fn, x, y, epochs, batch_size):
    mse = nn.MSELoss()
    for _ in range(epochs):
        for xb, yb in _batches(x, y, batch_size):
            optimizer.zero_grad()
            mse(model(xb), yb).backward()
            optimizer.step()


def fit_forever(model, optimizer, loss_fn, x, y, epochs, batch_size):
    while True:
        optimizer.zero_grad()
        loss_fn(model(x[:32]), y[:32]).backward()
        optimizer.step()


def fit_spins(model, optimizer, loss_fn, x, y, epochs, batch_size):
    while True:
        pass


def text(result) -> str:
    return "\n".join(result.evidence)


# --- data, model and the reading of records ------------------------------------------

def test_lab_data_is_deterministic_float32_with_expected_shapes():
    x, y = lab.lab_data()
    x2, y2 = lab.lab_data()
    assert x.shape == (lab.N_SAMPLES, lab.N_FEATURES) and y.shape == (lab.N_SAMPLES, 1)
    assert x.dtype == torch.float32 and y.dtype == torch.float32
    assert torch.equal(x, x2) and torch.equal(y, y2)
    assert not torch.equal(lab.lab_data(seed=1)[0], x)


def test_make_model_is_seeded():
    a, b, c = lab.make_model(0), lab.make_model(0), lab.make_model(1)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


class _Constant(nn.Module):
    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, x):
        return self.value.expand(len(x), -1) if self.value.dim() == 2 else self.value


def test_explained_variance_perfect_mean_and_broken_predictions():
    x, y = lab.lab_data()

    class Oracle(nn.Module):
        def forward(self, inputs):
            return y

    assert lab.explained_variance(Oracle(), x, y) == pytest.approx(1.0)
    assert lab.explained_variance(_Constant(y.mean().reshape(1, 1)), x, y) == pytest.approx(0.0, abs=1e-6)
    assert math.isnan(lab.explained_variance(_Constant(torch.full((1, 1), float("nan"))), x, y))
    assert math.isnan(lab.explained_variance(_Constant(torch.zeros(5)), x, y))  # wrong shape


def _record(stored, fresh):
    return ([torch.tensor(v) for v in stored] if stored is not None else [None], [torch.tensor(v) for v in fresh])


def test_classify_steps_tells_fresh_accumulated_empty_and_other():
    g1, g2, g3 = [1.0, 2.0], [0.5, -1.0], [3.0, 0.0]
    fresh_run = [_record([g1], [g1]), _record([g2], [g2]), _record([g3], [g3])]
    words, second = lab.classify_steps(fresh_run)
    assert words == ["fresh", "fresh"] and second < 1e-12
    summed = [_record([g1], [g1]),
              _record([[a + b for a, b in zip(g1, g2)]], [g2]),
              _record([[a + b + c for a, b, c in zip(g1, g2, g3)]], [g3])]
    words, second = lab.classify_steps(summed)
    assert words == ["accumulated", "accumulated"] and second > 0.5
    empty = [_record([g1], [g1]), _record(None, [g2])]
    assert lab.classify_steps(empty)[0] == ["empty"]
    zeros = [_record([g1], [g1]), _record([[0.0, 0.0]], [g2])]
    assert lab.classify_steps(zeros)[0] == ["empty"]
    other = [_record([g1], [g1]), _record([[9.0, 9.0]], [g2])]
    assert lab.classify_steps(other)[0] == ["other"]


# --- the check on hand-written answers ---------------------------------------------------

@pytest.mark.parametrize("fit", [fit_fixed, fit_zero_after_step])
def test_check_passes_correct_loops(fit):
    result = lab.check_fit(fit)
    assert result.passed, str(result)
    assert "batch 2 alone" in text(result)
    assert "explains more than 90%" in text(result)


def test_check_fails_missing_zero_grad_with_evidence():
    result = lab.check_fit(fit_missing_zero_grad)
    assert not result.passed
    assert "batches 1 and 2 added together" in text(result)
    assert "479 accumulated" in text(result)
    assert result.hint


def test_check_fails_zero_grad_between_backward_and_step():
    result = lab.check_fit(fit_zero_between)
    assert not result.passed
    assert ".grad was empty" in text(result)


def test_check_fails_zero_grad_once_per_epoch_even_though_it_fits():
    result = lab.check_fit(fit_zero_once_per_epoch)
    assert not result.passed
    assert "accumulated" in text(result)
    assert "explains more than 90%" in text(result)  # it fits, yet gradients still accumulate


@pytest.mark.parametrize("answer", [42, None, "fit", [fit_fixed]])
def test_check_refuses_non_functions_without_raising(answer):
    result = lab.check_fit(answer)
    assert not result.passed
    assert "expected a function" in text(result)


def test_check_reports_an_exception_in_student_code():
    result = lab.check_fit(fit_raises)
    assert not result.passed
    assert "raised RuntimeError" in text(result)


def test_check_reports_a_wrong_signature():
    result = lab.check_fit(fit_wrong_signature)
    assert not result.passed
    assert "raised TypeError" in text(result)


def test_check_reports_a_loop_that_ignores_the_given_optimizer():
    result = lab.check_fit(fit_own_optimizer)
    assert not result.passed
    assert "0 time(s) on the optimizer it was given" in text(result)


def test_check_reports_a_loop_that_ignores_the_given_loss():
    result = lab.check_fit(fit_own_loss)
    assert not result.passed
    assert "never called the loss_fn" in text(result)


def test_check_stops_a_runaway_loop():
    started = time.perf_counter()
    result = lab.check_fit(fit_forever, epochs=2)
    assert not result.passed
    assert "more than 128 times" in text(result)
    assert time.perf_counter() - started < 30


def test_check_stops_a_loop_that_never_returns():
    started = time.perf_counter()
    result = lab.check_fit(fit_spins, time_limit_s=1)
    assert not result.passed
    assert "ran for more than 1 s" in text(result)
    assert time.perf_counter() - started < 10


def test_check_records_its_decision():
    before = len(labs.RESULTS)
    result = lab.check_fit(fit_missing_zero_grad, epochs=2)
    assert len(labs.RESULTS) == before + 1 and labs.RESULTS[-1] is result


# --- answers a student might give ---
# Each is a whole fit(...) as a student might write it in the exercise cell. A wrong answer must be
# refused with evidence that names what it did; a valid one, different from the official fix, must pass.

def fit_lower_lr(model, optimizer, loss_fn, x, y, epochs, batch_size):
    """Hides the symptom: the colleague's guess, a lower learning rate, and still no zero_grad."""
    for group in optimizer.param_groups:
        group["lr"] = 0.001
    fit_missing_zero_grad(model, optimizer, loss_fn, x, y, epochs, batch_size)


def fit_clip_instead(model, optimizer, loss_fn, x, y, epochs, batch_size):
    """Hides the symptom: clip the (accumulated) gradient instead of clearing it."""
    for _ in range(epochs):
        for xb, yb in _batches(x, y, batch_size):
            loss_fn(model(xb), yb).backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()


def fit_zero_then_clip(model, optimizer, loss_fn, x, y, epochs, batch_size):
    """Valid: the fix, plus clipping by the norm (it scales the batch's gradient, its direction kept)."""
    for _ in range(epochs):
        for xb, yb in _batches(x, y, batch_size):
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()


def fit_zero_every_other_batch(model, optimizer, loss_fn, x, y, epochs, batch_size):
    """A partial fix: clears .grad on even batches only."""
    for _ in range(epochs):
        for index, (xb, yb) in enumerate(_batches(x, y, batch_size)):
            if index % 2 == 0:
                optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()


def fit_one_epoch_then_smuggle_targets(model, optimizer, loss_fn, x, y, epochs, batch_size):
    """A cheat: one clean epoch, then a forward that answers with the targets it was given."""
    fit_fixed(model, optimizer, loss_fn, x, y, 1, batch_size)
    answers = {tuple(row.tolist()): target for row, target in zip(x, y)}
    model.forward = lambda inputs: torch.stack([answers[tuple(row.tolist())] for row in inputs])


def fit_shuffles_x_only(model, optimizer, loss_fn, x, y, epochs, batch_size):
    """Wrong: the gradients are fresh, but each batch pairs inputs with the wrong targets."""
    for _ in range(epochs):
        shuffled = x[torch.randperm(len(x))]
        for xb, yb in _batches(shuffled, y, batch_size):
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()


def fit_rebuilds_the_optimizer(model, optimizer, loss_fn, x, y, epochs, batch_size):
    """Wrong: a new optimizer of the same type for every epoch (which once crashed naming the check's class)."""
    for _ in range(epochs):
        own = type(optimizer)(model.parameters(), lr=optimizer.defaults["lr"])
        for xb, yb in _batches(x, y, batch_size):
            own.zero_grad()
            loss_fn(model(xb), yb).backward()
            own.step()


def fit_item_before_backward(model, optimizer, loss_fn, x, y, epochs, batch_size):
    """Crashes: .item() turns the loss into a float before backward()."""
    for _ in range(epochs):
        for xb, yb in _batches(x, y, batch_size):
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb).item()
            loss.backward()
            optimizer.step()


def fit_until_small(model, optimizer, loss_fn, x, y, epochs, batch_size):
    """Never returns: trains 'until the loss is small', a bound this model never reaches."""
    loss = torch.tensor(1.0)
    while loss.item() > 1e-6:
        for xb, yb in _batches(x, y, batch_size):
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()


def fit_sleeps_between_batches(model, optimizer, loss_fn, x, y, epochs, batch_size):
    """Never returns in time: a fixed loop that waits (for a progress bar, say) at every batch."""
    for _ in range(epochs):
        for xb, yb in _batches(x, y, batch_size):
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()
            time.sleep(0.5)


def fit_checks_its_arguments(model, optimizer, loss_fn, x, y, epochs, batch_size):
    """Valid: the official fix, in a loop that checks and prints what it was given."""
    if type(optimizer) is not torch.optim.SGD or type(loss_fn) is not nn.MSELoss:
        raise TypeError(f"expected SGD and MSELoss, got {optimizer!r} and {loss_fn!r}")
    print(f"training with {optimizer.__class__.__name__} and {loss_fn}")
    fit_fixed(model, optimizer, loss_fn, x, y, epochs, batch_size)


def fit_with_closure(model, optimizer, loss_fn, x, y, epochs, batch_size):
    """Valid: the closure form of optimizer.step, clearing .grad inside the closure."""
    for _ in range(epochs):
        for xb, yb in _batches(x, y, batch_size):
            def closure():
                optimizer.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                return loss
            optimizer.step(closure)


def fit_shuffled_with_set_to_none(model, optimizer, loss_fn, x, y, epochs, batch_size):
    """Valid: shuffles x and y together every epoch and clears .grad by hand."""
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for xb, yb in _batches(x[order], y[order], batch_size):
            for parameter in model.parameters():
                parameter.grad = None
            loss_fn(model(xb), yb).backward()
            optimizer.step()


def fit_assigns_fresh_gradients(model, optimizer, loss_fn, x, y, epochs, batch_size):
    """Valid: computes each batch's gradient with autograd.grad and puts it in .grad itself."""
    parameters = list(model.parameters())
    for _ in range(epochs):
        for xb, yb in _batches(x, y, batch_size):
            grads = torch.autograd.grad(loss_fn(model(xb), yb), parameters)
            for parameter, grad in zip(parameters, grads):
                parameter.grad = grad
            optimizer.step()


def fit_with_a_schedule(model, optimizer, loss_fn, x, y, epochs, batch_size):
    """Valid: the official fix, plus a step schedule that lowers the learning rate every 10 epochs."""
    schedule = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.1)
    for _ in range(epochs):
        fit_fixed(model, optimizer, loss_fn, x, y, 1, batch_size)
        schedule.step()


ANSWERS = [  # name, kind, fit, passes, words in the evidence or hint
    ("lower learning rate", "hides the symptom", fit_lower_lr, False,
     ["batches 1 and 2 added together", "changed the optimizer's lr from 0.03 to 0.001", "before each backward pass"]),
    ("clip instead of clearing", "hides the symptom", fit_clip_instead, False,
     ["accumulated", "before each backward pass"]),
    ("zero_grad, then clipping by the norm", "valid", fit_zero_then_clip, True,
     ["scaled down as a whole", "explains more than 90%"]),
    ("zero_grad every other batch", "partial fix", fit_zero_every_other_batch, False,
     ["240 accumulated", "before each backward pass"]),
    ("one epoch, then the targets", "cheat", fit_one_epoch_then_smuggle_targets, False,
     ["ran 16 optimizer steps; expected 480", "one optimizer.step() per mini-batch"]),
    ("x shuffled without y", "wrong answer", fit_shuffles_x_only, False,
     ["at all 479 steps after the first, .grad was the fresh gradient", "explains", "x and y as given"]),
    ("a new optimizer each epoch", "wrong answer", fit_rebuilds_the_optimizer, False,
     ["0 time(s) on the optimizer it was given", "optimizer argument"]),
    (".item() before backward", "crashes", fit_item_before_backward, False,
     ["your fit raised AttributeError", "run your fit once yourself"]),
    ("train until the loss is small", "never returns", fit_until_small, False,
     ["more than 1920 times (expected 480)", "one optimizer.step() per mini-batch"]),
    ("sleeps at every batch", "never returns", fit_sleeps_between_batches, False,
     ["your fit ran for more than 2 s and was stopped, after", "a wait inside the loop"]),
    ("checks and prints its arguments", "valid", fit_checks_its_arguments, True,
     ["batch 2 alone", "explains more than 90%"]),
    ("closure with zero_grad inside", "valid", fit_with_closure, True,
     ["batch 2 alone", "explains more than 90%"]),
    ("shuffled, .grad set to None by hand", "valid", fit_shuffled_with_set_to_none, True,
     ["at all 479 steps after the first, .grad was the fresh gradient", "explains more than 90%"]),
    ("gradients from autograd.grad", "valid", fit_assigns_fresh_gradients, True,
     ["batch 2 alone", "explains more than 90%"]),
    ("the fix plus a learning-rate schedule", "valid", fit_with_a_schedule, True,
     ["changed the optimizer's lr from 0.03 to 3e-05", "explains more than 90%"]),
]
INTERNAL_NAMES = ("Recorder", "_Fresh", "_Recording", "_check", "course_utils")


@pytest.mark.parametrize("name, kind, fit, passes, words", ANSWERS, ids=[a[0] for a in ANSWERS])
def test_answers_a_student_might_give(name, kind, fit, passes, words, capsys):
    result = lab.check_fit(fit, time_limit_s=2 if fit is fit_sleeps_between_batches else lab.TIME_LIMIT_S)
    said = text(result) + "\n" + result.hint
    assert result.passed == passes, str(result)
    for word in words:
        assert word in said, str(result)
    assert not any(internal in said for internal in INTERNAL_NAMES), str(result)


def test_the_student_code_sees_a_plain_sgd_and_mse_loss():
    seen = {}

    def fit_that_looks(model, optimizer, loss_fn, x, y, epochs, batch_size):
        seen.update(optimizer=repr(optimizer), loss_fn=repr(loss_fn), types=(type(optimizer), type(loss_fn)))
        fit_fixed(model, optimizer, loss_fn, x, y, epochs, batch_size)

    assert lab.check_fit(fit_that_looks).passed
    assert seen["types"] == (torch.optim.SGD, nn.MSELoss)
    assert seen["optimizer"].startswith("SGD (") and seen["loss_fn"] == "MSELoss()"


# --- the lesson's record and panel (course_utils/lessons/missing_zero_grad.py) ------------------


def _two_class_net():
    """Scores (x0, x1) for a 2-feature input: the answer is the larger feature."""
    net = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        net.weight.copy_(torch.eye(2))
    return net


def test_two_digits_is_the_style_of_the_lessons_claims():
    assert [lesson.two_digits(v) for v in (40.8, 1040, 0.0086, 5)] == ["41", "1e+03", "0.0086", "5"]


def test_accuracy_counts_the_highest_score_against_the_label():
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [0.0, 3.0]])
    assert lesson.accuracy(_two_class_net(), x, torch.tensor([0, 1, 1, 0])) == 0.5


def test_record_epoch_appends_accuracies_and_the_norm_of_what_grad_holds():
    net = _two_class_net()
    x, y = torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0])
    run = lesson.Run(net=net)
    run.record_epoch(x, y, x, torch.tensor([0, 1]))
    assert (run.train_acc, run.test_acc, run.grad_norm) == ([0.5], [1.0], [0.0])  # no .grad yet: norm 0
    net.weight.grad = torch.full((2, 2), 0.5)
    run.record_epoch(x, y, x, y)
    assert run.grad_norm[-1] == pytest.approx(1.0) and len(run.train_acc) == 2


def test_run_peak_is_the_first_best_epoch_and_describe_says_so():
    run = lesson.Run(train_acc=[0.5, 0.9, 0.9, 0.1], test_acc=[0.4, 0.8, 0.85, 0.1])
    assert run.peak == 1 and not run.diverged
    assert run.describe() == ("train accuracy peaked at 90% (test 80%) in epoch 2; "
                              "after epoch 4: train 10%, test 10%")
    assert lesson.Run(diverged_at=3).describe() == "diverged at step 3 before the first epoch ended"
    run.diverged_at = 57
    assert run.describe().startswith("diverged at step 57; train accuracy peaked at 90%")


def test_explore_panel_hands_its_controls_to_train_and_draws_the_run():
    calls = []

    def fake_train(**kwargs):
        calls.append(kwargs)
        run = lesson.Run(train_acc=[0.2, 0.8], test_acc=[0.2, 0.7], grad_norm=[0.0, 3.0])
        kwargs["on_epoch"](run)
        return run

    panel = lesson.explore_panel(fake_train, ["SGD", "Adam"])
    panel.run()
    assert panel.last_error is None and panel.runs == 1
    assert {k: v for k, v in calls[0].items() if k != "on_epoch"} == dict(
        zero_grad=False, softmax_output=True, new_optimizer_each_step=True, optimizer="SGD", lr=0.03, epochs=40)
    panel.set(zero_grad=True, optimizer="Adam")
    assert calls[-1]["zero_grad"] and calls[-1]["optimizer"] == "Adam" and panel.runs == 3
    left, right = panel.figure.axes
    assert [list(line.get_ydata()) for line in left.lines[:2]] == [[0.2, 0.8], [0.2, 0.7]]
    assert right.get_yscale() == "log" and np.isnan(right.lines[0].get_ydata()[0])  # a zero norm is not drawn
