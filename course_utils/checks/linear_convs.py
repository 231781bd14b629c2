"""Check for lab 02 ("Linear convs"): a model that is silently linear somewhere,
fed inputs that are badly scaled. The student fixes both.

The student hands over two functions:

    check_both_fixed(build_model, prepare_x)

- ``build_model()`` returns a fresh, untrained Keras model for inputs of
  shape (32, 3) with one sigmoid output;
- ``prepare_x(x)`` turns raw readings of shape (n, 32, 3) into the model's
  inputs (same shape).

The check reports the two problems separately, each with its evidence:

1. *silent linearity*: ``course_utils.linearity.linear_pairs`` on the built
   model: every place where two layers with weights meet with nothing
   non-linear between them (and any layer it cannot classify);
2. *input scale*: ``series_windows.scale_report`` on the prepared training
   AND validation inputs (statistics must come from the training set and be
   applied to both).

Then it trains the model itself (Adam, binary cross-entropy, a fixed budget)
on the prepared inputs and reads the loss at initialisation and the
validation accuracy, so a model that only looks right but cannot learn the
pattern does not pass either. It never raises on a student's answer.
"""
from __future__ import annotations

import math

import numpy as np

from ..fmt import sig
from ..labs import call_student, report, student_inputs
from ..linearity import linear_pairs
from ..repro import seed as seed_everything
from ..series_windows import lab_readings, scale_report

CHECK = "silent linearity and input scale"
STEPS = 300
BATCH = 32
LEARNING_RATE = 3e-3
TARGET_ACCURACY = 0.75
INPUT_SHAPE = (32, 3)



def _accuracy_text(value: float) -> str:
    """Coarse, so that the printed evidence survives another thread count."""
    if value >= 0.8:
        return "above 80%"
    if value >= TARGET_ACCURACY:
        return f"between {TARGET_ACCURACY:.0%} and 80%"
    return f"{100 * value:.0f}%"


def check_both_fixed(build_model, prepare_x, data=None, steps: int = STEPS, seed: int = 0):
    """Report which of the two problems remain, with evidence; passes when both are gone and it learns."""
    try:
        return _check(build_model, prepare_x, data, steps, seed)
    except Exception as error:  # a last guard: a check must not raise
        return report(CHECK, False, [f"the check could not run your answer: {type(error).__name__}: {error}"],
                      "Run the cells above again from the top, then this one.")


def _check(build_model, prepare_x, data, steps, seed):
    from .. import keras_loop  # imports TensorFlow quietly on first use
    import keras

    data = lab_readings() if data is None else data
    evidence, problems, hints = [], [], []

    # 1. the model, and where it is silently linear
    seed_everything(seed)
    model, error = call_student("build_model()", build_model)
    if error:
        return report(CHECK, False, [error], "build_model() must return a new keras model.")
    if not isinstance(model, keras.Model):
        return report(CHECK, False, [f"build_model() must return a keras.Model, got {type(model).__name__}"],
                      "Return the model, e.g. keras.Sequential([...]).")
    try:
        found = linear_pairs(model)
    except Exception as error:
        return report(CHECK, False, [f"could not read the model's layers: {type(error).__name__}: {error}"],
                      "Build a keras.Sequential model.")
    if found.pairs:
        problems.append("linear")
        evidence.append(f"silently linear: {len(found.pairs)} place(s) where two layers with weights compose "
                        "into one linear map: " + "; ".join(str(pair) for pair in found.pairs))
        hints.append("give every layer with weights that feeds another an activation (e.g. activation=\"relu\")")
    else:
        evidence.append(f"no silent linearity: a non-linearity follows each of the {len(found.maps)} layers "
                        "with weights that feeds another")
    if found.unknown:
        problems.append("unknown")
        evidence.append(f"layers the check cannot classify: {', '.join(found.unknown)}")
        hints.append("use standard Keras layers (Activation, ReLU, or an activation= argument), not Lambda layers")

    # 2. the inputs' scale, on both sets
    x_train, error = student_inputs(prepare_x, data.x_train, "x_train")
    if error:
        return report(CHECK, False, evidence + [error], "prepare_x takes an (n, 32, 3) array and returns one.")
    x_val, error = student_inputs(prepare_x, data.x_val, "x_val")
    if error:
        return report(CHECK, False, evidence + [error], "prepare_x must work on any readings.")
    train_scale, val_scale = scale_report(x_train), scale_report(x_val)
    if not train_scale.healthy:
        problems.append("scale")
        evidence.append(f"badly scaled training inputs: mean {sig(train_scale.mean)}, spread {sig(train_scale.std)} "
                        f"(mean / spread {sig(train_scale.offset_to_spread)})")
        hints.append("standardise per sensor with the training set's mean and standard deviation")
    elif not val_scale.healthy:
        problems.append("scale")
        evidence.append(f"training inputs are well scaled but validation inputs are not (mean {sig(val_scale.mean)}, "
                        f"spread {sig(val_scale.std)})")
        hints.append("apply the training set's statistics to every set, inside prepare_x")
    else:
        evidence.append("inputs well scaled: mean within one spread of 0, spread between 0.1 and 10")

    # 3. train it here and read what happens
    try:
        before = np.asarray(model(x_train[:BATCH], training=False))
    except Exception as error:
        return report(CHECK, False, evidence + [f"the model failed on inputs of shape {x_train.shape[1:]}: "
                                                f"{type(error).__name__}: {error}"],
                      "The model must take inputs of shape (32, 3).")
    if before.shape != (BATCH, 1):
        return report(CHECK, False, evidence + [f"the model must give one probability per sequence, shape (n, 1); "
                                                f"it gave {before.shape}"], "End with Dense(1, activation=\"sigmoid\").")
    if not model.trainable_variables:
        return report(CHECK, False, evidence + ["the model has no trainable weights"], "Build a trainable network.")
    loss = keras.losses.binary_crossentropy
    y_train = data.y_train.astype("float32")[:, None]
    initial = float(np.mean(np.asarray(loss(y_train, model(x_train, training=False)))))
    try:
        run = keras_loop.train_keras(model, x_train, y_train, loss, keras.optimizers.Adam(LEARNING_RATE),
                                     steps=steps, batch_size=BATCH, sample_every=steps, seed=seed)
    except Exception as error:
        return report(CHECK, False, evidence + [f"training failed: {type(error).__name__}: {error}"],
                      "Check that the model takes (n, 32, 3) inputs and ends in Dense(1, sigmoid).")
    chance = math.log(2)
    start = f"loss at initialisation {sig(initial)} vs chance {sig(chance)}"
    if run.diverged:
        evidence.append(f"{start}; training diverged at step {run.diverged_at}")
        accuracy = 0.5
    else:
        probabilities = np.asarray(model(x_val, training=False)).reshape(-1)
        accuracy = float(((probabilities > 0.5).astype(np.int64) == data.y_val).mean()) \
            if np.all(np.isfinite(probabilities)) else 0.5
        evidence.append(f"{start}; after {steps} Adam steps validation accuracy {_accuracy_text(accuracy)} "
                        f"(target {TARGET_ACCURACY:.0%})")
    if accuracy < TARGET_ACCURACY:
        problems.append("learning")
        if not hints:
            hints.append("the model does not learn the pattern yet: it needs non-linearities before the pooling")

    passed = not problems
    hint = "Still to do: " + "; ".join(hints) + "." if hints else ""
    return report(CHECK, passed, evidence, hint)
