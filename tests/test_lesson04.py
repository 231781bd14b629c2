"""Lesson 04 (tiny data): the data module, the fast retrainer, the lab check and the lab notebooks."""
from __future__ import annotations

import time

import numpy as np
import pytest

import course_utils as cu
from course_utils.lessons import tiny_data
from notebook_tools import ROOT, read

cu.setup(frameworks=("tensorflow",))

import keras  # noqa: E402  (after setup: quiet TensorFlow)

from course_utils.checks import tiny_data as check_module  # noqa: E402
from course_utils.checks.tiny_data import STEP_BUDGET, TARGET_MSE, check_memorised  # noqa: E402
from course_utils.labs import CheckResult  # noqa: E402
from course_utils.training.retrain import (MLPRetrainer, PeakSchedule, Run, copy_model, fresh_weights, mlp, predict,  # noqa: E402
                                  train_seeds, train_settings, train_side_by_side)

LAB = ROOT / "labs" / "04_tiny_data_lab.ipynb"


# --- data -------------------------------------------------------------------

def test_forum_points_are_the_posted_data():
    split = tiny_data.forum_points()
    assert split.x_train.shape == split.y_train.shape == (21, 1)
    assert split.x_test.shape == split.y_test.shape == (9, 1)
    assert split.x_train.dtype == np.float32
    assert split.x_train[0, 0] == np.float32(0.704619794270697)
    assert split.y_train[-1, 0] == np.float32(0.8885893668675711)
    assert split.x_test[6, 0] == 1.0 and split.y_test[5, 0] == 1.0
    everything = np.concatenate([split.x_train, split.x_test, split.y_train, split.y_test])
    assert everything.min() >= 0 and everything.max() <= 1
    assert not set(split.x_train.ravel()) & set(split.x_test.ravel())


def test_lab_points_are_deterministic_narrow_and_separable():
    a, b = tiny_data.lab_points(), tiny_data.lab_points()
    assert a.x_train.shape == a.y_train.shape == (16, 1)
    assert a.x_test.shape == a.y_test.shape == (8, 1)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    x = np.sort(np.concatenate([a.x_train, a.x_test]).ravel())
    assert x.min() > 40 and x.max() < 46                     # a narrow band far from zero
    assert np.diff(x).min() >= 0.25 * 6 / 24 - 1e-5          # neighbours never closer than a quarter cell
    assert not set(a.x_train.ravel()) & set(a.x_test.ravel())
    other = tiny_data.lab_points(seed=5)
    assert not np.array_equal(other.y_train, a.y_train)
    assert tiny_data.lab_points(n_train=5, n_test=3).x_train.shape == (5, 1)


@pytest.mark.parametrize("bad", [0, -1, 2.5, "3"])
def test_lab_points_refuse_bad_counts(bad):
    with pytest.raises(ValueError):
        tiny_data.lab_points(n_train=bad)


def test_standardizer_uses_fitted_statistics():
    x = np.array([[1.0], [2.0], [3.0], [6.0]], dtype=np.float32)
    scale = tiny_data.Standardizer.fit(x)
    z = scale(x)
    assert z.dtype == np.float32
    assert abs(float(z.mean())) < 1e-6 and abs(float(z.std()) - 1) < 1e-6
    assert scale(np.array([[3.0]]))[0, 0] == pytest.approx((3.0 - 3.0) / x.std())
    assert scale(np.array([[10.0]]))[0, 0] == pytest.approx((10.0 - 3.0) / float(x.std()), rel=1e-5)
    constant = tiny_data.Standardizer.fit(np.full((3, 1), 5.0))
    assert constant.std == 1.0 and constant(np.array([[6.0]]))[0, 0] == 1.0


# --- what the lesson draws and measures -------------------------------------------

def test_lbfgs_fit_keeps_why_scipy_stopped_and_how_well_it_fits():
    split = tiny_data.forum_points()
    x = tiny_data.Standardizer.fit(split.x_train)(split.x_train)
    fitted = tiny_data.lbfgs_fit(x, split.y_train, hidden_layer_sizes=(2,), activation="logistic")
    regressor = fitted.regressor
    assert regressor.solver == "lbfgs" and regressor.max_iter == tiny_data.LBFGS_MAX_ITER
    assert "PROJECTED GRADIENT" in fitted.stop and fitted.stop_reason() == "the gradient fell below tol (gtol)"
    predictions = regressor.predict(x)
    assert fitted.train_mse == pytest.approx(np.mean((predictions - split.y_train.ravel()) ** 2), rel=1e-12)
    assert fitted.largest_miss == pytest.approx(np.max(np.abs(predictions - split.y_train.ravel())), rel=1e-12)
    assert fitted.train_mse > 1e-3 and fitted.seconds > 0
    import scipy.optimize
    assert scipy.optimize.minimize.__name__ == "minimize"      # put back after the fit


def test_lbfgs_stop_reason_names_the_rule_and_refuses_a_run_out_of_iterations():
    class Regressor:
        n_iter_, max_iter = 40, 100

    def reason(stop, regressor=Regressor()):
        return tiny_data.LbfgsFit(regressor, stop, 0.1, 0.01, 0.2).stop_reason()

    assert reason("CONVERGENCE: RELATIVE REDUCTION OF F <= FACTR*EPSMCH").startswith("an iteration lowered the loss")
    assert reason("CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL") == "the gradient fell below tol (gtol)"
    with pytest.raises(AssertionError):
        reason("ABNORMAL_TERMINATION_IN_LNSRCH")
    out_of_iterations = Regressor()
    out_of_iterations.n_iter_ = 100
    with pytest.raises(AssertionError, match="iterations"):
        reason("STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT", out_of_iterations)


def test_draw_fit_draws_both_sets_and_the_curve_over_the_inputs_band():
    from matplotlib.figure import Figure

    split = tiny_data.forum_points()
    ax = Figure().subplots()
    seen = []
    tiny_data.draw_fit(ax, split, lambda g: seen.append(g) or np.zeros_like(g), "t", x_scale=lambda x: 2 * x)
    train, held_out, curve = ax.lines
    np.testing.assert_array_equal(train.get_xdata(), split.x_train.ravel())
    np.testing.assert_array_equal(held_out.get_ydata(), split.y_test.ravel())
    np.testing.assert_array_equal(seen[0], 2 * tiny_data.FORUM_GRID)     # the network sees scaled inputs...
    np.testing.assert_array_equal(curve.get_xdata(), tiny_data.FORUM_GRID.ravel())  # ...drawn at raw x
    assert ax.get_title() == "t" and ax.get_ylim() == (0.2, 1.15)
    lab = tiny_data.lab_points()
    ax = Figure().subplots()
    grid = np.linspace(39.5, 46.5, 30, dtype=np.float32).reshape(-1, 1)
    tiny_data.draw_fit(ax, lab, lambda g: g / 40, "", grid=grid, ylim=None)   # a lab's band, limits left to matplotlib
    np.testing.assert_array_equal(ax.lines[2].get_ydata(), (grid / 40).ravel())
    assert ax.get_ylim() != (0.2, 1.15)


class _Progress:
    """What cu.Panel hands to train: here, no redraws."""

    def on_sample(self, total_steps):
        return lambda run: False


def test_panel_wiring_trains_on_the_first_points_and_reports_both_errors():
    from matplotlib.figure import Figure

    split = tiny_data.forum_points()
    wiring = tiny_data.PanelWiring(split, MLPRetrainer(seed=0))
    values = dict(width=8, depth=2, lr=1e-2, steps=100, decay=True, standardise=True, points=12)
    run = wiring.train(values, _Progress())
    assert run.n == 12 and run.steps_done == 100
    np.testing.assert_allclose(run.inputs(split.x_train[:12]), tiny_data.Standardizer.fit(split.x_train[:12])(split.x_train[:12]))
    train = cu.metrics.mse(predict(run.net, run.inputs(split.x_train[:12])), split.y_train[:12])
    test = cu.metrics.mse(predict(run.net, run.inputs(split.x_test)), split.y_test)
    assert wiring.describe(run) == f"train MSE {cu.sig(train, 2)}, held-out MSE {cu.sig(test, 2)} after 100 steps"
    raw = wiring.train(dict(values, standardise=False), _Progress())
    np.testing.assert_array_equal(raw.inputs(split.x_train), split.x_train)
    fig = Figure()
    wiring.draw(fig, run, values)
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == "2 x 8, 12 points"


# --- fast retraining ----------------------------------------------------------

def test_peak_schedule_decays_and_switches_off():
    schedule = PeakSchedule(1e-2, 100, decay=True)
    assert float(schedule(0)) == pytest.approx(1e-2)
    assert float(schedule(50)) == pytest.approx(5e-3, rel=1e-4)
    assert float(schedule(100)) == pytest.approx(0.0, abs=1e-9)
    assert float(schedule(500)) == pytest.approx(0.0, abs=1e-9)
    schedule.set(3e-3, 10, decay=False)
    assert float(schedule(7)) == pytest.approx(3e-3)


def test_retrainer_restarts_from_the_same_fresh_network():
    split = tiny_data.forum_points()
    x = tiny_data.Standardizer.fit(split.x_train)(split.x_train)
    retrainer = MLPRetrainer(seed=0)
    model, first = retrainer.train(x, split.y_train, 16, 2, 1e-2, 200)
    after_first = predict(model, x)
    model_again, second = retrainer.train(x, split.y_train, 16, 2, 1e-2, 200)
    assert model_again is model and retrainer.cached == 1
    np.testing.assert_allclose(second.losses, first.losses, rtol=1e-5)
    np.testing.assert_allclose(predict(model, x), after_first, rtol=1e-5)
    assert first.losses[-1] < first.losses[0]                 # it trained
    _, other_lr = retrainer.train(x, split.y_train, 16, 2, 1e-3, 200)
    assert retrainer.cached == 1                              # a new learning rate reuses the model
    assert not np.allclose(other_lr.losses, first.losses)
    retrainer.train(x[:10], split.y_train[:10], 8, 3, 1e-2, 50)
    assert retrainer.cached == 2
    fresh = mlp(16, 2, seed=0)
    np.testing.assert_allclose(predict(fresh, x), predict(mlp(16, 2, seed=0), x))


def _tracings(model):
    return sum(f.experimental_get_tracing_count() for f in model.__dict__["_course_utils_compiled_steps"].values())


def test_retrainer_starts_from_another_seed_without_compiling_again():
    split = tiny_data.forum_points()
    x = tiny_data.Standardizer.fit(split.x_train)(split.x_train)
    retrainer = MLPRetrainer(seed=0)
    model, own = retrainer.train(x, split.y_train, 16, 2, 1e-2, 100)
    _, seed3 = retrainer.train(x, split.y_train, 16, 2, 1e-2, 100, seed=3)
    _, raw = retrainer.train(split.x_train, split.y_train, 16, 2, 1e-2, 100, decay=False)   # other inputs, same shape
    assert retrainer.cached == 1 and _tracings(model) == 1
    _, reference = MLPRetrainer(seed=3).train(x, split.y_train, 16, 2, 1e-2, 100)
    np.testing.assert_allclose(seed3.losses, reference.losses, rtol=1e-5)   # the fresh network of seed 3
    assert not np.allclose(seed3.losses, own.losses)
    _, own_again = retrainer.train(x, split.y_train, 16, 2, 1e-2, 100)
    np.testing.assert_allclose(own_again.losses, own.losses, rtol=1e-5)    # back to its own seed's start


def test_retrainer_trains_with_mae_and_with_mini_batches_like_train_keras():
    split = tiny_data.forum_points()
    x = tiny_data.Standardizer.fit(split.x_train)(split.x_train)
    retrainer = MLPRetrainer(seed=0)
    model, mae = retrainer.train(x, split.y_train, 16, 2, 1e-2, 50, loss="mae")
    fresh = mlp(16, 2, seed=0)
    assert mae.losses[0] == pytest.approx(np.mean(np.abs(predict(fresh, x) - split.y_train)), rel=1e-5)
    _, batches = retrainer.train(x, split.y_train, 16, 2, 1e-3, 30, decay=False, batch_size=4)
    direct = cu.train_keras(fresh, x, split.y_train, keras.losses.MeanSquaredError(), keras.optimizers.Adam(1e-3),
                            steps=30, batch_size=4, seed=0)
    np.testing.assert_allclose(batches.losses, direct.losses, rtol=1e-5)
    assert retrainer.cached == 1
    with pytest.raises(ValueError, match="loss"):
        retrainer.train(x, split.y_train, 16, 2, 1e-2, 10, loss="huber")


def test_copy_model_keeps_the_weights_when_the_retrainer_moves_on():
    split = tiny_data.forum_points()
    x = tiny_data.Standardizer.fit(split.x_train)(split.x_train)
    retrainer = MLPRetrainer(seed=0)
    model, _ = retrainer.train(x, split.y_train, 16, 2, 1e-2, 100)
    kept = copy_model(model)
    before = predict(model, x)
    np.testing.assert_array_equal(predict(kept, x), before)
    retrainer.train(x, split.y_train, 16, 2, 1e-2, 100, seed=1)
    assert not np.allclose(predict(model, x), before)
    np.testing.assert_array_equal(predict(kept, x), before)


def test_retrainer_reports_divergence_instead_of_raising():
    split = tiny_data.forum_points()
    _, run = MLPRetrainer().train(split.x_train * 1e4, split.y_train, 64, 4, 1.0, 300, decay=False)
    assert run.diverged
    assert "diverged" in run.describe()


def test_fresh_weights_are_those_of_a_freshly_built_mlp():
    for width, depth, seed in ((64, 6, 0), (140, 2, 3), (8, 1, 11)):
        cu.seed(seed)
        built = mlp(width, depth, seed=None).get_weights()
        drawn = fresh_weights(width, depth, seed)
        assert len(drawn) == len(built)
        for a, b in zip(drawn, built):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)


def test_runs_side_by_side_are_the_runs_one_at_a_time():
    split = tiny_data.forum_points()
    x = tiny_data.Standardizer.fit(split.x_train)(split.x_train)
    inputs = {"std": x, "raw": split.x_train}
    runs = [Run(0, 3e-3, 200, True, "mse", "std"), Run(1, 3e-3, 100, True, "mse", "std"),   # a shorter run stops
            Run(2, 1e-3, 200, False, "mae", "raw"), Run(3, 3e-3, 200, False, "mse", "std")]
    together = train_side_by_side(inputs, split.y_train, 16, 3, runs, group=3)          # groups of 3 and 1
    assert len(together) == 4 and together.seeds == [0, 1, 2, 3]
    retrainer = MLPRetrainer()
    for i, run in enumerate(runs):
        model, _ = retrainer.train(inputs[run.inputs], split.y_train, 16, 3, run.lr, run.steps, decay=run.decay,
                                   loss=run.loss, seed=run.seed, sample_every=run.steps)
        alone = predict(model, inputs[run.inputs])
        np.testing.assert_allclose(predict(together.model(i), inputs[run.inputs]), alone, rtol=1e-3, atol=1e-4)
        error = alone - split.y_train
        own = np.mean(np.abs(error)) if run.loss == "mae" else np.mean(error ** 2)
        assert together.losses[i] == pytest.approx(own, rel=1e-3)
    np.testing.assert_allclose(together.predict(x)[1], predict(together.model(1), x), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="inputs"):
        train_side_by_side(inputs, split.y_train, 16, 3, [Run(0, 1e-3, 10, inputs="other")])
    with pytest.raises(ValueError, match="loss"):
        train_side_by_side(inputs, split.y_train, 16, 3, [Run(0, 1e-3, 10, loss="huber", inputs="std")])


def test_train_settings_groups_by_architecture_and_returns_each_setting():
    split = tiny_data.forum_points()
    x = tiny_data.Standardizer.fit(split.x_train)(split.x_train)
    base = dict(width=16, depth=3, lr=3e-3, steps=50, decay=True, loss="mse", inputs="x")
    results = train_settings({"x": x}, split.y_train, {"a": dict(base, seeds=range(2)),
                                                      "b": dict(base, seeds=[5], width=8, depth=2),
                                                      "c": dict(base, seeds=[0], steps=20)})
    assert list(results) == ["a", "b", "c"]
    assert results["a"].seeds == [0, 1] and results["b"].seeds == [5] and results["b"].width == 8
    assert len(results["a"].subset([1])) == 1
    single = train_seeds(x, split.y_train, 16, 3, 3e-3, 50, [1])
    assert results["a"].losses[1] == pytest.approx(single.losses[0], rel=1e-4)
    with pytest.raises(ValueError, match="keys"):
        train_settings({"x": x}, split.y_train, {"a": dict(base)})


# --- the lab check ---------------------------------------------------------------

def small_net():
    return keras.Sequential([keras.Input((1,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])


def solution_net():
    return keras.Sequential([keras.Input((1,))] + [keras.layers.Dense(64, activation="relu") for _ in range(6)]
                            + [keras.layers.Dense(1)])


SCALE = tiny_data.Standardizer.fit(tiny_data.lab_points().x_train)


def solution_optimizer():
    return keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(3e-3, STEP_BUDGET))


def raw(x):
    return x


def adam():
    return keras.optimizers.Adam(1e-3)


def assert_not_yet(result, *words):
    assert isinstance(result, CheckResult)
    assert result.passed is False
    text = " ".join(result.evidence).lower()
    for word in words:
        assert word.lower() in text, f"{word!r} not in {result.evidence}"
    return result


def test_check_passes_the_solution_recipe():
    result = check_memorised(solution_net, SCALE, solution_optimizer, STEP_BUDGET)
    assert result.passed is True, result.evidence
    assert any(f"{STEP_BUDGET} of the step budget" in line for line in result.evidence)
    assert any("held-out" in line for line in result.evidence)


def test_check_fails_the_starting_recipe_with_a_hint_that_names_an_instrument_not_the_fix():
    result = assert_not_yet(check_memorised(small_net, raw, adam, 500), "train MSE", "500 of the step budget")
    assert "kinks" in result.hint and "dead" in result.hint
    for fix in ("standardis", "deeper", "depth", "decay"):
        assert fix not in result.hint.lower()


def test_check_refuses_steps_over_the_budget_without_training():
    result = assert_not_yet(check_memorised(solution_net, SCALE, solution_optimizer, STEP_BUDGET + 1), "over the")
    assert not any("train MSE" in line for line in result.evidence)
    assert "standardis" not in result.hint.lower() and "measure" in result.hint.lower()


@pytest.mark.parametrize("steps", [0, -5, 2500.0, True, "3000", None])
def test_check_refuses_steps_that_are_not_a_positive_int(steps):
    assert_not_yet(check_memorised(solution_net, SCALE, solution_optimizer, steps), "steps")


def test_check_refuses_a_model_that_arrives_fitted():
    data = tiny_data.lab_points()
    fitted = solution_net()
    cu.train_keras(fitted, SCALE(data.x_train), data.y_train, keras.losses.MeanSquaredError(),
                   solution_optimizer(), steps=STEP_BUDGET)
    assert float(np.mean((predict(fitted, SCALE(data.x_train)) - data.y_train) ** 2)) < TARGET_MSE * 10
    assert_not_yet(check_memorised(lambda: fitted, SCALE, solution_optimizer, 10), "fits before any training")


def test_check_refuses_an_optimizer_that_has_taken_steps():
    used = adam()
    cu.train_keras(small_net(), np.zeros((4, 1), np.float32), np.zeros((4, 1), np.float32),
                   keras.losses.MeanSquaredError(), used, steps=3)
    assert_not_yet(check_memorised(small_net, raw, lambda: used, 100), "already taken 3 steps")


def test_check_reports_wrong_shapes():
    assert_not_yet(check_memorised(small_net, lambda x: x.ravel(), adam, 10), "shape")
    assert_not_yet(check_memorised(small_net, lambda x: np.hstack([x, x]), adam, 10), "shape")
    two_outputs = lambda: keras.Sequential([keras.Input((1,)), keras.layers.Dense(2)])  # noqa: E731
    assert_not_yet(check_memorised(two_outputs, raw, adam, 10), "one number per point")
    assert_not_yet(check_memorised(small_net, lambda x: x * np.nan, adam, 10), "not finite")


def test_check_reports_wrong_types_and_exceptions():
    def broken(x):
        raise RuntimeError("oops")

    assert_not_yet(check_memorised(small_net, broken, adam, 10), "RuntimeError", "oops")
    assert_not_yet(check_memorised(lambda: None, raw, adam, 10), "keras.Model")
    assert_not_yet(check_memorised(small_net, raw, lambda: "adam", 10), "keras optimizer")
    assert_not_yet(check_memorised("a model", raw, adam, 10), "not a function")
    assert_not_yet(check_memorised(small_net, lambda x: "text", adam, 10), "not numbers")
    assert_not_yet(check_memorised(lambda: 1 / 0, raw, adam, 10), "ZeroDivisionError")


def test_check_reports_divergence():
    result = assert_not_yet(check_memorised(solution_net, lambda x: x * 1e4, lambda: keras.optimizers.Adam(1.0), 300),
                            "diverged")
    assert "learning rate" in result.hint


def test_check_is_not_fooled_by_an_optimizer_that_counts_differently():
    class DoubleStep(keras.optimizers.Adam):
        def apply_gradients(self, grads_and_vars):
            pairs = list(grads_and_vars)
            super().apply_gradients(pairs)
            return super().apply_gradients(pairs)

    assert_not_yet(check_memorised(small_net, raw, lambda: DoubleStep(1e-3), 20), "took 40 steps")


def test_check_module_constants_are_the_ones_the_lab_states():
    assert check_module.TARGET_MSE == 1e-4 and check_module.STEP_BUDGET == 3000
    lab_text = "".join(c.source for c in read(LAB).cells if c.cell_type == "markdown")
    assert "1e-4" in lab_text and "3,000" in lab_text


# --- answers a student might give ---------------------------------------------------------------
# Each row: a recipe (build_model, prepare_x, make_optimizer, steps), whether it must pass, and words that must be in
# the evidence + hint. Refusals of prepare_x come before any training (cheap); the rest train with the check's own loop.

DATA = tiny_data.lab_points()
TARGET_OF = {float(x): float(y) for x, y in zip(DATA.x_train.ravel(), DATA.y_train.ravel())}


def one_weight():
    return keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])


def relu_net(width, depth, **dense_options):
    return lambda: keras.Sequential([keras.Input((1,))]
                                    + [keras.layers.Dense(width, activation="relu", **dense_options) for _ in range(depth)]
                                    + [keras.layers.Dense(1)])


def normalised_inside(width, depth):     # raw inputs, standardised by a Normalization layer inside the model
    return lambda: keras.Sequential([keras.Input((1,)),
                                     keras.layers.Normalization(mean=SCALE.mean, variance=SCALE.std ** 2)]
                                    + [keras.layers.Dense(width, activation="relu") for _ in range(depth)]
                                    + [keras.layers.Dense(1)])


def decaying_adam(peak):
    return lambda: keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(peak, STEP_BUDGET))


def targets_by_value(x):                 # the targets themselves, looked up by each exact input
    return np.array([[TARGET_OF[float(v)]] for v in x.ravel()], dtype=np.float32)


def targets_by_value_else_x(x):          # the same, with the input itself for any input not in the table
    return np.array([[TARGET_OF.get(float(v), float(v))] for v in x.ravel()], dtype=np.float32)


def nearest_target(x):                   # the target of the nearest training input: a function of x, but a lookup
    return DATA.y_train[np.abs(x - DATA.x_train.T).argmin(axis=1)]


def interpolated_targets(x):             # a continuous curve through the training targets
    return np.interp(x.ravel(), DATA.x_train.ravel(), DATA.y_train.ravel()).astype(np.float32).reshape(-1, 1)


def targets_by_position(x):              # the targets in row order whenever the whole training set comes in
    return DATA.y_train.copy() if len(x) == len(DATA.y_train) else SCALE(x)


def batch_statistics(x):                 # standardised with the statistics of whatever batch comes in
    with np.errstate(invalid="ignore"):
        return (x - x.mean()) / x.std()


def first_half(x):                       # drops the rows it finds hard
    return SCALE(x)[: len(x) // 2]


def never_returns(x):
    while True:
        pass


def slow_to_build():
    while True:
        pass


class WaitsWhileTraining(keras.layers.Layer):   # a layer that never comes back from a training step
    def call(self, inputs, training=None):
        if training:
            time.sleep(3600)
        return inputs


def waits_while_training():
    return keras.Sequential([keras.Input((1,)), WaitsWhileTraining(), keras.layers.Dense(32, activation="relu"),
                             keras.layers.Dense(1)])


def min_max(x):                          # scaled to [0, 1] with the training range: 0 sits at the inputs' edge
    low, high = float(DATA.x_train.min()), float(DATA.x_train.max())
    return (x - low) / (high - low)


def log_scaled(x):                       # valid: a monotone curve, centred on the training inputs' log
    logs = np.log(DATA.x_train.astype(np.float64))
    return ((np.log(x.astype(np.float64)) - logs.mean()) / logs.std()).astype(np.float32)


def reversed_and_halved(x):              # valid: a decreasing preparation (mean and spread of the training inputs)
    return -SCALE(x) / 2


ANSWERS = [
    # name, kind, recipe, passes, words in the evidence + hint
    ("targets looked up by value", "cheat: smuggled targets",
     (one_weight, targets_by_value, lambda: keras.optimizers.Adam(1e-2), STEP_BUDGET), False,
     ["prepare_x(x_test) raised KeyError", "not the targets"]),
    ("targets by value, x elsewhere", "cheat: smuggled targets",
     (one_weight, targets_by_value_else_x, lambda: keras.optimizers.Adam(1e-2), STEP_BUDGET), False,
     ["goes up and down", "not the targets"]),
    ("nearest training target", "cheat: smuggled targets",
     (one_weight, nearest_target, lambda: keras.optimizers.Adam(1e-2), STEP_BUDGET), False,
     ["goes up and down", "re-orders the inputs"]),
    ("targets interpolated", "cheat: smuggled targets",
     (one_weight, interpolated_targets, lambda: keras.optimizers.Adam(1e-2), STEP_BUDGET), False,
     ["goes up and down", "one increasing (or decreasing) curve"]),
    ("targets by row position", "cheat: smuggled targets",
     (one_weight, targets_by_position, lambda: keras.optimizers.Adam(1e-2), STEP_BUDGET), False,
     ["row 0 of x_train another value alone", "whatever batch it comes in"]),
    ("the batch's own statistics", "wrong answer",
     (solution_net, batch_statistics, solution_optimizer, STEP_BUDGET), False,
     ["one row alone", "not finite", "fixed once, from the training inputs"]),
    ("rows dropped", "wrong shape",
     (solution_net, first_half, solution_optimizer, STEP_BUDGET), False, ["must return shape (16, 1), got (8, 1)"]),
    ("prepare_x never returns", "hang",
     (solution_net, never_returns, solution_optimizer, STEP_BUDGET), False,
     ["prepare_x", "ran for more than 1 s", "never came back"]),
    ("build_model never returns", "hang",
     (slow_to_build, SCALE, solution_optimizer, STEP_BUDGET), False,
     ["build_model() ran for more than 1 s", "never came back"]),
    ("a layer that waits while training", "hang",
     (waits_while_training, SCALE, solution_optimizer, STEP_BUDGET), False,
     ["training your model", "ran for more than 1 s", "never came back"]),
    ("already standardised, small net, few steps", "partial fix",
     (small_net, SCALE, adam, 500), False,
     ["still falling", "you used 500 of the 3000 steps", "mean 0, spread 1: 0 lies among them"]),
    ("min-max scaled to [0, 1]", "partial fix",
     (small_net, min_max, adam, 500), False, ["0 lies at or near their edge", "mean 0.489", "kinks"]),
    ("standardised, first layer biased dead", "partial fix",
     (relu_net(32, 5, bias_initializer=keras.initializers.Constant(-4.0)), SCALE, solution_optimizer, STEP_BUDGET),
     False, ["centred and scaled", "are dead on all of them", "initialised"]),
    ("standardised, learning rate 0.05", "partial fix",   # 103-114 of 160 units die over seeds 0-3
     (relu_net(32, 5), SCALE, lambda: keras.optimizers.Adam(0.05), 300), False,
     ["0 lies among them", "ReLU units are dead on every training input", "died during training"]),
    ("standardised, plain SGD at 1e-3", "partial fix",
     (solution_net, SCALE, lambda: keras.optimizers.SGD(1e-3), STEP_BUDGET), False,
     ["0 lies among them", "far more than the 3000-step budget", "Is each step too small"]),
    ("raw inputs, Normalization inside a small net", "partial fix",
     (normalised_inside(8, 1), raw, adam, 500), False,
     ["as the first Dense layer receives them", "mean 0, spread 1: 0 lies among them", "still falling"]),
    ("raw inputs, Normalization layer inside the model", "valid alternative",
     (normalised_inside(32, 5), raw, decaying_adam(1e-2), STEP_BUDGET), True, ["train MSE < 1e-04"]),
    ("log-scaled inputs, solution's net", "valid alternative",
     (solution_net, log_scaled, solution_optimizer, STEP_BUDGET), True, ["train MSE < 1e-04"]),
    ("decreasing preparation, wider net, faster decay", "valid alternative",
     (relu_net(64, 4), reversed_and_halved, decaying_adam(1e-2), STEP_BUDGET), True, ["train MSE < 1e-04"]),
]


@pytest.mark.parametrize("name, kind, recipe, passes, words", ANSWERS, ids=[a[0] for a in ANSWERS])
def test_answers_a_student_might_give(name, kind, recipe, passes, words):
    result = check_memorised(*recipe, **({"time_limit_s": 1} if kind == "hang" else {}))
    text = " ".join(result.evidence) + " hint: " + result.hint
    assert result.passed is passes, text
    for word in words:
        assert word in text, f"{word!r} not in: {text}"
    if not passes:
        hint = result.hint
        for public in ("prepare_x", "build_model", "make_optimizer"):  # the student's own names
            hint = hint.replace(public, "")
        assert "_" not in hint, "a hint names no internal function of the check"


def test_a_hint_never_tells_a_student_who_centred_the_inputs_to_move_them():
    for recipe in [(small_net, SCALE, adam, 500), (relu_net(8, 2), SCALE, adam, 1500)]:
        result = check_memorised(*recipe)
        assert not result.passed
        assert "where your inputs sit" not in result.hint and "standardis" not in result.hint.lower()
