"""Trainer throughput and lesson 00's panel latency, as ratios measured in one run.

    python benchmarks/trainer_throughput.py

Not a test: timings depend on the machine and on what else it is doing. The
course's claims are ratios, measured here side by side:
- the compiled Keras loop against ``model.fit`` with one full batch per epoch
  (lesson 00's Keras model): the course needs at least 200x; also at batch 1
  and on lesson 04's tiny-data model (Dense 32-16-1 on 21 points);
- the PyTorch loop with instruments sampled every k steps against a minimal
  hand-written loop: the course needs it within 10%;
- lesson 00's panel at its defaults: one retrain and redraw, in seconds (< 0.5 s).
"""
from __future__ import annotations

import statistics
import time

import course_utils as cu

cu.setup(frameworks=("torch", "tensorflow"))

import keras  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

X, Y = cu.data.one_batch(64)
XT, YT = torch.from_numpy(X), torch.from_numpy(Y)


def keras_model():
    cu.seed(0)
    return keras.Sequential([keras.Input((64,)), keras.layers.Dense(64, activation="relu"),
                             keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10)])


def torch_model(width=64):
    cu.seed(0)
    return nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10))


def best_of(repeats, fn):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def tiny_keras_model():
    """Lesson 04's shape: Dense(32, relu)-Dense(16, relu)-Dense(1) on 21 points."""
    cu.seed(0)
    return keras.Sequential([keras.Input((1,)), keras.layers.Dense(32, activation="relu"),
                             keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])


TINY_X, TINY_Y = cu.data.noisy_sine(21)


def keras_ratio(name, make_model, x, y, loss, batch_size, fit_epochs, loop_steps, needed=None):
    """model.fit against train_keras, steps per second, same model, data and batch size."""
    steps_per_epoch = max(len(x) // batch_size, 1)
    fitted = make_model()
    fitted.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    fitted.fit(x, y, batch_size=batch_size, epochs=2, verbose=0)  # compile outside the timing
    fit_seconds = best_of(3, lambda: fitted.fit(x, y, batch_size=batch_size, epochs=fit_epochs, verbose=0, shuffle=False))
    looped, optimizer = make_model(), keras.optimizers.Adam(1e-3)
    cu.train_keras(looped, x, y, loss, optimizer, 10, batch_size=batch_size)  # trace outside the timing
    loop_seconds = best_of(3, lambda: cu.train_keras(looped, x, y, loss, optimizer, loop_steps, batch_size=batch_size,
                                                     sample_every=loop_steps))
    fit_rate, loop_rate = fit_epochs * steps_per_epoch / fit_seconds, loop_steps / loop_seconds
    target = f" (needed: >= {needed}x)" if needed else ""
    print(f"Keras, {name}: model.fit {fit_rate:,.0f} steps/s, train_keras {loop_rate:,.0f} steps/s, "
          f"ratio {loop_rate / fit_rate:,.0f}x{target}")


def torch_ratio(name, make_model, x, y, loss_fn, steps=3000, every=50):
    def minimal():
        model = make_model()
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
        for _ in range(steps):
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()

    def course_loop():
        model = make_model()
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
        cu.train_torch(model, x, y, loss_fn, optimizer, steps, sample_every=every,
                       instruments=("grad_norm", "dead_fraction", "update_ratio"))

    minimal_seconds, course_seconds = [], []
    for _ in range(5):  # interleaved, so that drift in the machine's load hits both
        minimal_seconds.append(best_of(1, minimal))
        course_seconds.append(best_of(1, course_loop))
    a, b = min(minimal_seconds), min(course_seconds)
    print(f"PyTorch, {name}, {steps} full-batch steps: minimal loop {steps / a:,.0f} steps/s, train_torch with instruments "
          f"every {every} steps {steps / b:,.0f} steps/s, overhead {100 * (b / a - 1):+.1f}% (needed: within 10%)")


def panel_latency(changes=5):
    def retrain(values, progress):
        cu.seed(0)
        model = torch_model(values["width"])
        optimizer = torch.optim.Adam(model.parameters(), lr=values["lr"])
        return cu.train_torch(model, XT, YT, F.cross_entropy, optimizer, steps=values["steps"],
                              metrics={"accuracy": cu.metrics.accuracy}, on_sample=progress.on_sample(values["steps"]))

    def draw(fig, run, values):
        ax_loss, ax_acc = fig.subplots(1, 2)
        cu.plots.loss_curve(ax_loss, run, chance=2.3)
        cu.plots.metric_curve(ax_acc, run, "train_accuracy")

    panel = cu.Panel(controls={"lr": cu.panel.log_slider("learning rate", 1e-4, 1.0, 1e-2),
                               "steps": cu.panel.int_slider("steps", 10, 2000, 200, step=10),
                               "width": cu.panel.int_slider("width", 1, 512, 64)},
                     train=retrain, draw=draw)
    panel.run()  # warm-up
    seconds = []
    for i in range(changes):
        panel.set(width=64 + (i % 2))  # a change, as a student's release of the slider
        seconds.append(panel.last_seconds)
    print(f"lesson 00 panel at its defaults: retrain + redraw median {statistics.median(seconds):.3f} s "
          f"over {changes} changes (needed: < 0.5 s)")


def tiny_torch_model():
    cu.seed(0)
    return nn.Sequential(nn.Linear(1, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 1))


if __name__ == "__main__":
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    keras_ratio("digits MLP, one full batch per epoch", keras_model, X, Y, ce, 64, 100, 5000, needed=200)
    keras_ratio("tiny-data model, one full batch per epoch", tiny_keras_model, TINY_X, TINY_Y, "mse", 21, 100, 5000)
    keras_ratio("tiny-data model, batch 1", tiny_keras_model, TINY_X, TINY_Y, "mse", 1, 10, 2100)
    torch_ratio("digits MLP", torch_model, XT, YT, F.cross_entropy)
    torch_ratio("tiny-data model", tiny_torch_model, torch.from_numpy(TINY_X), torch.from_numpy(TINY_Y), F.mse_loss)
    panel_latency()
