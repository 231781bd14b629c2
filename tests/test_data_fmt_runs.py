import math

import numpy as np
import pytest

from course_utils import data, fmt, metrics
from course_utils.runs import TrainingRun, divergence_bound, first_divergent_step, sample_schedule


def test_digits_split_shapes_types_and_standardisation():
    split = data.digits()
    assert split.x_train.shape == (1497, 64) and split.x_test.shape == (300, 64)
    assert split.x_train.dtype == np.float32 and split.y_train.dtype == np.int64
    assert split.n_classes == 10
    varying = split.x_train.std(axis=0) > 0
    assert np.allclose(split.x_train.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(split.x_train[:, varying].std(axis=0), 1, atol=1e-4)


def test_digits_is_deterministic_and_seeded():
    a, b, c = data.digits(n_train=50, seed=0), data.digits(n_train=50, seed=0), data.digits(n_train=50, seed=1)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_train, b.y_train)
    assert not np.array_equal(a.y_train, c.y_train)


def test_digits_raw_pixels_when_not_standardised():
    split = data.digits(n_train=10, n_test=5, standardize=False)
    assert split.x_train.min() >= 0 and split.x_train.max() <= 16 and len(split.x_test) == 5


@pytest.mark.parametrize("kwargs", [{"n_train": 0}, {"n_train": 5000}, {"n_test": -1}, {"n_train": 2.5}])
def test_digits_bad_counts_are_refused(kwargs):
    with pytest.raises(ValueError):
        data.digits(**kwargs)


def test_one_batch_and_noisy_sine():
    x, y = data.one_batch(16)
    assert x.shape == (16, 64) and y.shape == (16,)
    xs, ys = data.noisy_sine(200, noise=0.0)
    assert xs.shape == ys.shape == (200, 1)
    assert np.allclose(ys, np.sin(2 * np.pi * xs), atol=1e-5)


@pytest.mark.parametrize("value, text", [(2.302585, "2.30"), (0.000123456, "1.23e-04"), (123456.0, "1.23e+05"),
                                         (0.5, "0.500"), (0, "0"), (float("nan"), "nan"), (-1.5, "-1.50")])
def test_sig(value, text):
    assert fmt.sig(value) == text


def test_below_and_percent():
    assert fmt.below(3e-5, 1e-3) == "< 0.001"
    assert fmt.below(0.02, 1e-3) == "0.0200"
    assert fmt.percent(0.987) == "99%"


def test_accuracy_for_class_scores_and_binary_probabilities():
    assert metrics.accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1])) == 0.5
    assert metrics.accuracy(np.array([[0.7], [0.2]]), np.array([1, 0])) == 1.0
    with pytest.raises(ValueError):
        metrics.accuracy(np.zeros((3, 2)), np.zeros(4))
    assert metrics.mse(np.array([1.0, 3.0]), np.array([1.0, 1.0])) == 2.0


def test_sample_schedule_includes_start_and_end():
    assert sample_schedule(100, 25) == [0, 25, 50, 75, 100]
    assert sample_schedule(10, 4) == [0, 4, 8, 10]
    assert sample_schedule(0, 5) == [0]
    assert len(sample_schedule(1000, None)) == 21
    with pytest.raises(ValueError):
        sample_schedule(-1, 5)


def test_divergence_detection():
    assert first_divergent_step([2.0, 1.5, 1.0], 2.0) is None
    assert first_divergent_step([2.0, 1.5, float("nan")], 2.0) == 2
    assert first_divergent_step([2.0, 5e3, 1.0], 2.0) == 1
    assert divergence_bound(1e-3) == 1e3  # a loss near zero is not flagged for rising to 0.01


def test_training_run_describes_itself():
    run = TrainingRun(losses=np.array([2.3, 1.0, 0.01]))
    assert run.describe() == "3 steps, loss 2.30 -> 0.0100"
    assert run.initial_loss == 2.3 and run.final_loss == 0.01 and not run.diverged
    diverged = TrainingRun(losses=np.array([2.3, 40.0, math.inf]), diverged_at=2)
    assert diverged.describe() == "diverged at step 2: loss inf"
    with pytest.raises(KeyError, match="recorded"):
        run.metric("accuracy")
    with pytest.raises(ValueError, match="no instrument readings"):
        run.reading("grad_norm")


def test_claim_prints_the_figure_marked_with_its_bound():
    assert fmt.claim("peak train accuracy", 0.853, more_than=0.7, style=fmt.percent) == "peak train accuracy ≈85% (> 70%)"
    assert fmt.claim("loss", 0.0123, less_than=0.05) == "loss ≈0.0123 (< 0.05)"
    assert fmt.claim("seeds", 3, more_than=0, less_than=8, style=fmt.whole) == "seeds ≈3 (> 0, < 8)"


@pytest.mark.parametrize("value", [0.65, 0.7, float("nan")])
def test_claim_fails_loudly_outside_its_bound(value):
    with pytest.raises(AssertionError, match="no longer holds: peak"):
        fmt.claim("peak", value, more_than=0.7)


def test_claim_needs_a_bound():
    with pytest.raises(ValueError):
        fmt.claim("peak", 0.8)


def test_sanitize_rule_masks_marked_figures_only():
    import re
    from pathlib import Path

    from nbval.plugin import get_sanitize_patterns

    patterns = get_sanitize_patterns((Path(__file__).parent / "sanitize.cfg").read_text(encoding="ascii"))

    def masked(text):
        for regex, replace in patterns:
            text = re.sub(regex, replace, text)
        return text

    end = lambda value, bound: fmt.claim("end", value, less_than=bound, style=fmt.percent)
    assert masked(end(0.143, 0.3)) == masked(end(0.07, 0.3)) == "end ~N (< 30%)"
    assert masked(end(0.14, 0.3)) != masked(end(0.14, 0.4)), "the bound is still compared"
    assert masked("loss ≈1.23e-04, 85%") == "loss ~N, 85%"
