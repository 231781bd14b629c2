"""The PyTorch and Keras loops: same result shape, real training, divergence reported."""
import numpy as np
import pytest
import torch
from torch import nn

import course_utils as cu
from course_utils.repro import import_tensorflow

tf = import_tensorflow()
import keras  # noqa: E402

X, Y = cu.data.one_batch(32)


def torch_mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


def keras_mlp(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10)])


KERAS_CE = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
INSTRUMENTS = ("grad_norm", "dead_fraction", "update_ratio", "activation_stats")


def train(framework, steps=100, lr=1e-2, optimizer="adam", **kwargs):
    if framework == "torch":
        model = torch_mlp()
        opt = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(model.parameters(), lr=lr)
        return model, cu.train_torch(model, X, Y, nn.functional.cross_entropy, opt, steps, **kwargs)
    model = keras_mlp()
    opt = (keras.optimizers.Adam if optimizer == "adam" else keras.optimizers.SGD)(lr)
    return model, cu.train_keras(model, X, Y, KERAS_CE, opt, steps, **kwargs)


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_overfits_one_batch_with_instruments_and_metrics(framework):
    model, run = train(framework, steps=200, sample_every=50, instruments=INSTRUMENTS,
                       metrics={"accuracy": cu.metrics.accuracy})
    assert run.steps_done == 200 and not run.diverged
    assert run.initial_loss > 1.5 and run.final_loss < 0.01
    assert run.sampled_steps == [0, 50, 100, 150, 200]
    assert run.metric("train_accuracy")[-1] == 1.0 and run.metric("train_accuracy")[0] < 0.5
    first = run.readings[0]
    assert set(first) == {"step", *INSTRUMENTS}
    assert len(first["grad_norm"]) == 2 and all(v > 0 for v in first["grad_norm"].values())
    assert all(0 < v < 1 for v in first["update_ratio"].values())
    assert len(first["dead_fraction"]) == 1
    assert "grad_norm" not in run.readings[-1]  # no step follows the last reading


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_divergence_stops_the_run_and_is_reported(framework):
    _, run = train(framework, steps=300, lr=50.0, optimizer="sgd")
    assert run.diverged and run.diverged_at < 300
    assert run.steps_done == run.diverged_at + 1
    assert not np.isfinite(run.losses[-1]) or run.losses[-1] > 1e3
    assert run.describe().startswith(f"diverged at step {run.diverged_at}")


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_on_sample_can_stop_early(framework):
    seen = []

    def stop_at_40(run):
        seen.append(run.steps_done)
        return run.steps_done >= 40

    _, run = train(framework, steps=100, sample_every=20, on_sample=stop_at_40)
    assert seen == [0, 20, 40] and run.stopped_early and run.steps_done == 40


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_mini_batches_and_eval_sets(framework):
    split = cu.data.digits(n_train=96, n_test=40)
    metrics = {"accuracy": cu.metrics.accuracy}
    eval_sets = {"train": (split.x_train, split.y_train), "test": (split.x_test, split.y_test)}
    if framework == "torch":
        model = torch_mlp()
        run = cu.train_torch(model, split.x_train, split.y_train, nn.functional.cross_entropy,
                             torch.optim.Adam(model.parameters(), 1e-2), 60, batch_size=32, metrics=metrics,
                             eval_sets={k: (torch.from_numpy(a), torch.from_numpy(b)) for k, (a, b) in eval_sets.items()})
    else:
        model = keras_mlp()
        run = cu.train_keras(model, split.x_train, split.y_train, KERAS_CE, keras.optimizers.Adam(1e-2), 60,
                             batch_size=32, metrics=metrics, eval_sets=eval_sets)
    assert run.steps_done == 60
    assert set(run.metrics) == {"train_accuracy", "test_accuracy"}
    assert run.metric("train_accuracy")[-1] > 0.9
    # mini-batch losses are noisier than one full batch: they are not all equal
    assert len(np.unique(np.round(run.losses[-10:], 6))) > 1


def test_keras_loop_matches_one_manual_sgd_step():
    model = keras_mlp()
    before = [w.copy() for w in model.get_weights()]
    cu.train_keras(model, X, Y, KERAS_CE, keras.optimizers.SGD(0.1), 1)
    manual = keras_mlp()
    with tf.GradientTape() as tape:
        loss = KERAS_CE(Y, manual(X, training=True))
    grads = tape.gradient(loss, manual.trainable_variables)
    for w0, g, w in zip(before, grads, model.get_weights()):
        np.testing.assert_allclose(w, w0 - 0.1 * g.numpy(), rtol=1e-5, atol=1e-6)


def test_keras_loop_reuses_its_compiled_steps():
    model, optimizer = keras_mlp(), keras.optimizers.Adam(1e-3)
    cu.train_keras(model, X, Y, KERAS_CE, optimizer, 5)
    cache = model.__dict__["_course_utils_compiled_steps"]
    (compiled,) = cache.values()
    cu.train_keras(model, X, Y, KERAS_CE, optimizer, 5)
    assert list(cache.values()) == [compiled]
    assert compiled.experimental_get_tracing_count() == 1
    # a new loss object with the same configuration reuses the compiled steps too
    cu.train_keras(model, X, Y, keras.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer, 5)
    assert len(cache) == 1 and compiled.experimental_get_tracing_count() == 1
    cu.train_keras(model, X, Y, keras.losses.SparseCategoricalCrossentropy(from_logits=False), optimizer, 5)
    assert len(cache) == 2


def test_torch_loop_matches_a_hand_written_loop():
    model_a, model_b = torch_mlp(), torch_mlp()
    opt_a, opt_b = torch.optim.SGD(model_a.parameters(), 0.1), torch.optim.SGD(model_b.parameters(), 0.1)
    run = cu.train_torch(model_a, X, Y, nn.functional.cross_entropy, opt_a, 20, instruments=INSTRUMENTS, sample_every=3)
    x, y = torch.from_numpy(X), torch.from_numpy(Y)
    losses = []
    for _ in range(20):
        opt_b.zero_grad()
        loss = nn.functional.cross_entropy(model_b(x), y)
        loss.backward()
        opt_b.step()
        losses.append(loss.item())
    np.testing.assert_allclose(run.losses, losses, rtol=1e-6)  # instruments do not disturb training


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_bad_arguments_are_refused(framework):
    with pytest.raises(ValueError, match="steps must be"):
        train(framework, steps=-1)
    with pytest.raises(ValueError, match="unknown instrument"):
        train(framework, steps=1, instruments=("gradnorm",))
    _, run = train(framework, steps=0)
    assert run.steps_done == 0 and run.sampled_steps == [0]
    _, run = train(framework, steps=0, batch_size=8)
    assert run.steps_done == 0


def test_keras_loop_averages_a_per_sample_loss_function():
    # keras.losses.get("mse") is a function returning one value per sample; the loop must average it
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    x = np.linspace(0, 1, 8, dtype=np.float32)[:, None]
    run = cu.train_keras(model, x, 2 * x, "mse", keras.optimizers.SGD(0.1), 4, batch_size=1)
    assert run.losses.shape == (4,)
    expected = float(np.mean((model(x).numpy() - 2 * x) ** 2))
    assert cu.instruments.loss_value(model, x, 2 * x, "mse") == pytest.approx(expected, rel=1e-5)


def test_keras_loop_refuses_mismatched_lengths():
    with pytest.raises(ValueError, match="x has 32 samples but y has 31"):
        cu.train_keras(keras_mlp(), X, Y[:-1], KERAS_CE, keras.optimizers.Adam(), 1)
