"""Check for lab 05: repair a forecaster that cannot memorise its one series.

The student hands over a *recipe*, not a trained model:

    check_forecaster(build_model)

``build_model()`` returns a fresh, untrained Keras model that maps the lab's
series, shape (1, 48, 2), to a forecast of shape (1, 6). The check builds
it with every generator seeded, then

1. counts the trainable variables whose gradient is exactly zero at the
   start (training mode, on the series);
2. trains it itself with ``course_utils.train_keras`` (Adam, learning rate
   1e-3, STEPS full-batch steps, mean squared error), so the optimizer, the
   steps and the data are the check's, not the student's;
3. measures the MSE on the series in training mode and in inference mode.

It passes when no variable has a zero gradient and both errors are below
TARGET_MSE. A model that arrives already fitted (weights or biases brought
in from outside) is refused. The check never raises on a bad answer.
"""
from __future__ import annotations

import numpy as np

from ..fmt import below, sig
from ..gradients import mode_errors, zero_gradients
from ..labs import report
from ..repro import seed as seed_everything

CHECK_NAME = "forecaster memorises its series in both modes"
LENGTH, CHANNELS, HORIZON = 48, 2, 6
STEPS = 600
LEARNING_RATE = 1e-3
TARGET_MSE = 1e-3
# Before training, the model's error must be at least this fraction of the
# error of forecasting 0 everywhere: anything lower was not trained here.
FRESH_FRACTION = 0.25
SHOWN_NAMES = 4


def lab_series():
    """The lab's data: one recording of 54 steps of 2 sensors, as one example.

    Returns (x, y): the first 48 steps, shape (1, 48, 2), and the next 6
    values of sensor 0, shape (1, 6); float32.
    """
    t = np.arange(LENGTH + HORIZON, dtype=np.float64)
    noise = 0.1 * np.random.default_rng(5).standard_normal((len(t), CHANNELS))
    series = np.stack([np.sin(2 * np.pi * t / 17) + 0.3 * np.sin(2 * np.pi * t / 5.3),
                       np.cos(2 * np.pi * t / 11)], axis=-1) + noise
    x = series[None, :LENGTH].astype(np.float32)
    y = series[None, LENGTH:, 0].astype(np.float32)
    return x, y


def _not_yet(evidence, hint):
    return report(CHECK_NAME, False, evidence, hint)


def _names(names) -> str:
    names = list(names)
    shown = ", ".join(names[:SHOWN_NAMES])
    return shown + (f" and {len(names) - SHOWN_NAMES} more" if len(names) > SHOWN_NAMES else "")


def check_forecaster(build_model, seed: int = 0, steps: int = STEPS):
    """Build, train and judge the student's forecaster; see the module's docstring."""
    try:
        return _check(build_model, seed, steps)
    except Exception as error:  # a last guard: a check must not raise
        return _not_yet([f"the check could not run your model: {type(error).__name__}: {error}"],
                        "Run the cells above again from the top, then this one.")


def _check(build_model, seed, steps):
    from .. import keras_loop  # imports TensorFlow (quietly) on first use
    import keras

    if not callable(build_model):
        return _not_yet([f"expected a function that builds the model, got {type(build_model).__name__}"],
                        "Pass build_model itself (no parentheses).")
    x, y = lab_series()
    seed_everything(seed)
    try:
        model = build_model()
    except Exception as error:  # the student's code
        return _not_yet([f"build_model() raised {type(error).__name__}: {error}"],
                        "Fix the error in build_model, then run its cell and this one again.")
    if not isinstance(model, keras.Model):
        return _not_yet([f"build_model() must return a keras.Model, got {type(model).__name__}"],
                        "End build_model with `return keras.Model(inputs, outputs)`.")
    try:
        out = np.asarray(model(x, training=False))
    except Exception as error:
        return _not_yet([f"the model failed on the series: {type(error).__name__}: {error}"],
                        f"The model must take inputs of shape (batch, {LENGTH}, {CHANNELS}).")
    if out.shape != y.shape:
        return _not_yet([f"the model must forecast shape {y.shape}; it gave {out.shape}"],
                        f"Keep the last layer: Dense({HORIZON}) on a flat vector.")
    if not model.trainable_variables:
        return _not_yet(["the model has no trainable variables"], "Build a network the optimizer can train.")
    zero_output = float(np.mean(y.astype(np.float64) ** 2))
    start = mode_errors(model, x, y)
    if not min(start.training, start.inference) >= FRESH_FRACTION * zero_output:  # also catches NaN
        return _not_yet([f"the model fits before any training (MSE {sig(min(start.training, start.inference))}; "
                         f"forecasting 0 everywhere scores {sig(zero_output)})"],
                        "build_model() must return an untrained model: the check trains it.")

    zeros = zero_gradients(model, x, y, keras.losses.MeanSquaredError())
    evidence = []
    if zeros.n_zero:
        evidence.append(f"zero-gradient variables at the start: {zeros.count} ({_names(zeros.zero)})")
    else:
        evidence.append(f"zero-gradient variables at the start: {zeros.count}")

    optimizer = keras.optimizers.Adam(learning_rate=LEARNING_RATE)
    run = keras_loop.train_keras(model, x, y, keras.losses.MeanSquaredError(), optimizer, steps=steps,
                                 sample_every=steps)
    if run.diverged:
        return _not_yet(evidence + [f"training diverged at step {run.diverged_at}"],
                        "Something in the model makes the loss explode: undo your last change.")
    errors = mode_errors(model, x, y)
    train_ok = bool(np.isfinite(errors.training) and errors.training < TARGET_MSE)
    infer_ok = bool(np.isfinite(errors.inference) and errors.inference < TARGET_MSE)
    shown = lambda value, ok: below(value, TARGET_MSE) if ok else sig(value)  # noqa: E731
    evidence.append(f"after {steps} steps of Adam({LEARNING_RATE:g}): training-mode MSE "
                    f"{shown(errors.training, train_ok)}, inference-mode MSE {shown(errors.inference, infer_ok)} "
                    f"(target < {sig(TARGET_MSE, 1)} in both; forecasting 0 scores {sig(zero_output)})")
    passed = zeros.n_zero == 0 and train_ok and infer_ok
    if passed:
        return report(CHECK_NAME, True, evidence)
    if zeros.n_zero:
        alive = [n for n in zeros.names if n not in zeros.zero]
        evidence.append(f"the only variables that get a gradient: {_names(alive) or 'none'}")
        hint = ("The gradient stops somewhere between the output and those variables. Walk back from the output: "
                "print what each layer outputs in training mode (course_utils.gradients.layer_outputs) and ask "
                "how many values each normalisation layer normalises over, for this one example.")
    elif not train_ok:
        hint = ("Every variable gets a gradient, but training-mode error is still high: "
                "did you remove a layer the forecast needs, or add an activation on the output?")
    else:
        hint = ("Training mode fits but inference mode does not, and inference mode is where a normalisation "
                "layer uses its moving averages instead of the batch's statistics. Compare each one's moving_mean "
                "and moving_variance with the mean and variance of what it receives (layer_outputs): how far have "
                "they come in this many steps, at this momentum?")
    return report(CHECK_NAME, False, evidence, hint)
