"""Lesson 05: the zero-gradient counter, the two-mode error, and the lab check."""
import math
import re

import matplotlib.figure
import numpy as np
import pytest

import course_utils as cu
from course_utils.fmt import ClaimFailed
from course_utils.lessons.batchnorm_batch_of_one import (DecoderPanel, DecoderRetrainer, ZeroGradients, bounded, count_zero,
                                                         layer_outputs, mode_errors, mode_predictions, mse_table, predictions,
                                                         zero_gradients)

cu.setup(frameworks=("torch", "tensorflow"))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402
from keras import layers  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from course_utils.checks.forecaster import check_forecaster, lab_series  # noqa: E402


# --- count_zero and ZeroGradients -------------------------------------------

def test_count_zero_on_a_hand_built_list():
    gradients = [
        np.zeros((3, 2)),            # zero
        None,                        # not connected: zero
        np.array([0.0, 1e-30]),      # tiny is not zero
        np.array([], dtype=float),   # nothing to move: zero
        tf.zeros(4),                 # zero, as a TensorFlow tensor
        torch.tensor([0.0, -2.0]),   # not zero, as a torch tensor
    ]
    assert count_zero(gradients) == 4
    assert count_zero([]) == 0


def test_zero_gradients_result_by_layer_and_text():
    result = ZeroGradients(("a/kernel", "a/bias", "b/kernel", "b/bias"), (0.0, 0.0, 0.5, 0.0), 1.0)
    assert result.zero == ("a/kernel", "a/bias", "b/bias")
    assert result.count == "3/4" and not result.all_zero
    assert result.by_layer() == {"a": (2, 2), "b": (1, 2)}
    assert str(result).startswith("3/4 trainable variables have an exactly-zero gradient")
    torch_names = ZeroGradients(("0.weight", "0.bias", "2.weight"), (0.0, 0.0, 0.0), 0.5)
    assert torch_names.all_zero and torch_names.by_layer() == {"0": (2, 2), "2": (1, 1)}


# --- zero_gradients on hand-built models with a known answer ----------------

def dead_relu_keras():
    """Dense(3) whose units are all negative, a ReLU, Dense(1): only the last bias can learn."""
    cu.seed(0)
    inputs = keras.Input((4,))
    h = layers.Dense(3, name="hidden", kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(-10.0))(inputs)
    h = layers.ReLU()(h)
    return keras.Model(inputs, layers.Dense(1, name="out")(h))


def test_keras_dead_relu_has_exactly_three_zero_gradients():
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    y = np.ones((5, 1), dtype=np.float32)
    result = zero_gradients(dead_relu_keras(), x, y, "mse")
    assert result.count == "3/4"
    assert set(result.zero) == {"hidden/kernel", "hidden/bias", "out/kernel"}
    assert math.isclose(result.loss, 1.0, rel_tol=1e-6)  # the output is its bias, 0


def test_torch_dead_relu_has_exactly_three_zero_gradients():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].bias.fill_(-10.0)
    x, y = torch.randn(5, 4), torch.ones(5, 1)
    result = zero_gradients(model, x, y, F.mse_loss)
    assert result.count == "3/4"
    assert set(result.zero) == {"0.weight", "0.bias", "2.weight"}
    assert model[2].bias.grad is None  # the counter leaves .grad alone


def bn_net():
    cu.seed(0)
    inputs = keras.Input((4,))
    h = layers.Dense(3, name="dense")(inputs)
    h = layers.BatchNormalization(name="bn")(h)
    return keras.Model(inputs, layers.Dense(1, name="out")(h))


def test_batchnorm_on_a_batch_of_one_cuts_the_gradient():
    x = np.random.default_rng(1).normal(size=(4, 4)).astype(np.float32)
    y = np.ones((4, 1), dtype=np.float32)
    model = bn_net()
    one = zero_gradients(model, x[:1], y[:1], "mse")
    # bn outputs its beta (0): no gradient to dense or gamma, and out/kernel multiplies zeros
    assert set(one.zero) == {"dense/kernel", "dense/bias", "bn/gamma", "out/kernel"}
    four = zero_gradients(model, x, y, "mse")
    assert {"dense/kernel", "bn/gamma", "out/kernel"}.isdisjoint(four.zero)


def test_zero_gradients_leaves_moving_statistics_and_torch_mode_alone():
    model = bn_net()
    bn = model.get_layer("bn")
    before = (bn.moving_mean.numpy().copy(), bn.moving_variance.numpy().copy())
    x = np.random.default_rng(1).normal(3.0, 2.0, size=(8, 4)).astype(np.float32)
    zero_gradients(model, x, np.ones((8, 1), np.float32), "mse")
    mode_errors(model, x, np.ones((8, 1), np.float32))
    assert np.array_equal(bn.moving_mean.numpy(), before[0]) and np.array_equal(bn.moving_variance.numpy(), before[1])

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 1)).eval()
    running = net[1].running_mean.clone()
    zero_gradients(net, torch.from_numpy(x), torch.ones(8, 1), F.mse_loss)
    assert not net.training and not net[1].training
    assert torch.equal(net[1].running_mean, running) and int(net[1].num_batches_tracked) == 0


# --- mode_errors and layer_outputs -----------------------------------------

def test_mode_errors_on_a_lone_batchnorm_with_known_answers():
    inputs = keras.Input((2,))
    model = keras.Model(inputs, layers.BatchNormalization(epsilon=1e-3)(inputs))
    x = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    y = x.astype(np.float64)
    # training mode: each feature has mean +-1 around its mean and variance 1 -> +-1/sqrt(1.001)
    trained = np.array([[-1.0, -1.0], [1.0, 1.0]]) / math.sqrt(1.001)
    # inference mode: moving mean 0, moving variance 1 -> x / sqrt(1.001)
    inferred = y / math.sqrt(1.001)
    errors = mode_errors(model, x, y)
    assert math.isclose(errors.training, np.mean((trained - y) ** 2), rel_tol=1e-5)
    assert math.isclose(errors.inference, np.mean((inferred - y) ** 2), rel_tol=1e-3)
    assert np.allclose(predictions(model, x, training=True), trained, atol=1e-6)


def test_mode_errors_for_torch_and_a_shape_mismatch():
    torch.manual_seed(0)
    net = nn.BatchNorm1d(2)
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    errors = mode_errors(net, x, x)
    # torch's eps is 1e-5: training mode gives +-1/sqrt(1 + 1e-5); eval mode gives x/sqrt(1 + 1e-5)
    assert math.isclose(errors.training, np.mean((np.array([[-1, -1], [1, 1]]) / math.sqrt(1 + 1e-5) - x.numpy()) ** 2), rel_tol=1e-5)
    assert errors.inference < 1e-8
    with pytest.raises(ValueError, match="outputs for"):
        mode_errors(net, x, np.zeros(3))


def test_layer_outputs_shows_beta_for_one_example():
    model = bn_net()
    model.get_layer("bn").beta.assign(np.array([0.5, -1.0, 2.0], dtype=np.float32))
    x = np.random.default_rng(2).normal(size=(1, 4)).astype(np.float32)
    seen = layer_outputs(model, x, ["dense", "bn"])
    assert np.abs(seen["dense"]).max() > 0.01
    assert np.allclose(seen["bn"], [[0.5, -1.0, 2.0]], atol=1e-6)
    inference = layer_outputs(model, x, "bn", training=False)["bn"]
    assert not np.allclose(inference, [[0.5, -1.0, 2.0]], atol=1e-3)


def test_mode_predictions_are_the_two_modes_in_that_order():
    inputs = keras.Input((2,))
    model = keras.Model(inputs, layers.BatchNormalization()(inputs))
    x = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    trained, inferred = mode_predictions(model, x)
    assert np.array_equal(trained, predictions(model, x, training=True))
    assert np.array_equal(inferred, predictions(model, x, training=False))
    assert not np.allclose(trained, inferred)


# --- section 6's table ----------------------------------------------------------

def test_bounded_prints_the_figure_and_the_bound_and_checks_it():
    assert bounded(0.0234, less_than=0.2) == "\u22482.3e-02 (< 0.2)"
    assert bounded(8.83e8, more_than=1) == "\u22488.8e+08 (> 1)"
    assert bounded(0.46, more_than=0.1) == "\u22484.6e-01 (> 0.1)"
    with pytest.raises(ClaimFailed):
        bounded(0.3, less_than=0.2)
    with pytest.raises(ClaimFailed):
        bounded(float("nan"), more_than=1)


def test_mse_table_lines_up_its_columns_under_the_header():
    text = mse_table([("fix, 100 steps", "0/22", "< 1e-04", "< 1e-04"),
                      ("(c) fix at lr 0.1", "0/22", bounded(75.0, more_than=1), bounded(2600.0, more_than=1))])
    lines = text.split("\n")
    assert lines[0] == "model                          zero grads  training-mode MSE  inference-mode MSE"
    assert lines[1] == "fix, 100 steps                       0/22            < 1e-04             < 1e-04"
    assert lines[2] == "(c) fix at lr 0.1                    0/22     \u22487.5e+01 (> 1)      \u22482.6e+03 (> 1)"
    assert len({len(line) for line in lines}) == 1


# --- retraining the decoder, and the panel's wiring -----------------------------

def small_decoder(last_bn=True, output="relu", momentum=0.99, widths=(4, 8)):
    """The lesson's decoder in miniature: pointwise convs, max-pool, Conv1D(12), then bn and ReLU as switched."""
    inputs = keras.Input((68, 3))
    h = inputs
    for i, filters in enumerate(widths, start=1):
        h = layers.Conv1D(filters, 1, name=f"conv{i}")(h)
        h = layers.BatchNormalization(momentum=momentum, name=f"bn{i}")(h)
        h = layers.ReLU()(h)
    h = layers.Reshape((1, -1))(layers.GlobalMaxPool1D()(h))
    h = layers.Conv1D(12, 1, name="out")(h)
    if last_bn:
        h = layers.BatchNormalization(name="bn_out")(h)
    if output == "relu":
        h = layers.ReLU()(h)
    return keras.Model(inputs, h)


def one_example():
    rng = np.random.default_rng(0)
    return rng.random((1, 68, 3), dtype=np.float32), rng.random((1, 1, 12), dtype=np.float32)


def test_every_retrain_starts_from_seed_0s_weights_and_a_fresh_adam():
    x, y = one_example()
    cu.seed(0)
    fresh_loss = float(np.mean((predictions(small_decoder(last_bn=False, output="none"), x, training=True) - y) ** 2))
    retrainer = DecoderRetrainer(small_decoder)
    first = retrainer.train(x, y, lr=1e-2, steps=30, last_bn=False, output="none")
    second = retrainer.train(x, y, lr=1e-2, steps=30, last_bn=False, output="none")
    assert math.isclose(first.run.initial_loss, fresh_loss, rel_tol=1e-5)
    assert np.array_equal(first.run.losses, second.run.losses) and first.model is second.model
    assert first.run.final_loss < first.run.initial_loss / 10
    assert first.zeros.count == "0/10" and first.errors.training < first.run.initial_loss
    assert first.inference_curve == ([], [])      # recorded only when asked for


def test_a_retrain_of_the_bug_counts_its_zero_gradients_on_the_batch_it_trains_on():
    x, y = one_example()
    run = DecoderRetrainer(small_decoder).train(x, y, lr=0.1, steps=20)
    assert run.zeros.all_zero and run.zeros.count == "12/12"
    assert len(set(run.run.losses.tolist())) == 1     # the loss never moves
    assert run.describe().startswith("12/12 zero gradients at the start; training-mode MSE ")


def test_the_panel_refuses_large_batches_and_measures_the_distinct_examples():
    wiring = DecoderPanel(small_decoder, widths=(4, 8), steps=20, sample_every=5, max_rows=8)
    assert wiring.x.shape == (8, 68, 3) and wiring.y.shape == (8, 1, 12)
    assert wiring.check({"examples": 3, "copies": 3}) == "3 examples x 3 copies = 9 rows; keep it at most 8 for a live retrain"
    assert wiring.check({"examples": 2, "copies": 4}) is None

    partial_runs = []

    class Progress:
        def report(self, fraction, partial=None):
            partial_runs.append((fraction, partial))
            return False

    values = {"examples": 2, "copies": 4, "last_bn": False, "output": "none", "lr": 1e-2}
    result = wiring.train(values, Progress())
    assert [f for f, _ in partial_runs] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert all(p.errors is None for _, p in partial_runs)
    steps, errors = result.inference_curve
    assert list(steps) == [0, 5, 10, 15, 20] and len(errors) == 5
    x, y = wiring.x[:2], wiring.y[:2]
    assert math.isclose(errors[-1], mode_errors(result.model, x, y).inference, rel_tol=1e-5)
    assert result.errors == mode_errors(result.model, x, y)   # measured on the 2 examples, not the 8 rows
    fig = matplotlib.figure.Figure()
    wiring.draw(fig, result, values)
    assert len(fig.axes) == 2 and fig.axes[1].get_title() == "example 1: outputs"


# --- the lab check ------------------------------------------------------------

def forecaster(norm="batch", momentum=0.99, head=6, zero_input=False, output_activation=None):
    inputs = keras.Input((48, 2))
    h = inputs * 0.0 if zero_input else inputs
    for _ in range(2):
        h = layers.Conv1D(16, 5, padding="same")(h)
        h = layers.BatchNormalization(momentum=momentum)(h)
        h = layers.ReLU()(h)
    h = layers.Flatten()(h)
    h = layers.Dense(32)(h)
    if norm == "batch":
        h = layers.BatchNormalization()(h)
    elif norm == "layer":
        h = layers.LayerNormalization()(h)
    h = layers.ReLU()(h)
    return keras.Model(inputs, layers.Dense(head, activation=output_activation)(h))


def evidence(result):
    return " ".join(result.evidence) + " " + result.hint


def test_lab_series_shapes():
    x, y = lab_series()
    assert x.shape == (1, 48, 2) and y.shape == (1, 6) and x.dtype == np.float32


def test_check_fails_on_the_shipped_model():
    result = check_forecaster(lambda: forecaster("batch"))
    assert not result.passed
    assert "13/14" in evidence(result) and "normalisation layer" in result.hint


@pytest.mark.parametrize("norm", ["none", "layer"])
def test_check_passes_a_real_fix(norm):
    result = check_forecaster(lambda: forecaster(norm))
    assert result.passed, str(result)
    assert any(line.startswith("zero-gradient variables at the start: 0/") for line in result.evidence)


def test_check_names_the_moving_averages_when_inference_lags():
    result = check_forecaster(lambda: forecaster("none"), steps=300)
    assert not result.passed
    assert "moving_mean" in result.hint and "momentum" in result.hint


def test_a_model_that_ignores_its_input_is_not_accepted():
    result = check_forecaster(lambda: forecaster("none", zero_input=True))
    assert not result.passed
    zero_count = re.search(r"at the start: (\d+)/", " ".join(result.evidence))
    assert zero_count and int(zero_count.group(1)) > 0, result.evidence


def test_a_relu_on_the_forecast_is_not_accepted():
    result = check_forecaster(lambda: forecaster("none", output_activation="relu"))
    assert not result.passed


def hard_coded():
    x, y = lab_series()
    inputs = keras.Input((48, 2))
    h = layers.Flatten()(inputs)
    out = layers.Dense(6, kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(y[0]))(h)
    return keras.Model(inputs, out)


@pytest.mark.parametrize(
    "answer, words",
    [
        ("build_model", "expected a function"),
        (lambda: (_ for _ in ()).throw(RuntimeError("boom")), "raised RuntimeError"),
        (lambda: "a model", "must return a keras.Model"),
        (lambda: forecaster("none", head=5), "must forecast shape"),
        (hard_coded, "fits before any training"),
    ],
)
def test_wrong_answers_are_reported_not_raised(answer, words):
    result = check_forecaster(answer)
    assert not result.passed
    assert words in evidence(result), evidence(result)


# --- answers a student might give ---------------------------------------------------------------
# Each row: a build_model, whether it must pass, and words that must be in the evidence + hint. Answers that drop
# the model's idea are refused from its layers, before any training; the rest are trained by the check itself.

def built(*stack, norm_dense=None, dense_activation="relu", head=True, forecast=None):
    """A forecaster from a stack of layer factories for the convolutional part, then Flatten and the dense head."""
    def build():
        inputs = keras.Input((48, 2))
        h = inputs
        for make in stack:
            h = make()(h)
        h = layers.Flatten()(h)
        if head:
            h = layers.Dense(32)(h)
            if norm_dense is not None:
                h = norm_dense()(h)
            if dense_activation:
                h = layers.Activation(dense_activation)(h)
        return keras.Model(inputs, (forecast or (lambda: layers.Dense(6)))()(h))
    return build


def conv(kernel=5):
    return lambda: layers.Conv1D(16, kernel, padding="same")


BN, RELU = layers.BatchNormalization, layers.ReLU
CONV_PART = [conv(), BN, RELU, conv(), BN, RELU]


def purely_linear():
    inputs = keras.Input((48, 2))
    return keras.Model(inputs, layers.Dense(6)(layers.Flatten()(inputs)))


def forecast_plus_targets():             # the targets added to the output: fitted before any training
    _, y = lab_series()
    inputs = keras.Input((48, 2))
    h = built(*CONV_PART)()(inputs)
    return keras.Model(inputs, layers.Lambda(lambda t: 0.0 * t + y)(h))


def never_returns():
    while True:
        pass


ANSWERS = [
    # name, kind, build_model, passes, words in the evidence + hint
    ("purely linear", "a different model than asked", purely_linear, False,
     ["lacks two convolutions over time", "it has 0", "Start again from the shipped model"]),
    ("convolutions, nothing non-linear", "a different model than asked",
     built(conv(), conv(), dense_activation=None), False,
     ["a non-linearity after the convolutions", "a non-linearity between the dense layers",
      "the BatchNormalization of the convolutions"]),
    ("every BatchNormalization removed", "fix that hides the symptom",
     built(conv(), RELU, conv(), RELU), False,
     ["the BatchNormalization of the convolutions", "(it has 0 such layers)"]),
    ("pointwise convolutions", "a different model than asked",
     built(conv(1), BN, RELU, conv(1), BN, RELU, norm_dense=None), False,
     ["two convolutions over time", "it has 0)"]),
    ("dense head made linear", "partial fix",
     built(*CONV_PART, dense_activation=None), False, ["lacks a non-linearity between the dense layers"]),
    ("tanh on the forecast", "wrong answer",
     built(*CONV_PART, forecast=lambda: layers.Dense(6, activation="tanh")), False,
     ["a linear forecast: the last Dense layer goes through tanh"]),
    ("the head's BatchNormalization with a lower momentum", "fix that hides the symptom",
     built(*CONV_PART, norm_dense=lambda: BN(momentum=0.5)), False,
     ["the model keeps its idea", "zero-gradient variables at the start: 13/14",
      "normalisation layer normalises over"]),
    ("targets added to the output", "cheat: hard-coded numbers", forecast_plus_targets, False,
     ["fits before any training"]),
    ("build_model never returns", "hang", never_returns, False, ["build_model() ran for more than 1 s"]),
    ("no normalisation in the head, a LeakyReLU", "valid alternative",
     built(*CONV_PART, dense_activation="leaky_relu"), True, ["the model keeps its idea", "0/12"]),
    ("head's BatchNormalization moved before Flatten", "valid alternative",
     built(*CONV_PART, BN), True, ["3 BatchNormalization layers with more than one value per feature (48, 48, 48)"]),
]


@pytest.mark.parametrize("name, kind, build_model, passes, words", ANSWERS, ids=[a[0] for a in ANSWERS])
def test_answers_a_student_might_give(name, kind, build_model, passes, words):
    result = check_forecaster(build_model, **({"time_limit_s": 1} if kind == "hang" else {}))
    text = evidence(result)
    assert result.passed is passes, text
    for word in words:
        assert word in text, f"{word!r} not in: {text}"
