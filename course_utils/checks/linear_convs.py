"""Check for lab 02 ("Linear convs"): a model that is silently linear somewhere,
fed inputs that are badly scaled. The student fixes both.

The student hands over two functions:

    check_sensor_model(build_model, prepare_x)     (check_both_fixed is the old name)

- ``build_model()`` returns a fresh, untrained Keras model for inputs of
  shape (32, 3) with one sigmoid output;
- ``prepare_x(x)`` turns raw readings of shape (n, 32, 3) into the model's
  inputs (same shape).

The check judges what stops the model learning, by measurement, the way
lesson 02 does:

1. *silent linearity*: ``course_utils.linearity.linear_pairs`` on the built
   model lists every place where two layers with weights meet with nothing
   non-linear between them (and any layer it cannot classify). A linear pair
   is reported, not failed by itself: lesson 02 shows that a linear pair
   inside a model that is non-linear elsewhere does not stop it fitting;
2. *input scale*: ``series_windows.scale_report`` on the prepared training
   AND validation inputs (statistics must come from the training set and be
   applied to both); badly scaled inputs fail;
3. *learning*: it trains the model itself (Adam, binary cross-entropy, a
   fixed budget) on the prepared inputs and reads the loss at
   initialisation and the validation accuracy. Below the target, and with
   linear pairs in a model whose inputs are well scaled, it trains the same
   model once more with a ReLU after the first layer of every pair and
   reports what that changes, so the student sees whether the linear pairs
   are what holds the model back.

It never raises on a student's answer.
"""
from __future__ import annotations

import math

import numpy as np

from ..fmt import sig
from ..labs import call_student, report, student_inputs
from ..linearity import _label, keras_layers, linear_pairs
from ..repro import seed as seed_everything
from ..series_windows import lab_readings, scale_report

CHECK = "the sensor model learns"
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


def check_sensor_model(build_model, prepare_x, data=None, steps: int = STEPS, seed: int = 0):
    """Report what stops the model learning, with evidence; passes when the inputs are well scaled and it learns."""
    try:
        return _check(build_model, prepare_x, data, steps, seed)
    except Exception as error:  # a last guard: a check must not raise
        return report(CHECK, False, [f"the check could not run your answer: {type(error).__name__}: {error}"],
                      "Run the cells above again from the top, then this one.")


check_both_fixed = check_sensor_model  # the name the first version of the lab used


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
        evidence.append(f"linear pairs (reported; they fail only if the model does not learn): {len(found.pairs)} "
                        "place(s) where two layers with weights compose into one linear map: "
                        + "; ".join(str(pair) for pair in found.pairs))
    else:
        evidence.append(f"no silent linearity: a non-linearity follows each of the {len(found.maps)} layers "
                        "with weights that feeds another")
    if found.unknown:
        evidence.append(f"layers the check cannot classify (reported, not failed): {', '.join(found.unknown)}")

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
        hints.append("read sw.scale_report(prepare_x(data.x_train)): what does the first layer see when the inputs' "
                     "mean is thousands of times their spread? (lesson 02, section 5)")
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
    y_train = data.y_train.astype("float32")[:, None]
    initial, accuracy, outcome = _train_and_read(model, x_train, y_train, x_val, data.y_val, steps, seed)
    if isinstance(outcome, str) and outcome.startswith("training failed"):
        return report(CHECK, False, evidence + [outcome],
                      "Check that the model takes (n, 32, 3) inputs and ends in Dense(1, sigmoid).")
    evidence.append(f"loss at initialisation {sig(initial)} vs chance {sig(math.log(2))}; {outcome}")
    if accuracy < TARGET_ACCURACY:
        problems.append("learning")
        if found.pairs and "scale" not in problems:
            evidence.append(_with_relu_after_pairs(model, found, x_train, y_train, x_val, data.y_val, steps, seed))
            hints.append("read what linear_pairs lists and the measurement above; then ask what "
                         "GlobalAveragePooling1D keeps of a linear conv's output (the lab's last section)")
        elif not hints:
            hints.append("the model does not learn the pattern yet: read the loss at initialisation and the "
                         "short run in the readings above")

    passed = not problems
    hint = "Still to do: " + "; ".join(hints) + "." if hints else ""
    return report(CHECK, passed, evidence, hint)


def _train_and_read(model, x_train, y_train, x_val, y_val, steps, seed):
    """(loss at initialisation, validation accuracy, what happened as text) after the check's training run."""
    from .. import keras_loop
    import keras

    loss = keras.losses.binary_crossentropy
    initial = float(np.mean(np.asarray(loss(y_train, model(x_train, training=False)))))
    try:
        run = keras_loop.train_keras(model, x_train, y_train, loss, keras.optimizers.Adam(LEARNING_RATE),
                                     steps=steps, batch_size=BATCH, sample_every=steps, seed=seed)
    except Exception as error:
        return initial, 0.5, f"training failed: {type(error).__name__}: {error}"
    if run.diverged:
        return initial, 0.5, f"training diverged at step {run.diverged_at}"
    probabilities = np.asarray(model(x_val, training=False)).reshape(-1)
    accuracy = float(((probabilities > 0.5).astype(np.int64) == y_val).mean()) \
        if np.all(np.isfinite(probabilities)) else 0.5
    return initial, accuracy, (f"after {steps} Adam steps validation accuracy {_accuracy_text(accuracy)} "
                               f"(target {TARGET_ACCURACY:.0%})")


def _with_relu_after_pairs(model, found, x_train, y_train, x_val, y_val, steps, seed):
    """Train a fresh copy of the student's model with a ReLU after the first layer of each linear pair.

    The copy is rebuilt from the layers' configurations (fresh weights drawn under ``seed``), so the
    training the model has had does not carry over. Returns one line of evidence.
    """
    import keras

    firsts = {pair.first for pair in found.pairs}
    try:
        names = [layer.name for layer in keras_layers(model) if _label(layer.name, type(layer).__name__) in firsts]

        def with_relu(layer):
            config = layer.get_config()
            if layer.name in names and "activation" in config:
                config["activation"] = "relu"
            return layer.__class__.from_config(config)

        seed_everything(seed)
        changed = keras.models.clone_model(model, clone_function=with_relu)
        _, accuracy, outcome = _train_and_read(changed, x_train, y_train, x_val, y_val, steps, seed)
    except Exception as error:  # a model the check cannot rebuild: say so, decide on the run above
        return f"could not measure the model with a ReLU after its linear pairs ({type(error).__name__})"
    verdict = ("so the linear pairs are what holds this model back" if accuracy >= TARGET_ACCURACY
               else "so the linear pairs are not all that holds it back")
    return f"measured: the same model with a ReLU after {', '.join(names)}: {outcome}; {verdict}"
