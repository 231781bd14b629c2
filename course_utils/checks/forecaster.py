"""Check for lab 05: repair a forecaster that cannot memorise its one series.

The student hands over a *recipe*, not a trained model:

    check_forecaster(build_model)

``build_model()`` returns a fresh, untrained Keras model that maps the lab's
series, shape (1, 48, 2), to a forecast of shape (1, 6). The check builds
it with every generator seeded, then

0. reads the built model's layers in order and refuses a model that drops
   the task's "idea of the model": two convolutions over time (Conv1D,
   kernel longer than 1) before the dense layers, at least two
   BatchNormalization layers that each have more than one value per feature
   to normalise for one example (those of the convolutions: they are valid),
   a non-linearity after the convolutions and one between the dense layers,
   and a last Dense(6) with nothing non-linear after it. So a purely linear
   model, or one with every normalisation removed, is not a fix here;
1. counts the trainable variables whose gradient is exactly zero at the
   start (training mode, on the series);
2. trains it itself with ``course_utils.train_keras`` (Adam, learning rate
   1e-3, STEPS full-batch steps, mean squared error), so the optimizer, the
   steps and the data are the check's, not the student's;
3. measures the MSE on the series in training mode and in inference mode.

It passes when no variable has a zero gradient and both errors are below
TARGET_MSE. A model that arrives already fitted (weights or biases brought
in from outside) is refused. Every call into the student's code runs under a
time limit. The check never raises on a bad answer.
"""
from __future__ import annotations

import numpy as np

from ..fmt import below, sig
from ..frameworks import keras_layers
from ..lessons.batchnorm_batch_of_one import mode_errors, zero_gradients
from ..labs import STUDENT_TIME_LIMIT_S, RanTooLong, call_student, report, time_limit
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


def check_forecaster(build_model, seed: int = 0, steps: int = STEPS, time_limit_s: float = STUDENT_TIME_LIMIT_S):
    """Build, train and judge the student's forecaster; see the module's docstring.

    Building the model, and everything that runs it (gradients, training, the errors), is stopped after
    ``time_limit_s`` seconds each.
    """
    try:
        return _check(build_model, seed, steps, time_limit_s)
    except RanTooLong as error:  # the student's model, inside the check's own calls
        return _not_yet([str(error)], "Time one call of your model on the series: something in it never finishes.")
    except Exception as error:  # a last guard: a check must not raise
        return _not_yet([f"the check could not run your model: {type(error).__name__}: {error}"],
                        "Run the cells above again from the top, then this one.")


# --- the model's idea, read from the built model's layers ------------------------------------------

def _activation(layer) -> str:
    """The non-linearity a layer applies, or "" for none (a layer without one, or a linear activation)."""
    if type(layer).__name__ in ("ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax"):
        return type(layer).__name__
    name = getattr(getattr(layer, "activation", None), "__name__", "linear")
    return "" if name == "linear" else name


def _values_per_feature(layer) -> int:
    """How many values a BatchNormalization layer normalises each feature over, for one example."""
    shape = tuple(layer.input.shape)[1:]
    axes = {a % (len(shape) + 1) for a in np.atleast_1d(layer.axis)}
    return int(np.prod([n for i, n in enumerate(shape, start=1) if i not in axes], dtype=np.int64))


def _idea(model):
    """(what the model has, what it lacks): the task's "idea of the model", measured on its layers in order.

    The shipped model: Conv1D -> BatchNormalization -> ReLU twice (48 values per feature for each normalisation),
    then Dense -> (normalisation) -> ReLU -> Dense(6). A fix keeps the convolutions over time with their
    BatchNormalization, a non-linearity in both parts, and a linear Dense(6) forecast.
    """
    import keras

    layers = list(keras_layers(model))
    dense = [i for i, layer in enumerate(layers) if isinstance(layer, keras.layers.Dense)]
    first_dense = dense[0] if dense else len(layers)
    convs = [layer for layer in layers[:first_dense]
             if "Conv1D" in type(layer).__name__ and max(getattr(layer, "kernel_size", (1,))) > 1]
    norms = [_values_per_feature(layer) for layer in layers if isinstance(layer, keras.layers.BatchNormalization)]
    valid_norms = [n for n in norms if n > 1]
    conv_nonlinear = any(_activation(layer) for layer in layers[:first_dense])
    head_nonlinear = len(dense) > 1 and any(_activation(layer) for layer in layers[dense[0] : dense[-1]])
    output = layers[dense[-1]] if dense else None
    after_output = [_activation(layer) for layer in layers[dense[-1] + 1 :]] if dense else []

    per_feature = f" ({', '.join(str(n) for n in valid_norms)})" if valid_norms else ""
    in_convs = "after the convolutions" if conv_nonlinear else "nowhere among the convolutions"
    in_head = "between the dense layers" if head_nonlinear else "none between the dense layers"
    has = (f"{len(convs)} convolutions over time, {len(valid_norms)} BatchNormalization layers with more than one "
           f"value per feature{per_feature}, non-linearities {in_convs} and {in_head}, {len(dense)} Dense layers")
    lacks = []
    if len(convs) < 2:
        lacks.append(f"two convolutions over time before the dense layers (Conv1D with a kernel longer than 1; "
                     f"it has {len(convs)})")
    if len(valid_norms) < 2:
        lacks.append(f"the BatchNormalization of the convolutions, valid there since each feature has many values to "
                     f"normalise (it has {len(valid_norms)} such layers)")
    if not conv_nonlinear:
        lacks.append("a non-linearity after the convolutions")
    if len(dense) < 2:
        lacks.append(f"dense layers: a hidden Dense layer, then the Dense({HORIZON}) forecast (it has {len(dense)})")
    elif not head_nonlinear:
        lacks.append("a non-linearity between the dense layers")
    if output is not None and (_activation(output) or any(after_output)):
        squash = _activation(output) or next(a for a in after_output if a)
        lacks.append(f"a linear forecast: the last Dense layer goes through {squash}")
    return has, lacks


def _check(build_model, seed, steps, limit_s):
    from ..training import keras_loop  # noqa: F401  (imports TensorFlow quietly on first use, before keras)
    import keras

    if not callable(build_model):
        return _not_yet([f"expected a function that builds the model, got {type(build_model).__name__}"],
                        "Pass build_model itself (no parentheses).")
    x, y = lab_series()
    seed_everything(seed)
    model, error = call_student("build_model()", build_model, limit_s=limit_s)
    if error:
        return _not_yet([error], "Fix build_model, then run its cell and this one again.")
    if not isinstance(model, keras.Model):
        return _not_yet([f"build_model() must return a keras.Model, got {type(model).__name__}"],
                        "End build_model with `return keras.Model(inputs, outputs)`.")
    with time_limit(limit_s, "your model, on the series"):
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
    with time_limit(limit_s, "your model, on the series"):
        start = mode_errors(model, x, y)
    if not min(start.training, start.inference) >= FRESH_FRACTION * zero_output:  # also catches NaN
        return _not_yet([f"the model fits before any training (MSE {sig(min(start.training, start.inference))}; "
                         f"forecasting 0 everywhere scores {sig(zero_output)})"],
                        "build_model() must return an untrained model: the check trains it.")
    try:
        has, lacks = _idea(model)
    except Exception as error:  # e.g. a subclassed model, whose layers have no inputs to read
        return _not_yet([f"the check could not read your model's layers in order ({type(error).__name__}: {error})"],
                        "Build the model with keras.Model(inputs, outputs), as the shipped one is.")
    if lacks:
        return _not_yet([f"the model has {has}",
                         "the task keeps the model's idea, and this one lacks " + "; ".join(lacks)],
                        "Start again from the shipped model and change only the part that cannot work for one example: "
                        "the layer the gradient stops at (the zero-gradient count and layer_outputs above).")
    with time_limit(limit_s, f"training your model for {steps} steps and measuring it"):
        return _train_and_judge(model, x, y, steps, has, zero_output)


def _train_and_judge(model, x, y, steps, has, zero_output):
    """Count the zero gradients, train with the check's optimizer and steps, and judge both modes."""
    from ..training import keras_loop
    import keras

    zeros = zero_gradients(model, x, y, keras.losses.MeanSquaredError())
    evidence = [f"the model keeps its idea: {has}, a linear Dense({HORIZON}) forecast"]
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
                "print what each layer outputs in training mode (layer_outputs, imported at the top of the lab) and ask "
                "how many values each normalisation layer normalises over, for this one example.")
    elif not train_ok:
        hint = ("Every variable gets a gradient and the model keeps its idea, yet the training-mode error is still "
                "high after the check's own optimizer and steps: so the model holds it back. Compare it with the shipped "
                "one layer by layer: what did you add or freeze that scales the signal or the updates down?")
    else:
        hint = ("Training mode fits but inference mode does not, and inference mode is where a normalisation "
                "layer uses its moving averages instead of the batch's statistics. Compare each one's moving_mean "
                "and moving_variance with the mean and variance of what it receives (layer_outputs): how far have "
                "they come in this many steps, at this momentum?")
    return report(CHECK_NAME, False, evidence, hint)
