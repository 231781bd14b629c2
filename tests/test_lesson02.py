"""Lesson 02 ("Linear convs"): the series-window data, the linearity detector,
the cached Keras trainer, and the lab check on hand-written answers."""
import numpy as np
import pytest

import course_utils as cu
from course_utils import series_windows as sw
from course_utils.linearity import linear_pairs

cu.setup(frameworks=("tensorflow", "torch"))

import keras  # noqa: E402
from keras import layers  # noqa: E402
from torch import nn  # noqa: E402

from course_utils.cached_keras import CachedTrainer  # noqa: E402
from course_utils.checks.linear_convs import check_sensor_model  # noqa: E402


# --- data -------------------------------------------------------------------

def test_seed_like_has_the_questions_shape_and_statistics():
    d = sw.seed_like(1000, signal=1.0)
    assert d.x_train.shape == (800, 10, 10, 4) and d.x_val.shape == (200, 10, 10, 4)
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert abs(d.x_train.mean() + 0.82) < 0.01
    within = d.x_train.reshape(800, -1).std(axis=1).mean()
    assert 0.007 < within < 0.013
    assert np.array_equal(d.x_train, d.x_train.transpose(0, 2, 1, 3))      # symmetric windows
    assert np.allclose(d.x_train[1, :-1, :-1], d.x_train[0, 1:, 1:])       # consecutive windows overlap
    assert 0.4 < d.y_train.mean() < 0.6


def test_seed_like_signal_controls_how_many_labels_follow_the_pattern():
    full = sw.seed_like(2000, signal=1.0)
    none = sw.seed_like(2000, signal=0.0)
    assert np.array_equal(full.y_train, full.pattern_train)
    agreement = (none.y_train == none.pattern_train).mean()
    assert 0.45 < agreement < 0.55
    assert full.best_accuracy == 1.0 and none.best_accuracy == 0.5


def test_seed_like_is_deterministic_and_validates_arguments():
    a, b = sw.seed_like(300, signal=0.5, seed=3), sw.seed_like(300, signal=0.5, seed=3)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_val, b.y_val)
    assert not np.array_equal(a.x_train, sw.seed_like(300, signal=0.5, seed=4).x_train)
    for bad in ({"n": 0}, {"n": 2.5}, {"signal": 1.5}, {"val_fraction": 1.0}):
        with pytest.raises(ValueError):
            sw.seed_like(**{"n": 100, **bad})


def test_standardizer_and_scale_report():
    d = sw.seed_like(500)
    raw = sw.scale_report(d.x_train)
    assert not raw.healthy and raw.offset_to_spread > 30 and "BADLY SCALED" in str(raw)
    scaled = sw.Standardizer.fit(d.x_train)(d.x_train)
    assert np.allclose(scaled.mean(axis=(0, 1, 2)), 0, atol=1e-4)
    assert np.allclose(scaled.std(axis=(0, 1, 2)), 1, atol=1e-3)
    report = sw.scale_report(scaled)
    assert report.healthy and "well scaled" in str(report) and "e-" not in str(report)
    assert not sw.scale_report(d.x_train - d.x_train.mean()).healthy   # centred but the spread is still 0.01
    with pytest.raises(ValueError):
        sw.scale_report(np.zeros(5))


def test_lab_readings():
    d = sw.lab_readings()
    assert d.x_train.shape == (1200, 32, 3) and d.x_val.shape == (300, 32, 3)
    assert abs(d.x_train.mean() - 293.15) < 0.1 and not sw.scale_report(d.x_train).healthy
    assert 0.45 < d.y_train.mean() < 0.55
    assert np.array_equal(d.x_val, sw.lab_readings().x_val)


# --- linearity detector -----------------------------------------------------

def _seq(*stack, shape=(10, 10, 4)):
    return keras.Sequential([keras.Input(shape), *stack])


def test_keras_linear_convs_are_found():
    report = linear_pairs(_seq(layers.Conv2D(4, 3), layers.Conv2D(4, 3), layers.Conv2D(4, 3)))
    assert len(report.pairs) == 2 and not report.clean
    assert linear_pairs(_seq(layers.Conv2D(4, 3, activation="relu"), layers.Conv2D(4, 3))).clean


@pytest.mark.parametrize("middle, linear", [
    (layers.MaxPooling2D(2), False), (layers.ReLU(), False), (layers.Activation("tanh"), False),
    (layers.Dropout(0.1), True), (layers.BatchNormalization(), True), (layers.Activation("linear"), True),
    (layers.AveragePooling2D(2), True),
])
def test_keras_what_breaks_a_chain(middle, linear):
    report = linear_pairs(_seq(layers.Conv2D(4, 3, padding="same"), middle, layers.Conv2D(4, 3, padding="same")))
    assert (len(report.pairs) == 1) is linear
    if linear:
        assert report.pairs[0].between and "->" in str(report)


def test_keras_dense_after_flatten_counts_and_unknown_layers_are_listed():
    report = linear_pairs(_seq(layers.Conv2D(4, 3), layers.Flatten(), layers.Dense(1)))
    assert len(report.pairs) == 1
    report = linear_pairs(_seq(layers.Conv2D(4, 3), layers.Lambda(lambda t: t * t), layers.Conv2D(4, 3)))
    assert report.clean and len(report.unknown) == 1 and "could not classify" in str(report)


def test_torch_linear_stack():
    assert len(linear_pairs(nn.Sequential(nn.Conv2d(4, 8, 3), nn.Conv2d(8, 8, 3), nn.Conv2d(8, 8, 3))).pairs) == 2
    assert linear_pairs(nn.Sequential(nn.Conv2d(4, 8, 3), nn.ReLU(), nn.Conv2d(8, 8, 3))).clean
    assert linear_pairs(nn.Sequential(nn.Conv2d(4, 8, 3), nn.MaxPool2d(2), nn.Conv2d(8, 8, 3))).clean
    nested = nn.Sequential(nn.Sequential(nn.Linear(3, 3), nn.Dropout()), nn.Linear(3, 1))
    assert len(linear_pairs(nested).pairs) == 1
    with pytest.raises(TypeError):
        linear_pairs("not a model")


# --- cached trainer ---------------------------------------------------------

def _tiny(activation=None):
    return _seq(layers.Conv2D(4, 3, activation=activation), layers.Flatten(), layers.Dense(1, activation="sigmoid"))


def test_cached_trainer_restarts_from_the_same_fresh_state():
    d = sw.seed_like(200, signal=1.0)
    x, y = sw.Standardizer.fit(d.x_train)(d.x_train), d.y_train.astype("float32")[:, None]
    trainer = CachedTrainer(_tiny, keras.losses.binary_crossentropy, seed=0)
    _, first = trainer.train(x, y, {}, "adam", 1e-2, 30, batch_size=20)
    _, second = trainer.train(x, y, {}, "adam", 1e-2, 30, batch_size=20)
    assert np.array_equal(first.losses, second.losses)   # weights and Adam's state were reset
    assert trainer.cached == 1
    _, slower = trainer.train(x, y, {}, "adam", 1e-4, 30, batch_size=20)
    assert slower.losses[0] == first.losses[0] and not np.allclose(slower.losses[-5:], first.losses[-5:])
    trainer.train(x, y, {"activation": "relu"}, "sgd", 1e-2, 5, batch_size=20)
    assert trainer.cached == 2
    cu.seed(0)
    fresh = _tiny()
    model, optimizer = trainer.fresh({}, "adam", 1e-2, x.shape[1:])
    assert int(optimizer.iterations.numpy()) == 0 and abs(float(optimizer.learning_rate.numpy()) - 1e-2) < 1e-9
    assert all(np.array_equal(a, b) for a, b in zip(fresh.get_weights(), model.get_weights()))
    with pytest.raises(ValueError):
        trainer.train(x, y, {}, "rmsprop", 1e-2, 5)


# --- the lab check ----------------------------------------------------------

def _lab_model(first=None, second=None):
    def build():
        return keras.Sequential([keras.Input((32, 3)),
                                 layers.Conv1D(16, 5, padding="same", activation=first), layers.Dropout(0.1),
                                 layers.Conv1D(32, 5, padding="same", activation=second),
                                 layers.GlobalAveragePooling1D(), layers.Dense(16, activation="relu"),
                                 layers.Dense(1, activation="sigmoid")])
    return build


SCALE = sw.Standardizer.fit(sw.lab_readings().x_train)


def _text(result):
    return " ".join(result.evidence) + " " + result.hint


def test_check_reports_both_problems_on_the_shipped_lab():
    result = check_sensor_model(_lab_model(), lambda x: x)
    assert not result.passed
    assert "linear pairs" in _text(result) and "badly scaled" in _text(result)
    assert "scale_report" in result.hint   # the hint points at the instrument to read


def test_check_fails_linear_convs_before_the_pooling_by_measurement():
    """Scale fixed, both convs linear: the model learns too little in the check's budget, and the check
    measures that a ReLU after the pairs is what changes it."""
    result = check_sensor_model(_lab_model(), SCALE)
    assert not result.passed
    assert "linear pairs" in _text(result) and "badly scaled" not in _text(result)
    assert "measured: the same model with a ReLU after" in _text(result) and "holds this model back" in _text(result)


def test_a_linear_pair_that_does_not_stop_learning_is_reported_not_failed():
    """Lesson 02, 4c: a linear pair inside a model that is non-linear elsewhere does not stop it fitting."""
    result = check_sensor_model(_lab_model(None, "relu"), SCALE)
    assert result.passed, result.evidence
    assert "linear pairs (reported" in _text(result)


def test_check_reports_only_the_scale_when_the_activations_are_fixed():
    result = check_sensor_model(_lab_model("relu", "relu"), lambda x: x)
    assert not result.passed
    assert "no silent linearity" in _text(result) and "badly scaled" in _text(result)


def test_linear_convs_then_global_average_pooling_keep_only_means_and_ends():
    """The lab's last section: with padding="same", the time average of two linear convs is a linear
    function of each sensor's mean and its first and last four readings (nothing else of the sequence)."""
    cu.seed(0)
    model = _lab_model()()
    pooled = keras.Model(model.inputs[0], model.layers[3].output)   # up to GlobalAveragePooling1D
    x = SCALE(sw.lab_readings().x_val)
    out = np.asarray(pooled(x, training=False), dtype=np.float64)
    kept = np.concatenate([x.mean(axis=1), x[:, :4].reshape(len(x), -1), x[:, -4:].reshape(len(x), -1),
                           np.ones((len(x), 1))], axis=1).astype(np.float64)
    coef, *_ = np.linalg.lstsq(kept, out, rcond=None)
    assert np.abs(kept @ coef - out).max() < 1e-4 * np.abs(out).max()
    middle = np.concatenate([x[:, 4:-4].reshape(len(x), -1), np.ones((len(x), 1))], axis=1).astype(np.float64)
    coef, *_ = np.linalg.lstsq(middle, out, rcond=None)     # the middle readings alone do not explain it
    assert np.abs(middle @ coef - out).max() > 1e-2 * np.abs(out).max()


def test_check_passes_the_solution():
    result = check_sensor_model(_lab_model("relu", "relu"), SCALE)
    assert result.passed, result.evidence


def test_check_never_raises_on_broken_answers():
    def boom():
        raise RuntimeError("student bug")

    answers = [
        (boom, SCALE),
        ("not a function", SCALE),
        (lambda: "not a model", SCALE),
        (_lab_model("relu", "relu"), lambda x: x[:, :10]),            # wrong shape
        (_lab_model("relu", "relu"), lambda x: np.full_like(x, np.nan)),
        (_lab_model("relu", "relu"), lambda x: boom()),
        (lambda: keras.Sequential([keras.Input((32, 3)), layers.Flatten(), layers.Dense(2)]), SCALE),
    ]
    for build, prepare in answers:
        result = check_sensor_model(build, prepare)
        assert not result.passed and result.evidence


def test_check_reports_an_unclassifiable_layer_and_refuses_a_scaled_but_offset_input():
    def lambda_model():
        return keras.Sequential([keras.Input((32, 3)),
                                 layers.Conv1D(16, 5, padding="same"), layers.Lambda(lambda t: t * t),
                                 layers.Conv1D(32, 5, padding="same", activation="relu"),
                                 layers.GlobalAveragePooling1D(), layers.Dense(1, activation="sigmoid")])

    result = check_sensor_model(lambda_model, SCALE)
    assert "cannot classify" in _text(result)     # reported; the training run decides
    result = check_sensor_model(_lab_model("relu", "relu"), lambda x: x - 293.0)
    assert not result.passed and "badly scaled" in _text(result)
