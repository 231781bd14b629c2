"""Unit tests for lesson 03's pieces: course_utils.signals and the lab check (course_utils.checks.dying_relu)."""
import numpy as np
import pytest
import torch
from torch import nn

from course_utils import labs
from course_utils.checks import dying_relu
from course_utils.signals import bump_signals, offset_variance, preactivations


# --- signals ------------------------------------------------------------------

def test_bump_signals_are_deterministic_float32_with_offsets_of_both_signs():
    a, b = bump_signals(16), bump_signals(16)
    assert a.shape == (16, 1024) and a.dtype == np.float32
    assert np.array_equal(a, b)
    assert not np.array_equal(a, bump_signals(16, seed=1))
    offsets = a[:, :50].mean(axis=1)  # the bumps sit in the middle: the edges are the offset
    assert (offsets > 0).sum() == 8 and (offsets < 0).sum() == 8
    assert np.all(np.abs(offsets) >= 0.09) and np.all(np.abs(offsets) <= 1.0)


def test_bump_signals_have_one_bump_above_the_offset():
    x = bump_signals(4, length=256)
    offsets = x[:, :10].mean(axis=1, keepdims=True)
    heights = (x - offsets).max(axis=1)
    assert np.all(heights >= 0.45) and np.all(heights <= 1.5)  # amplitudes are drawn in [0.5, 1.5]


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "16"])
def test_bump_signals_refuse_a_bad_count(bad):
    with pytest.raises(ValueError):
        bump_signals(bad)


def test_offset_variance_known_answers():
    assert offset_variance(np.ones((1, 8))) == 0.0
    x = np.array([[1.0, 1.0], [-1.0, -1.0]])  # mean signal 0: every value is 1 away from it
    assert offset_variance(x) == pytest.approx(1.0)
    x = np.array([[0.0, 2.0], [2.0, 2.0]])    # column means 1 and 2: squared errors 1, 0, 1, 0
    assert offset_variance(x) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        offset_variance(np.zeros(4))


def test_preactivations_read_the_input_of_each_activation_even_in_place():
    net = nn.Sequential(nn.Linear(1, 2), nn.ReLU(inplace=True), nn.Linear(2, 1), nn.LeakyReLU(0.1))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0], [-1.0]]))
        net[0].bias.copy_(torch.tensor([0.0, -1.0]))
        net[2].weight.copy_(torch.tensor([[1.0, 1.0]]))
        net[2].bias.fill_(-5.0)
    x = torch.tensor([[2.0], [-3.0]])
    pre = preactivations(net, x)
    assert list(pre) == ["1 ReLU", "3 LeakyReLU"]
    # into the ReLU: [2, -3] and [-3, 2]; the in-place ReLU must not have overwritten what was recorded
    np.testing.assert_allclose(pre["1 ReLU"], [[2.0, -3.0], [-3.0, 2.0]])
    np.testing.assert_allclose(pre["3 LeakyReLU"], [[2.0 - 5.0], [2.0 - 5.0]])
    # no hooks are left behind
    assert not net[1]._forward_pre_hooks and not net[3]._forward_pre_hooks


# --- the lab check on hand-written answers -------------------------------------

def _fixed_model():
    model = dying_relu.broken_model()
    for module in model:
        if isinstance(module, nn.Linear):
            nn.init.zeros_(module.bias)
    return model


def _evidence(result):
    return " ".join(result.evidence)


def test_lab_data_is_standardised():
    x, y = dying_relu.lab_data()
    assert tuple(x.shape) == (256, 4) and tuple(y.shape) == (256, 1)
    assert float(y.mean()) == pytest.approx(0.0, abs=1e-5)
    assert float(y.var(unbiased=False)) == pytest.approx(1.0, rel=1e-4)


def test_broken_model_has_whole_layers_dead_before_training():
    x, _ = dying_relu.lab_data()
    dead = dying_relu.instruments_torch.dead_fraction(dying_relu.broken_model(), x)
    assert sum(v == 1.0 for v in dead.values()) >= 2


def test_check_fails_the_shipped_model_and_names_the_dead_layers():
    result = dying_relu.check_build_model(dying_relu.broken_model)
    assert not result.passed
    assert "dead for every sample" in _evidence(result)
    assert "100%" in _evidence(result)


def test_check_passes_zero_biases():
    result = dying_relu.check_build_model(_fixed_model)
    assert result.passed, result
    assert "dead units before training" in _evidence(result) and "after" in _evidence(result)


def test_check_refuses_a_model_without_relu_layers():
    result = dying_relu.check_build_model(lambda: nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 1)))
    assert not result.passed and "ReLU-family" in _evidence(result)


def test_check_refuses_a_pretrained_model():
    """A hard-coded answer: a model trained before the check sees it."""
    model = _fixed_model()
    x, y = dying_relu.lab_data()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(300):
        optimizer.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
    result = dying_relu.check_build_model(lambda: model)
    assert not result.passed and "fits before any training" in _evidence(result)


def test_check_reports_leaky_relu_that_does_not_fit_yet():
    def leaky_shipped():
        return nn.Sequential(*[nn.LeakyReLU(0.01) if isinstance(m, nn.ReLU) else m for m in dying_relu.broken_model()])
    result = dying_relu.check_build_model(leaky_shipped, steps=100)
    assert not result.passed
    # a LeakyReLU layer that is below zero everywhere still learns: it is not called dead
    assert "dead for every sample" not in _evidence(result)
    assert "below zero, still passes a gradient" in _evidence(result)


@pytest.mark.parametrize("answer, words", [
    (42, "expected a function"),
    (lambda: "a model", "must return a torch.nn.Module"),
    (lambda: 1 / 0, "ZeroDivisionError"),
    (lambda: nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1)), "cannot process"),
    (lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)), "shape"),
    (lambda: nn.Sequential(nn.ReLU()), "no trainable parameters"),
])
def test_check_never_raises_on_wrong_answers(answer, words):
    result = dying_relu.check_build_model(answer, steps=5)
    assert isinstance(result, labs.CheckResult)
    assert not result.passed
    assert words in _evidence(result) or words in result.hint, result


def test_trained_percent_prints_ranges_that_one_unit_does_not_change():
    assert dying_relu.trained_percent(0.0) == "0%" and dying_relu.trained_percent(1.0) == "100%"
    assert dying_relu.trained_percent(4 / 64) == dying_relu.trained_percent(5 / 64) == "< 10%"
    assert dying_relu.trained_percent(0.2) == "10-49%" and dying_relu.trained_percent(0.5) == "50-99%"


def test_check_reports_dead_fractions_after_training_in_ranges():
    result = dying_relu.check_build_model(_fixed_model)
    after = next(line for line in result.evidence if line.startswith("dead units after"))
    assert "< 10%" in after or "0%" in after
