"""A lean PyTorch training loop with instruments sampled every k steps.

The loop is the textbook one (zero_grad, forward, loss, backward, step); it
is shared so that lessons can train healthy models in one line. A loop that
a lesson is *about* (a missing zero_grad, say) is written out in the
notebook instead, and the same instruments can watch it.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from ..instruments import for_torch as inst
from ..runs import TrainingRun, divergence_bound, sample_schedule


def _as_tensor(a, dtype=None):
    if isinstance(a, torch.Tensor):
        return a if dtype is None else a.to(dtype)
    t = torch.from_numpy(np.ascontiguousarray(a))
    return t if dtype is None else t.to(dtype)


def _batches(n: int, batch_size: int | None, steps: int, seed: int):
    """Index tensors for ``steps`` steps: reshuffled every epoch, fixed by ``seed``."""
    if batch_size is None or batch_size >= n:
        while True:
            yield None  # full batch, no indexing
    generator = np.random.default_rng(seed)
    while True:
        order = torch.from_numpy(generator.permutation(n))
        for start in range(0, n - batch_size + 1, batch_size):
            yield order[start : start + batch_size]


def train_torch(
    model,
    x,
    y,
    loss_fn,
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
    """Train ``model`` for ``steps`` optimizer steps and return a TrainingRun.

    batch_size: None trains on the whole of (x, y) at every step; otherwise
        mini-batches, reshuffled each epoch (drop the last partial batch).
    sample_every: read instruments and metrics every this many steps
        (default: 20 readings per run), plus at the start and the end.
    instruments: names from course_utils.instruments.INSTRUMENTS.
    metrics: name -> f(predictions, targets) on NumPy arrays, evaluated in
        inference mode on every set of ``eval_sets`` (default {"train": (x, y)}).
    on_sample: called with the run so far at every sampled step; return True
        to stop early (the panel uses it for progress and redraws).
    The run stops at the first step whose loss is not finite or explodes
    (see runs.first_divergent_step); ``run.diverged_at`` says where.
    """
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    unknown = set(instruments) - {"grad_norm", "dead_fraction", "update_ratio", "activation_stats"}
    if unknown:
        raise ValueError(f"unknown instrument(s) {sorted(unknown)}")
    x, y = _as_tensor(x), _as_tensor(y)
    eval_sets = {"train": (x, y)} if eval_sets is None else {k: (_as_tensor(a), _as_tensor(b)) for k, (a, b) in eval_sets.items()}
    metrics = metrics or {}
    schedule = set(sample_schedule(steps, sample_every))
    batches = _batches(len(x), batch_size, steps, seed)
    losses = np.empty(steps, dtype=np.float64)
    run = TrainingRun(losses=losses[:0])
    started = time.perf_counter()
    model.train()

    def sample(step, xb):
        run.losses = losses[:step]
        reading = {"step": step}
        if "dead_fraction" in instruments:
            reading["dead_fraction"] = inst.dead_fraction(model, xb)
        if "activation_stats" in instruments:
            reading["activation_stats"] = inst.activation_stats(model, xb)
        run.sampled_steps.append(step)
        run.readings.append(reading)
        for set_name, (xs, ys) in (eval_sets.items() if metrics else ()):  # no metric: no prediction
            predictions = inst.predict(model, xs)
            for metric_name, fn in metrics.items():
                run.metrics.setdefault(f"{set_name}_{metric_name}", []).append(float(fn(predictions, ys.numpy())))
        run.seconds = time.perf_counter() - started
        return bool(on_sample(run)) if on_sample is not None else False

    for step in range(steps):
        idx = next(batches)
        xb, yb = (x, y) if idx is None else (x[idx], y[idx])
        if step in schedule and sample(step, xb):
            run.stopped_early = True
            break
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        value = losses[step] = loss.item()
        if step == 0:
            bound = divergence_bound(value)
        if not value <= bound:  # also catches NaN
            run.diverged_at = step
            run.losses = losses[: step + 1]
            break
        sampled = step in schedule
        if sampled:
            reading = run.readings[-1]
            if "grad_norm" in instruments:
                reading["grad_norm"] = inst.stored_grad_norms(model)
            if "update_ratio" in instruments:
                before = inst.snapshot_weights(model)
        optimizer.step()
        if sampled and "update_ratio" in instruments:
            reading["update_ratio"] = inst.update_ratios(before, model)
    else:
        if steps in schedule:
            sample(steps, xb if steps else x)
    if run.diverged_at is None and not run.stopped_early:
        run.losses = losses[:steps]
    run.seconds = time.perf_counter() - started
    return run
