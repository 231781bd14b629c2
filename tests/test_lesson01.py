"""Lesson 01 (missing zero_grad): the lab's check.

(The notebooks themselves are covered by tests/test_notebooks.py: hygiene,
lab/solution pairing, and the check failing on the lab and passing on the
solution.)

The check must tell a loop that accumulates gradients from a fixed one, say
why in words, and never raise on a student's answer.
"""
from __future__ import annotations

import math
import time

import pytest
import torch
from torch import nn

from course_utils import labs
from course_utils.checks import missing_zero_grad as lab


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
