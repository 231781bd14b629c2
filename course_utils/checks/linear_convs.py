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

1. *silent linearity*: ``course_utils.diagnosis.linearity.linear_pairs`` on the built
   model lists every place where two layers with weights meet with nothing
   non-linear between them (activations and layers without weights, a
   ``Lambda`` included, are probed numerically). A linear pair is reported,
   not failed by itself: lesson 02 shows that a linear pair inside a model
   that is non-linear elsewhere does not stop it fitting;
2. *the preparation*: what reaches the model's first layer with weights
   (``prepare_x``, then any layers before that one, e.g. a ``Normalization``
   layer, run as at inference) must be
   - one fixed map, applied row by row: a few validation sequences raised by
     0.5 K, prepared alone, must come out as they do inside the full
     training set, and so must the training and validation sets (statistics
     computed on the batch or set at hand fail here, before any training);
   - a standardisation with the training set's statistics: one affine map
     per sensor, under which each sensor's training readings arrive with
     mean within 0.1 of 0 and spread between 2/3 and 1.5 (statistics of the
     sequence at hand, or min-max scaling, fail here). When it is not, the
     check says why: readings
     passed on unscaled, or (it fits the map per sensor) what the
     preparation subtracts and divides by next to the training set's float64
     mean and spread. Training statistics computed in float32 (by hand, or
     by ``Normalization.adapt`` on the float32 readings) are off by up to
     1.8 spreads from the rounding of the sum; they are accepted as the
     training set's statistics, and the evidence names the rounding;
3. *learning*: it trains the model itself (Adam, binary cross-entropy, a
   fixed budget) on the prepared inputs, from fresh weights that it draws
   from each layer's own initializer (so training done inside build_model
   does not count; an adapted Normalization layer keeps its statistics),
   and reads the loss at initialisation and the validation accuracy. A preparation that fails step 2 only on standardisation is
   still trained, so that the student sees whether the model learns
   anyway; it does not pass. Below the target, and with
   linear pairs in a model whose inputs are standardised, it trains the same
   model once more with a ReLU after the first layer of every pair and
   reports what that changes, so the student sees whether the linear pairs
   are what holds the model back.

Every call into the student's code (building, preparing, the model's layers,
training) runs under a time limit. It never raises on a student's answer.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..fmt import sig
from ..labs import (STUDENT_TIME_LIMIT_S, RanTooLong, Stopped, call_student, report, student_inputs,
                    time_limit)
from ..diagnosis.linearity import keras_layers, keras_role, layer_label, linear_pairs
from ..repro import seed as seed_everything
from ..lessons.linear_convs import lab_readings, scale_report

CHECK = "the sensor model learns"
STEPS = 300
BATCH = 32
LEARNING_RATE = 3e-3
TARGET_ACCURACY = 0.75
INPUT_SHAPE = (32, 3)
SENSORS = INPUT_SHAPE[1]

# The preparation's probe: a few validation sequences, raised by a step of 10 spreads (statistics taken from
# the batch at hand would take the step out again).
PROBE_ROWS, PROBE_SHIFT_K = 8, 0.5
RAISED = f"{PROBE_ROWS} validation sequences raised by {PROBE_SHIFT_K:g} K"
SAME_ROWS = 0.01  # a row prepared alone and inside the training set agree within this many prepared spreads
# Standardised with the training set's statistics: per sensor, on the training readings.
MEAN_WITHIN, SPREAD_FACTOR = 0.1, 1.5
AFFINE_RESIDUAL = 0.01  # a fit per sensor explains all but this fraction of the prepared spread: one affine map
UNSCALED_RATIO = 100.0  # |mean| / spread above this: the readings arrive (close to) as they are, in kelvin

NEVER_BACK_HINT = "That call never came back within the limit: look for a loop that does not end, then time it alone."


def _accuracy_text(value: float) -> str:
    """Coarse, so that the printed evidence survives another thread count."""
    if value >= 0.8:
        return "above 80%"
    if value >= TARGET_ACCURACY:
        return f"between {TARGET_ACCURACY:.0%} and 80%"
    return f"{100 * value:.0f}%"


def check_sensor_model(build_model, prepare_x, data=None, steps: int = STEPS, seed: int = 0,
                       time_limit_s: float = STUDENT_TIME_LIMIT_S):
    """Report what stops the model learning, with evidence; passes when the inputs are standardised with the
    training set's statistics and the model learns. Each stage that runs the student's code is stopped after
    ``time_limit_s`` seconds."""
    try:
        return _check(build_model, prepare_x, data, steps, seed, time_limit_s)
    except RanTooLong as error:  # the student's layers, inside one of the check's own calls
        return report(CHECK, False, [str(error)], NEVER_BACK_HINT)
    except Exception as error:  # a last guard: a check must not raise
        return report(CHECK, False, [f"the check could not run your answer: {type(error).__name__}: {error}"],
                      "Run the cells above again from the top, then this one.")


check_both_fixed = check_sensor_model  # the name the first version of the lab used


def _not_yet(evidence, hint):
    if isinstance(evidence[-1], Stopped):  # a time limit, not a wrong value: say so instead of the usual hint
        hint = NEVER_BACK_HINT
    return report(CHECK, False, evidence, hint)


def _check(build_model, prepare_x, data, steps, seed, limit_s):
    import keras

    data = lab_readings() if data is None else data

    # 1. the model, and where it is silently linear
    seed_everything(seed)
    model, error = call_student("build_model()", build_model, limit_s=limit_s)
    if error:
        return _not_yet([error], "build_model() must return a new keras model.")
    if not isinstance(model, keras.Model):
        return _not_yet([f"build_model() must return a keras.Model, got {type(model).__name__}"],
                        "Return the model, e.g. keras.Sequential([...]).")
    error = _output_problem(model, limit_s)
    if error:
        return _not_yet([error], "The model must take inputs of shape (32, 3) and end with "
                                 "Dense(1, activation=\"sigmoid\").")
    if not model.trainable_variables:
        return _not_yet(["the model has no trainable weights"], "Build a trainable network.")
    seed_everything(seed)
    stuck = _redraw_weights(model)
    if stuck:
        return _not_yet([f"the check draws every weight afresh from its layer's initializer, and cannot for "
                         f"{', '.join(stuck)}"], "Build the model from Keras' own layers.")
    with time_limit(limit_s, "reading your model's layers"):
        found = linear_pairs(model)
    evidence = _linearity_evidence(found)

    # 2. what reaches the first layer with weights
    layers = list(keras_layers(model))
    first = next((i for i, layer in enumerate(layers) if keras_role(layer)[0] == "map"), None)
    if first is None:
        return _not_yet(evidence + ["the model has no Dense or convolution layer"], "Build the lab's conv net.")
    before_first = [layer for layer in layers[:first] if type(layer).__name__ != "InputLayer"]
    receiver = Receiver(layer_label(layers[first].name, type(layers[first]).__name__), before_first)
    with time_limit(limit_s, "prepare_x and your model's layers before its first layer with weights"):
        prepared, error = _prepare_all(prepare_x, receiver, data)
    if error:
        return _not_yet(evidence + [error], "prepare_x takes an (n, 32, 3) array of readings and returns one "
                                            "of the same shape, for any readings.")
    x_train, x_val, reached = prepared
    problem = _not_one_map(reached, receiver)
    if problem:
        return _not_yet(evidence + [problem], BATCH_STATISTICS_HINT)
    lines, scale_hint = _standardisation(reached["train"], data.x_train, receiver)
    evidence += lines

    # 3. train it here, from the fresh weights, and read what happens
    y_train = data.y_train.astype("float32")[:, None]
    reading, error = _train_and_read(model, x_train, y_train, x_val, data.y_val, steps, seed, limit_s)
    if error:
        return _not_yet(evidence + [error], "Check that the model takes (n, 32, 3) inputs and ends in "
                                            "Dense(1, sigmoid).")
    evidence.append(f"from fresh weights (drawn by the check from each layer's initializer): loss at initialisation "
                    f"{sig(reading.initial)} vs chance {sig(math.log(2))}; {reading.text}")
    hints = [scale_hint] if scale_hint else []
    if reading.accuracy < TARGET_ACCURACY and not scale_hint:
        if found.pairs:
            evidence.append(_with_relu_after_pairs(model, found, x_train, y_train, x_val, data.y_val, steps, seed,
                                                   limit_s))
            hints.append("read what linear_pairs lists and the measurement above; then ask what "
                         "GlobalAveragePooling1D keeps of a linear conv's output (the lab's last section)")
        else:
            hints.append("the model does not learn the pattern yet: read the loss at initialisation and the "
                         "short run in the readings above")
    hint = "Still to do: " + "; ".join(hints) + "." if hints else ""
    return report(CHECK, not hints, evidence, hint)


def _output_problem(model, limit_s):
    """What is wrong with the model's output on a batch of zeros (this also builds it), or None."""
    try:
        with time_limit(limit_s, "your model, on one batch"):
            out = np.asarray(model(np.zeros((BATCH, *INPUT_SHAPE), np.float32), training=False))
    except RanTooLong as error:
        return Stopped(error)
    except Exception as error:
        return f"the model failed on inputs of shape {INPUT_SHAPE}: {type(error).__name__}: {error}"
    if out.shape != (BATCH, 1):
        return f"the model must give one probability per sequence, shape (n, 1); it gave {out.shape}"
    return None


def _redraw_weights(model):
    """Draw every weight of ``model`` again from its layer's own initializer, as a fresh build does, so that
    training done before the check (inside build_model) does not count. Layers that hold weights but nothing to
    train, other than Dense and convolutions (an adapted Normalization layer), keep theirs. Returns the labels of
    the layers whose weights it cannot redraw."""
    stuck = []
    for layer in keras_layers(model):
        if not layer.weights or (not layer.trainable_weights and keras_role(layer)[0] != "map"):
            continue
        initializers = [_initializer(layer, variable.name) for variable in layer.weights]
        if None in initializers:
            stuck.append(layer_label(layer.name, type(layer).__name__))
            continue
        for variable, initializer in zip(layer.weights, initializers):
            variable.assign(initializer(variable.shape, dtype=variable.dtype))
    return stuck


def _initializer(layer, name):
    """The initializer a layer (or its recurrent cell) keeps for its weight ``name``: kernel_initializer for
    "kernel", recurrent_initializer for "recurrent_kernel", gamma_initializer for "gamma"...; or None."""
    import keras

    for owner in (layer, getattr(layer, "cell", None)):
        for attribute in (f"{name}_initializer", f"{name.removesuffix('_kernel')}_initializer"):
            initializer = getattr(owner, attribute, None) if owner is not None else None
            if initializer is not None:
                return keras.initializers.get(initializer)
    return None


def _linearity_evidence(found):
    if found.pairs:
        lines = [f"linear pairs (reported; they fail only if the model does not learn): {len(found.pairs)} "
                 "place(s) where two layers with weights compose into one linear map: "
                 + "; ".join(str(pair) for pair in found.pairs)]
    else:
        lines = [f"no silent linearity: a non-linearity follows each of the {len(found.maps)} layers "
                 "with weights that feeds another"]
    if found.unknown:
        lines.append(f"layers the check cannot classify (reported, not failed): {', '.join(found.unknown)}")
    return lines


# --- the preparation: what the first layer with weights receives ----------------------------------------

class Receiver(NamedTuple):
    """The model's first layer with weights, and the layers that run before it."""

    label: str
    before: list

    @property
    def preparation(self) -> str:
        """What turns raw readings into what the first layer receives, in words."""
        if not self.before:
            return "prepare_x"
        names = ", ".join(layer_label(layer.name, type(layer).__name__) for layer in self.before)
        return f"your preparation (prepare_x, then {names})"

    def receives(self, inputs: np.ndarray) -> np.ndarray:
        """The first layer's input for prepared ``inputs``, the layers before it run as at inference."""
        values = inputs
        for layer in self.before:
            values = layer(values, training=False)
        values = np.asarray(values, dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise ValueError("values that are not finite")
        return values


def _prepare_all(prepare_x, receiver, data):
    """((x_train, x_val, what the first layer receives for each probe), None), or (None, what went wrong).

    The probes: the training set, the validation set, a few validation sequences raised by PROBE_SHIFT_K
    kelvin, and all three together ("inside"), each prepared by one call.
    """
    probes = {"train": data.x_train, "val": data.x_val,
              "raised": data.x_val[:PROBE_ROWS] + np.float32(PROBE_SHIFT_K)}
    probes["inside"] = np.concatenate(list(probes.values()))
    labels = {"train": "x_train", "val": "x_val", "raised": RAISED, "inside": f"x_train, x_val and the {RAISED}"}
    prepared, reached = {}, {}
    for name, raw in probes.items():
        prepared[name], error = student_inputs(prepare_x, raw, labels[name])
        if error:
            return None, error
        try:
            reached[name] = receiver.receives(prepared[name])
        except Exception as error:
            return None, f"your model's layers before {receiver.label} failed: {type(error).__name__}: {error}"
    return (prepared["train"], prepared["val"], reached), None


BATCH_STATISTICS_HINT = ("fit the statistics once, on data.x_train, and apply those same numbers to every set and "
                         "every batch (in prepare_x, or with a Normalization layer that holds them)")


def _not_one_map(reached, receiver):
    """Why the preparation is not one fixed map applied row by row, or None."""
    spread = max(float(reached["train"].std()), 1e-12)
    start, inside = 0, reached["inside"]
    worst_name, worst = None, 0.0
    for name in ("train", "val", "raised"):
        alone = reached[name]
        part = inside[start : start + len(alone)]
        start += len(alone)
        difference = float(np.max(np.abs(part - alone))) / spread if part.shape == alone.shape else math.inf
        if difference > worst:
            worst_name, worst = name, difference
    if worst <= SAME_ROWS:
        return None
    what = {"train": "the training sequences", "val": "the validation sequences", "raised": RAISED}[worst_name]
    return (f"{receiver.preparation} is not one fixed map: {what}, prepared alone, differ from the same sequences "
            f"prepared inside the full training set by up to {sig(worst, 2)} spreads (row by row): it takes its "
            "statistics from the batch it is given, not from the training set")


def _standardisation(reached, raw_train, receiver):
    """(evidence lines, hint or None): is each sensor standardised with the training set's statistics?"""
    per_sensor = _per_sensor(reached)
    if per_sensor is None:
        return ([f"{receiver.label} receives {reached[0].size} numbers per sequence; the check expects the 32 "
                 "readings of the 3 sensors there, standardised"],
                "give the first layer with weights the readings themselves, each sensor standardised with the "
                "training set's mean and standard deviation")
    scale = scale_report(reached)
    if scale.offset_to_spread > UNSCALED_RATIO or scale.std == 0:
        return _unscaled(scale, receiver)
    raw = raw_train.astype(np.float64)
    means, spreads = per_sensor.mean(axis=(0, 1)), per_sensor.std(axis=(0, 1))
    centres, units = _affine_per_sensor(raw, per_sensor)
    standardised = np.all(np.abs(means) <= MEAN_WITHIN) and np.all((spreads >= 1 / SPREAD_FACTOR)
                                                                    & (spreads <= SPREAD_FACTOR))
    if centres is not None and standardised:
        return ([f"inputs standardised with the training set's statistics where the first layer with weights "
                 f"receives them: one (reading - mean) / spread map per sensor, giving the training readings "
                 f"mean within {MEAN_WITHIN:g} of 0 and spread between {1 / SPREAD_FACTOR:.2f} and "
                 f"{SPREAD_FACTOR:g}"], None)
    measured = (f"{receiver.label} receives the training readings with per-sensor means {_listed(means)} and "
                f"spreads {_listed(spreads, sig)} (standardised: means within {MEAN_WITHIN:g} of 0, spreads between "
                f"{1 / SPREAD_FACTOR:.2f} and {SPREAD_FACTOR:g})")
    if centres is None:
        return ([measured, f"{receiver.preparation} is not one (reading - mean) / spread map per sensor: the same "
                           "reading does not always come out the same"],
                "standardise each sensor with numbers fitted once on the training set: (reading - training mean) "
                "/ training standard deviation")
    lines, hint = _compared_with_training(raw, centres, units, receiver)
    return [measured, *lines], hint


def _compared_with_training(raw, centres, units, receiver):
    """For a preparation that subtracts and divides: (evidence lines, hint) naming what its numbers are."""
    true_means, true_spreads = raw.mean(axis=(0, 1)), raw.std(axis=(0, 1))
    off = np.abs(centres - true_means) / true_spreads
    lines = [f"{receiver.preparation} computes (reading - a) / b per sensor with a = {_listed(centres, '.3f')} K "
             f"and b = {_listed(units, sig)} K, where the training readings' means are {_listed(true_means, '.3f')} K "
             f"and spreads {_listed(true_spreads, sig)} K (in float64): a is up to {off.max():.1f} spreads from the "
             "mean"]
    readings = raw.astype(np.float32)
    float32_means, float32_spreads = readings.mean(axis=(0, 1)), readings.std(axis=(0, 1))   # float32 sums
    float32_centres = _near(centres, float32_means, 0.05 * true_spreads) \
        and not _near(centres, true_means, MEAN_WITHIN * true_spreads)
    float32_units = _near(units, float32_spreads, 0.02 * true_spreads) \
        and not _near(units, true_spreads, 0.1 * true_spreads)
    if float32_centres or float32_units:  # the training statistics, rounded: a fix, with a note on the rounding
        lines.append(f"those are the training statistics as float32 arithmetic gives them: a float32 sum of "
                     f"{raw.shape[0] * raw.shape[1]:,} readings near {true_means.mean():.0f} K loses the digits "
                     "that tell the readings apart. They count as the training set's statistics; computed in "
                     "float64 (data.x_train.astype(\"float64\")) they would give means 0 and spreads 1")
        return lines, None
    return lines, ("subtract each sensor's training mean and divide by its training standard deviation, both "
                   "computed from data.x_train in float64")


def _near(values, targets, within) -> bool:
    return bool(np.all(np.abs(np.asarray(values, np.float64) - np.asarray(targets, np.float64)) <= within))


def _unscaled(scale, receiver):
    ratio = f"mean {sig(scale.mean)}, spread {sig(scale.std)} (mean / spread {sig(scale.offset_to_spread)})"
    if not receiver.before:
        return ([f"badly scaled inputs reach the first layer with weights, {receiver.label}: {ratio}"],
                "read lesson.scale_report(prepare_x(data.x_train)): what does the first layer see when the inputs' "
                f"mean is {sig(scale.offset_to_spread, 2)} times their spread? (lesson 02, section 5)")
    return ([f"badly scaled inputs reach the first layer with weights, {receiver.label}, after "
             f"{receiver.preparation} run as at inference (when validation is scored): {ratio}"],
            f"at inference the layers before {receiver.label} leave the readings at their raw scale: standardise "
            "them with the training set's mean and standard deviation, in prepare_x or with a Normalization layer "
            "that holds those numbers")


def _per_sensor(reached):
    """What the first layer receives as (n, 32, 3), or None when it does not receive the 96 readings."""
    if reached[0].size != INPUT_SHAPE[0] * SENSORS:
        return None
    return reached.reshape(len(reached), *INPUT_SHAPE)


def _affine_per_sensor(raw, prepared):
    """(centres, units): the reading each sensor's map sends to 0 and the step it scales to 1, or (None, None)
    when the preparation is not one affine map per sensor on the training readings."""
    centres, units = [], []
    for sensor in range(SENSORS):
        x = raw[..., sensor].ravel() - raw[..., sensor].mean()
        y = prepared[..., sensor].ravel()
        slope = float(x @ (y - y.mean()) / (x @ x))
        residual = y - y.mean() - slope * x
        if slope == 0 or residual.std() > AFFINE_RESIDUAL * max(y.std(), 1e-12):
            return None, None
        centres.append(raw[..., sensor].mean() - y.mean() / slope)
        units.append(1 / slope)
    return np.array(centres), np.array(units)


def _listed(values, style=".2f"):
    """'0.76, 0.86, 0.87': ``style`` is a format spec or a function such as fmt.sig."""
    texts = [style(value) if callable(style) else format(float(value), style) for value in values]
    return ", ".join("0.00" if text == "-0.00" else text for text in texts)


# --- training -------------------------------------------------------------------------------------------

class Reading(NamedTuple):
    """What the check's training run measured."""

    initial: float    # the loss at initialisation
    accuracy: float   # validation accuracy after training (0.5 when the run diverged)
    text: str         # what happened, as evidence


def _accuracy(model, x, y) -> float:
    """The model's accuracy on (x, y) at inference; 0.5 (a coin) when its outputs are not finite."""
    probabilities = np.asarray(model(x, training=False)).reshape(-1)
    if not np.all(np.isfinite(probabilities)):
        return 0.5
    return float(((probabilities > 0.5).astype(np.int64) == y).mean())


def _train_and_read(model, x_train, y_train, x_val, y_val, steps, seed, limit_s):
    """(Reading, None) after the check's training run, or (None, why it could not train)."""
    from ..training import keras_loop
    import keras

    loss = keras.losses.binary_crossentropy
    try:
        with time_limit(limit_s, f"training your model for {steps} steps"):
            initial = float(np.mean(np.asarray(loss(y_train, model(x_train, training=False)))))
            run = keras_loop.train_keras(model, x_train, y_train, loss, keras.optimizers.Adam(LEARNING_RATE),
                                         steps=steps, batch_size=BATCH, sample_every=steps, seed=seed)
            accuracy = _accuracy(model, x_val, y_val)
    except RanTooLong as error:
        return None, Stopped(error)
    except Exception as error:
        return None, f"training failed: {type(error).__name__}: {error}"
    if run.diverged:
        return Reading(initial, 0.5, f"training diverged at step {run.diverged_at}"), None
    return Reading(initial, accuracy, f"after {steps} Adam steps validation accuracy {_accuracy_text(accuracy)} "
                                      f"(target {TARGET_ACCURACY:.0%})"), None


def _with_relu_after_pairs(model, found, x_train, y_train, x_val, y_val, steps, seed, limit_s):
    """Train a fresh copy of the student's model with a ReLU after the first layer of each linear pair.

    The copy is rebuilt from the layers' configurations (fresh weights drawn under ``seed``), so the
    training the model has had does not carry over. Returns one line of evidence.
    """
    import keras

    firsts = {pair.first for pair in found.pairs}
    names = [layer.name for layer in keras_layers(model) if layer_label(layer.name, type(layer).__name__) in firsts]

    def with_relu(layer):
        if layer.name not in names and not layer.trainable_weights:
            return layer  # nothing in it to train: reused as it is (an adapted Normalization keeps its statistics)
        config = layer.get_config()
        if layer.name in names and "activation" in config:
            config["activation"] = "relu"
        return layer.__class__.from_config(config)

    try:
        seed_everything(seed)
        with time_limit(limit_s, "rebuilding your model"):
            changed = keras.models.clone_model(model, clone_function=with_relu)
    except RanTooLong as error:
        return f"could not measure the model with a ReLU after its linear pairs ({error})"
    except Exception as error:  # a model the check cannot rebuild: say so, decide on the run above
        return f"could not measure the model with a ReLU after its linear pairs ({type(error).__name__})"
    reading, error = _train_and_read(changed, x_train, y_train, x_val, y_val, steps, seed, limit_s)
    if error:
        return f"could not measure the model with a ReLU after its linear pairs ({error})"
    verdict = ("so the linear pairs are what holds this model back" if reading.accuracy >= TARGET_ACCURACY
               else "so the linear pairs are not all that holds it back")
    return f"measured: the same model with a ReLU after {', '.join(names)}: {reading.text}; {verdict}"
