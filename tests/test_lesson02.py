"""Lesson 02 ("Linear convs"): the series-window data, the linearity detector,
the cached Keras trainer, and the lab check on hand-written answers."""
import numpy as np
import pytest

import course_utils as cu
from course_utils.lessons import linear_convs as lesson
from course_utils.diagnosis.linearity import linear_pairs

cu.setup(frameworks=("tensorflow", "torch"))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402
from torch import nn  # noqa: E402

from course_utils.training.cached_keras import CachedTrainer  # noqa: E402
from course_utils.checks.linear_convs import check_sensor_model  # noqa: E402


# --- data -------------------------------------------------------------------

def test_seed_like_has_the_questions_shape_and_statistics():
    d = lesson.seed_like(1000, signal=1.0)
    assert d.x_train.shape == (800, 10, 10, 4) and d.x_val.shape == (200, 10, 10, 4)
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert abs(d.x_train.mean() + 0.82) < 0.01
    within = d.x_train.reshape(800, -1).std(axis=1).mean()
    assert 0.007 < within < 0.013
    assert np.array_equal(d.x_train, d.x_train.transpose(0, 2, 1, 3))      # symmetric windows
    assert np.allclose(d.x_train[1, :-1, :-1], d.x_train[0, 1:, 1:])       # consecutive windows overlap
    assert 0.4 < d.y_train.mean() < 0.6


def test_seed_like_signal_controls_how_many_labels_follow_the_pattern():
    full = lesson.seed_like(2000, signal=1.0)
    none = lesson.seed_like(2000, signal=0.0)
    assert np.array_equal(full.y_train, full.pattern_train)
    agreement = (none.y_train == none.pattern_train).mean()
    assert 0.45 < agreement < 0.55
    assert full.best_accuracy == 1.0 and none.best_accuracy == 0.5


def test_seed_like_is_deterministic_and_validates_arguments():
    a, b = lesson.seed_like(300, signal=0.5, seed=3), lesson.seed_like(300, signal=0.5, seed=3)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_val, b.y_val)
    assert not np.array_equal(a.x_train, lesson.seed_like(300, signal=0.5, seed=4).x_train)
    for bad in ({"n": 0}, {"n": 2.5}, {"signal": 1.5}, {"val_fraction": 1.0}):
        with pytest.raises(ValueError):
            lesson.seed_like(**{"n": 100, **bad})


def test_standardizer_and_scale_report():
    d = lesson.seed_like(500)
    raw = lesson.scale_report(d.x_train)
    assert not raw.healthy and raw.offset_to_spread > 30 and "BADLY SCALED" in str(raw)
    scaled = lesson.Standardizer.fit(d.x_train)(d.x_train)
    assert np.allclose(scaled.mean(axis=(0, 1, 2)), 0, atol=1e-4)
    assert np.allclose(scaled.std(axis=(0, 1, 2)), 1, atol=1e-3)
    report = lesson.scale_report(scaled)
    assert report.healthy and "well scaled" in str(report) and "e-" not in str(report)
    assert not lesson.scale_report(d.x_train - d.x_train.mean()).healthy   # centred but the spread is still 0.01
    with pytest.raises(ValueError):
        lesson.scale_report(np.zeros(5))


def test_lab_readings():
    d = lesson.lab_readings()
    assert d.x_train.shape == (1200, 32, 3) and d.x_val.shape == (300, 32, 3)
    assert abs(d.x_train.mean() - 293.15) < 0.1 and not lesson.scale_report(d.x_train).healthy
    assert 0.45 < d.y_train.mean() < 0.55
    assert np.array_equal(d.x_val, lesson.lab_readings().x_val)


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
    unbuilt = keras.Sequential([layers.Conv2D(4, 3), layers.Lambda(lambda t: t * t), layers.Conv2D(4, 3)])
    report = linear_pairs(unbuilt)           # no input shape: the Lambda cannot be probed, so it is unknown
    assert report.clean and len(report.unknown) == 1 and "could not classify" in str(report)


@pytest.mark.parametrize("middle, linear", [
    (layers.Lambda(lambda t: t * t), False), (layers.Lambda(tf.nn.relu), False),
    (layers.Activation(lambda t: tf.maximum(t, 0.0)), False),
    (layers.Lambda(lambda t: 2 * t + 1), True), (layers.Activation(lambda t: t), True),
])
def test_keras_lambda_and_activation_layers_are_probed_not_read_by_name(middle, linear):
    report = linear_pairs(_seq(layers.Conv2D(4, 3, padding="same"), middle, layers.Conv2D(4, 3, padding="same")))
    assert (len(report.pairs) == 1) is linear and not report.unknown


def test_a_layers_own_activation_is_probed():
    assert len(linear_pairs(_seq(layers.Conv2D(4, 3, activation=lambda t: t), layers.Conv2D(4, 3))).pairs) == 1
    assert linear_pairs(_seq(layers.Conv2D(4, 3, activation=tf.nn.gelu), layers.Conv2D(4, 3))).clean


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
    d = lesson.seed_like(200, signal=1.0)
    x, y = lesson.Standardizer.fit(d.x_train)(d.x_train), d.y_train.astype("float32")[:, None]
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


# --- the notebook's plumbing: reading runs, the candidates' table, the panel ---

def _run(losses, sampled_steps=(), val_accuracy=(), diverged_at=None):
    return cu.TrainingRun(np.asarray(losses, dtype=np.float32), list(sampled_steps),
                          {"val_accuracy": list(val_accuracy)}, [{"step": s} for s in sampled_steps], diverged_at)


def test_tail_loss_and_stuck_read_the_last_40_steps():
    flat = _run([0.3] * 60 + [lesson.LN2 + 0.005] * 40)
    assert abs(lesson.tail_loss(flat) - (lesson.LN2 + 0.005)) < 1e-6 and lesson.stuck(flat)
    assert not lesson.stuck(_run([lesson.LN2] * 60 + [0.6] * 40))       # left ln 2 at the end
    assert lesson.stuck(_run([lesson.LN2] * 39 + [0.6]))        # one step off ln 2 moves the 40-step mean by 0.0023
    assert not lesson.stuck(_run([lesson.LN2] * 36 + [0.55] * 4))  # four steps move it by 0.014
    assert not lesson.stuck(_run([lesson.LN2] * 40, diverged_at=30))   # a diverged run is not "stuck"


def test_first_steps_reads_a_long_run_as_a_short_one():
    long = _run(np.linspace(1, 0, 600), sampled_steps=range(0, 601, 40), val_accuracy=np.linspace(0.5, 1, 16))
    short = lesson.first_steps(long, 200)
    assert short.steps_done == 200 and np.array_equal(short.losses, long.losses[:200])
    assert short.sampled_steps == [0, 40, 80, 120, 160, 200] and len(short.metric("val_accuracy")) == 6
    assert short.metric("val_accuracy")[-1] == long.metric("val_accuracy")[5] and len(short.readings) == 6
    assert long.steps_done == 600 and len(long.sampled_steps) == 16     # the long run is left as it was


def test_candidate_row_checks_the_claim_it_prints():
    on_ln2 = _run([lesson.LN2] * 200, [200], [0.49])
    learned = _run([0.6] * 200, [200], [0.73])
    assert "loss ≈0.693 (> 0.68, < 0.71)" in lesson.candidate_row("relu", on_ln2, learns=False)
    assert "validation accuracy ≈73% (> 65%)" in lesson.candidate_row("standardised", learned, learns=True)
    assert "diverged at step ≈9 (< 20)" in lesson.candidate_row("lr 1.0", _run([0.7] * 9, diverged_at=9), learns=False)
    for run, learns in [(learned, False), (on_ln2, True), (_run([0.7] * 30, diverged_at=30), False)]:
        with pytest.raises(cu.fmt.ClaimFailed):        # a figure outside what the lesson claims fails the notebook
            lesson.candidate_row("name", run, learns=learns)


def test_moving_average_ends_each_window_at_its_last_step():
    steps, values = lesson.moving_average([1.0, 2.0, 3.0, 4.0], 2)
    assert list(steps) == [2, 3, 4] and np.allclose(values, [1.5, 2.5, 3.5])
    steps, values = lesson.moving_average([], 12)
    assert len(steps) == len(values) == 0


def _question_like(conv_activation=None):
    return _seq(layers.Conv2D(4, 3, activation=conv_activation, padding="same"), layers.MaxPooling2D(2),
                layers.Flatten(), layers.Dense(1, activation="sigmoid"))


def test_explore_runs_drive_the_panel_without_an_error():
    trainer = CachedTrainer(_question_like, keras.losses.binary_crossentropy, seed=0)
    explore = lesson.ExploreRuns(trainer, batch=20, metrics={"accuracy": cu.metrics.accuracy}, n=100)
    assert explore.windows(0.5) is explore.windows(0.501) and explore.windows(0.5).x_train.shape == (80, 10, 10, 4)
    controls = {"relu": cu.panel.toggle("relu", True), "standardise": cu.panel.toggle("standardise", True),
                "signal": cu.panel.float_slider("signal", 0.0, 1.0, 1.0, step=0.1),
                "optimizer": cu.panel.choice("optimizer", ["sgd", "adam"], "adam"),
                "lr": cu.panel.log_slider("lr", 1e-4, 1.0, 1e-2), "epochs": cu.panel.int_slider("epochs", 1, 60, 2)}
    panel = cu.Panel(controls, train=explore.train, draw=explore.draw, check=explore.refuse, live=False)
    run = panel.run()
    assert panel.last_error is None and run.steps_done == 2 * 4 and run.sampled_steps == [0, 4, 8]
    assert len(run.metric("train_accuracy")) == len(run.metric("val_accuracy")) == 3
    panel.set(lr=0.5)                                   # Adam above 0.1 is refused with a message, not run
    assert panel.run() is None and "Adam above 0.1" in panel.status.value and panel.runs == 1
    assert explore.refuse({"optimizer": "sgd", "lr": 1.0}) is None


# --- the lab check ----------------------------------------------------------

def _lab_model(first=None, second=None):
    def build():
        return keras.Sequential([keras.Input((32, 3)),
                                 layers.Conv1D(16, 5, padding="same", activation=first), layers.Dropout(0.1),
                                 layers.Conv1D(32, 5, padding="same", activation=second),
                                 layers.GlobalAveragePooling1D(), layers.Dense(16, activation="relu"),
                                 layers.Dense(1, activation="sigmoid")])
    return build


SCALE = lesson.Standardizer.fit(lesson.lab_readings().x_train)


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
    x = SCALE(lesson.lab_readings().x_val)
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


def test_check_reports_a_layer_it_cannot_classify():
    def with_lstm():
        return keras.Sequential([keras.Input((32, 3)),
                                 layers.Conv1D(16, 5, padding="same"),
                                 layers.LSTM(8, return_sequences=True, name="lstm"),  # Keras would number it per process
                                 layers.Conv1D(32, 5, padding="same", activation="relu"),
                                 layers.GlobalAveragePooling1D(), layers.Dense(1, activation="sigmoid")])

    result = check_sensor_model(with_lstm, lambda x: (x - x.mean()) / x.std())   # refused before training
    assert "cannot classify (reported, not failed): lstm (LSTM)" in _text(result) and not result.passed


# --- answers a student might give ---
# Each row: (build_model, prepare_x), whether it must pass, and words that must be in the evidence + hint.
# Refusals of the preparation and of the model come before any training (cheap); the rest train with the check's
# own budget (Adam, 300 steps of 32).

READINGS = lesson.lab_readings()
MEANS64, STDS64 = (READINGS.x_train.astype("float64").mean(axis=(0, 1)),
                   READINGS.x_train.astype("float64").std(axis=(0, 1)))
MEANS32, STDS32 = READINGS.x_train.mean(axis=(0, 1)), READINGS.x_train.std(axis=(0, 1))   # float32 sums


def _conv(filters, activation="relu"):
    return lambda: layers.Conv1D(filters, 5, padding="same", activation=activation)


def _net(*before, first=_conv(16), middle=(lambda: layers.Dropout(0.1),), second=_conv(32)):
    """The lab's conv net, with layers made by the factories given (so that every build is fresh)."""
    def build():
        return keras.Sequential([keras.Input((32, 3)), *[make() for make in (*before, first, *middle, second)],
                                 layers.GlobalAveragePooling1D(), layers.Dense(16, activation="relu"),
                                 layers.Dense(1, activation="sigmoid")])
    return build


def _adapted(readings):
    def normalization():
        layer = layers.Normalization(axis=-1)
        layer.adapt(readings)
        return layer
    return normalization


def statistics_of_each_set(x):            # every set (and batch) standardised with its own statistics
    x = x.astype("float64")
    return ((x - x.mean(axis=(0, 1))) / x.std(axis=(0, 1))).astype("float32")


VAL_SCALE = lesson.Standardizer.fit(READINGS.x_val)


def validation_set_with_its_own_statistics(x):   # the training numbers, except for a set of the validation's size
    return VAL_SCALE(x) if len(x) == len(READINGS.x_val) else SCALE(x)


def training_statistics_only_for_the_training_set(x):   # the training set's numbers for 1,200 rows, else its own
    return SCALE(x) if len(x) == len(READINGS.x_train) else statistics_of_each_set(x)


def float32_statistics(x):                # standardised, but with means and spreads summed in float32
    return (x - MEANS32) / STDS32


def each_sequence_on_its_own(x):          # per-sequence standardisation: no training statistics at all
    return (x - x.mean(axis=1, keepdims=True)) / x.std(axis=1, keepdims=True)


def min_max(x):                           # training min and max: scaled to [0, 1], not standardised
    low, high = READINGS.x_train.min(axis=(0, 1)), READINGS.x_train.max(axis=(0, 1))
    return (x - low) / (high - low)


def hard_coded(x):                        # numbers typed in (room temperature, a guessed spread), not computed
    return (x - 293.0) / 0.05


def by_hand_in_float64(x):                # valid: the same statistics as the solution, written out
    return ((x.astype("float64") - MEANS64) / STDS64).astype("float32")


def one_mean_for_all_sensors(x):          # valid: one training mean and spread for the three sensors together
    readings = READINGS.x_train.astype("float64")
    return ((x.astype("float64") - readings.mean()) / readings.std()).astype("float32")


def never_returns(x):
    while True:
        pass


def sleeps_in_a_layer():                  # a Lambda layer that never comes back when the model runs
    import time
    return keras.Sequential([keras.Input((32, 3)), layers.Lambda(lambda t: (time.sleep(3600), t)[1]),
                             layers.Conv1D(8, 5), layers.GlobalAveragePooling1D(),
                             layers.Dense(1, activation="sigmoid")])


def _pretrained():
    """build_model trains the lab's model (linear convs) for 300 steps itself before handing it over."""
    cu.seed(1)
    model = _lab_model()()
    y = READINGS.y_train.astype("float32")[:, None]
    cu.train_keras(model, SCALE(READINGS.x_train), y, keras.losses.binary_crossentropy,
                   keras.optimizers.Adam(3e-3), steps=300, batch_size=32, sample_every=300)
    return model


def identity(t):
    return t


class HandSetGains(layers.Layer):         # a layer of the student's own, with weights set by hand
    def build(self, shape):
        self.gains = self.add_weight(name="gains", shape=(shape[-1],), initializer="ones")
        self.gains.assign([1.0, 0.0, 0.0])   # only sensor 0 gets through

    def call(self, inputs):
        return inputs * self.gains


ANSWERS = [
    # name, kind, (build_model, prepare_x), passes, words in the evidence + hint
    ("statistics of each set", "wrong: per-set statistics (issue point 4)",
     (_net(), statistics_of_each_set), False,
     ["not one fixed map", "8 validation sequences raised by 0.5 K", "inside the full training set",
      "from the batch it is given", "fit the statistics once, on data.x_train"]),
    ("the validation set with its own statistics", "wrong: per-set statistics, fitted once per set",
     (_net(), validation_set_with_its_own_statistics), False,
     ["not one fixed map: the validation sequences, prepared alone, differ", "not from the training set"]),
    ("training statistics only when 1,200 rows come in", "cheat: treats the training set apart",
     (_net(), training_statistics_only_for_the_training_set), False,
     ["not one fixed map", "row by row"]),
    ("float32 statistics", "valid: the training statistics, rounded by float32 sums (issue point 10)",
     (_net(), float32_statistics), True,
     ["computes (reading - a) / b per sensor with a = 293.070", "means are 293.151", "float32 arithmetic",
      "They count as the training set's statistics"]),
    ("Normalization adapted on the float32 readings", "valid: Keras' adapt, the same float32 sums (issue point 7)",
     (_net(_adapted(READINGS.x_train)), lambda x: x), True,
     ["then normalization", "float32 arithmetic", "They count as the training set's statistics"]),
    ("BatchNormalization first, raw readings", "hides the symptom: standardises batches while training only",
     (_net(layers.BatchNormalization), lambda x: x), False,
     ["(BatchNormalization)) run as at inference", "mean / spread 5291",
      "leave the readings at their raw scale"]),
    ("one sequence at a time", "wrong form: per-sequence standardisation, no training statistics",
     (_net(), each_sequence_on_its_own), False,
     ["not one (reading - mean) / spread map per sensor", "numbers fitted once on the training set"]),
    ("min-max scaling", "wrong form: scaled to [0, 1], not standardised",
     (_net(), min_max), False,
     ["per-sensor means 0.51", "computes (reading - a) / b", "subtract each sensor's training mean"]),
    ("typed-in numbers", "cheat: hard-coded statistics",
     (_net(), hard_coded), False,
     ["a = 293.000, 293.000, 293.000 K", "up to 3.0 spreads from the mean", "computed from data.x_train"]),
    ("identity activations on the linear convs", "hides the symptom: an activation that does nothing",
     (_net(first=_conv(16, identity), second=_conv(32, identity)), SCALE), False,
     ["2 place(s) where two layers with weights compose", "measured: the same model with a ReLU after",
      "holds this model back"]),
    ("a model trained before the check", "cheat: longer training of the linear convs, outside the budget",
     (_pretrained, SCALE), False,
     ["from fresh weights (drawn by the check", "measured: the same model with a ReLU after"]),
    ("hand-set weights in a layer of its own", "cheat: weights the check cannot start afresh",
     (_net(first=lambda: HandSetGains(), middle=(), second=_conv(16)), SCALE), False,
     ["draws every weight afresh", "cannot for hand_set_gains (HandSetGains)", "Keras' own layers"]),
    ("prepare_x drops half the rows", "cheat: dropped rows",
     (_net(), lambda x: SCALE(x)[::2]), False,
     ["must return shape (1200, 32, 3), got (600, 32, 3)"]),
    ("prepare_x never returns", "never returns",
     (_net(), never_returns), False,
     ["prepare_x", "ran for more than 1 s", "never came back"]),
    ("a layer that never returns", "never returns",
     (sleeps_in_a_layer, SCALE), False,
     ["ran for more than 1 s", "never came back"]),  # under load, building it may be what hits the 1 s
    ("Normalization adapted on float64 readings", "valid: the standardisation inside the model (issue point 7)",
     (_net(_adapted(READINGS.x_train.astype("float64"))), lambda x: x), True,
     ["no silent linearity", "standardised with the training set's statistics"]),
    ("ReLU as Lambda layers, statistics by hand", "valid: another form of ReLU (issue point 8)",
     (_net(first=_conv(16, None), middle=(lambda: layers.Lambda(tf.nn.relu), lambda: layers.Dropout(0.1)),
           second=_conv(32, tf.nn.relu)), by_hand_in_float64), True,
     ["no silent linearity", "standardised"]),
    ("one mean and spread for all sensors, GELU layers", "valid: another standardisation and another non-linearity",
     (_net(first=_conv(16, None), middle=(lambda: layers.Activation("gelu"), lambda: layers.Dropout(0.1)),
           second=_conv(32, "gelu")), one_mean_for_all_sensors), True,
     ["no silent linearity", "standardised"]),
]
LIMITED = {"prepare_x never returns", "a layer that never returns"}   # these run under a 1 s limit


@pytest.mark.parametrize("name, kind, answer, passes, words", ANSWERS, ids=[row[0] for row in ANSWERS])
def test_answers_a_student_might_give(name, kind, answer, passes, words):
    build, prepare = answer
    result = check_sensor_model(build, prepare, time_limit_s=1 if name in LIMITED else 120)
    assert result.passed is passes, str(result)
    for word in words:
        assert word in _text(result), f"{word!r} not in:\n{result}"
