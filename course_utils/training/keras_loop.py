"""A fast Keras training loop: many optimizer steps inside one compiled call.

``model.fit`` with one full batch per epoch pays Python and callback overhead
on every epoch (about 20 steps/s on the course's machines); a ``tf.function``
that loops over steps itself runs the same model at thousands of steps per
second. Interactive lessons depend on that difference. The loop does what
``fit`` does for one step: forward in training mode, loss (plus any
regularisation losses), gradients, ``optimizer.apply_gradients``.

Instruments are read between compiled chunks, every ``sample_every`` steps.
"""
from __future__ import annotations

import time

import numpy as np

from ..repro import import_tensorflow
from ..runs import TrainingRun, first_divergent_step, sample_schedule

tf = import_tensorflow()
import keras  # noqa: E402

from ..instruments import for_keras as inst  # noqa: E402

_COMPILED = "_course_utils_compiled_steps"


def _loss_key(loss_fn):
    """Equal for two loss objects of the same class and configuration.

    ``keras.losses.MeanAbsoluteError()`` written inline in every call is a new
    object each time; keyed by identity it would retrace every call.
    """
    get_config = getattr(loss_fn, "get_config", None)
    if get_config is None:
        return loss_fn  # a plain function: itself
    return (type(loss_fn), repr(sorted(get_config().items())))


def _compiled_steps(model, optimizer, loss_fn, full_batch: bool):
    """One tf.function per (model, optimizer, loss, batching), kept on the model.

    Re-used across calls so that retraining the same model does not pay for
    tracing again; it retraces only when the data's shape changes.
    """
    cache = model.__dict__.setdefault(_COMPILED, {})
    key = (id(optimizer), _loss_key(loss_fn), full_batch)
    if key in cache:
        return cache[key]
    variables = model.trainable_variables

    @tf.function(reduce_retracing=True)
    def run_steps(x, y, batch_index):
        count = tf.shape(batch_index)[0]
        losses = tf.TensorArray(tf.float32, size=count)
        for i in tf.range(count):
            if full_batch:
                xb, yb = x, y
            else:
                xb, yb = tf.gather(x, batch_index[i]), tf.gather(y, batch_index[i])
            with tf.GradientTape() as tape:
                # a loss function (not a Loss object) returns one value per sample: average them
                loss = tf.reduce_mean(tf.cast(loss_fn(*inst.line_up(yb, model(xb, training=True))), tf.float32))
                if model.losses:
                    loss += tf.add_n([tf.cast(l, tf.float32) for l in model.losses])
            grads = tape.gradient(loss, variables)
            optimizer.apply_gradients(zip(grads, variables))
            losses = losses.write(i, loss)
        return losses.stack()

    cache[key] = run_steps
    return run_steps


def _batch_plan(n: int, batch_size: int | None, steps: int, seed: int) -> np.ndarray:
    """(steps, batch_size) sample indices, reshuffled each epoch; (steps, 1) zeros for full batch."""
    if batch_size is None or batch_size >= n:
        return np.zeros((steps, 1), dtype=np.int32)
    if steps == 0:
        return np.zeros((0, batch_size), dtype=np.int32)
    rng = np.random.default_rng(seed)
    per_epoch = n // batch_size
    epochs = -(-steps // per_epoch)
    plan = [rng.permutation(n)[: per_epoch * batch_size].reshape(per_epoch, batch_size) for _ in range(epochs)]
    return np.concatenate(plan)[:steps].astype(np.int32)


def train_keras(
    model,
    x,
    y,
    loss,
    optimizer,
    steps: int,
    batch_size: int | None = None,
    sample_every: int | None = None,
    instruments=(),
    metrics=None,
    eval_sets=None,
    on_sample=None,
    seed: int = 0,
) -> TrainingRun:
    """Train a Keras model for ``steps`` steps; same arguments and result as train_torch.

    loss: a Keras loss object, function or name ("mse", ...), called as loss(y, pred).
    optimizer: a Keras optimizer (its state carries over between calls).
    """
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    unknown = set(instruments) - {"grad_norm", "dead_fraction", "update_ratio", "activation_stats"}
    if unknown:
        raise ValueError(f"unknown instrument(s) {sorted(unknown)}")
    loss_fn = inst.loss_function(loss)
    x = tf.convert_to_tensor(np.asarray(x, dtype=np.float32) if not tf.is_tensor(x) else x)
    y = tf.convert_to_tensor(y)
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
    eval_sets = {"train": (x, y)} if eval_sets is None else eval_sets
    metrics = metrics or {}
    full_batch = batch_size is None or batch_size >= len(x)
    if not model.built:
        model(x[:1])
    optimizer.build(model.trainable_variables)
    run_steps = _compiled_steps(model, optimizer, loss_fn, full_batch)
    plan = _batch_plan(len(x), batch_size, steps, seed)
    schedule = sample_schedule(steps, sample_every)

    losses = np.empty(steps, dtype=np.float64)
    run = TrainingRun(losses=losses[:0])
    started = time.perf_counter()
    done = 0

    def train(count):
        nonlocal done
        if count <= 0:
            return False
        chunk = run_steps(x, y, tf.constant(plan[done : done + count])).numpy()
        losses[done : done + count] = chunk
        bad = first_divergent_step(losses[: done + count], losses[0])
        if bad is not None:
            run.diverged_at = bad
            run.losses = losses[: bad + 1]
            return True
        done += count
        return False

    for point, next_point in zip(schedule, schedule[1:] + [None]):
        run.losses = losses[:done]
        xb = x if full_batch else tf.gather(x, plan[min(done, steps - 1)]) if steps else x
        reading = {"step": point}
        if "dead_fraction" in instruments:
            reading["dead_fraction"] = inst.dead_fraction(model, xb)
        if "activation_stats" in instruments:
            reading["activation_stats"] = inst.activation_stats(model, xb)
        if "grad_norm" in instruments and next_point is not None:
            yb = y if full_batch else tf.gather(y, plan[done])
            reading["grad_norm"] = inst.fresh_grad_norms(model, xb, yb, loss_fn)
        run.sampled_steps.append(point)
        run.readings.append(reading)
        for set_name, (xs, ys) in (eval_sets.items() if metrics else ()):  # no metric: no prediction
            predictions = inst.predict(model, xs)
            for metric_name, fn in metrics.items():
                run.metrics.setdefault(f"{set_name}_{metric_name}", []).append(float(fn(predictions, np.asarray(ys))))
        run.seconds = time.perf_counter() - started
        if on_sample is not None and on_sample(run):
            run.stopped_early = True
            break
        if next_point is None:
            break
        count = next_point - point
        if "update_ratio" in instruments:
            before = inst.snapshot_weights(model)
            if train(1):
                break
            reading["update_ratio"] = inst.update_ratios(before, model)
            count -= 1
        if train(count):
            break
    if run.diverged_at is None:
        run.losses = losses[:done]
    run.seconds = time.perf_counter() - started
    return run
