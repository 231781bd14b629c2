"""Unit tests for lesson 03's pieces: course_utils.lessons.dying_relu and the lab check (course_utils.checks.dying_relu)."""
import time

import numpy as np
import pytest
import torch
from torch import nn

from course_utils import labs
from course_utils.checks import dying_relu
from course_utils.lessons.dying_relu import (ONE_CHANNEL, FirstStep, PanelWiring, bump_signals, coarse_loss,
                                             dead_fraction_table, first_steps_table, offset_variance,
                                             one_channel_unit, preactivations)
from course_utils.runs import TrainingRun


# --- signals ------------------------------------------------------------------

def test_bump_signals_are_deterministic_float32_with_offsets_of_both_signs():
    a, b = bump_signals(16), bump_signals(16)
    assert a.shape == (16, 1024) and a.dtype == np.float32
    assert np.array_equal(a, b)
    assert not np.array_equal(a, bump_signals(16, seed=1))
    offsets = a[:, :50].mean(axis=1)  # the bumps sit in the middle: the edges are the offset
    assert (offsets > 0).sum() == 8 and (offsets < 0).sum() == 8
    assert np.all(np.abs(offsets) >= 0.09) and np.all(np.abs(offsets) <= 1.0)


def test_bump_signals_have_one_bump_above_the_offset():
    x = bump_signals(4, length=256)
    offsets = x[:, :10].mean(axis=1, keepdims=True)
    heights = (x - offsets).max(axis=1)
    assert np.all(heights >= 0.45) and np.all(heights <= 1.5)  # amplitudes are drawn in [0.5, 1.5]


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "16"])
def test_bump_signals_refuse_a_bad_count(bad):
    with pytest.raises(ValueError):
        bump_signals(bad)


def test_offset_variance_known_answers():
    assert offset_variance(np.ones((1, 8))) == 0.0
    x = np.array([[1.0, 1.0], [-1.0, -1.0]])  # mean signal 0: every value is 1 away from it
    assert offset_variance(x) == pytest.approx(1.0)
    x = np.array([[0.0, 2.0], [2.0, 2.0]])    # column means 1 and 2: squared errors 1, 0, 1, 0
    assert offset_variance(x) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        offset_variance(np.zeros(4))


def test_preactivations_read_the_input_of_each_activation_even_in_place():
    net = nn.Sequential(nn.Linear(1, 2), nn.ReLU(inplace=True), nn.Linear(2, 1), nn.LeakyReLU(0.1))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0], [-1.0]]))
        net[0].bias.copy_(torch.tensor([0.0, -1.0]))
        net[2].weight.copy_(torch.tensor([[1.0, 1.0]]))
        net[2].bias.fill_(-5.0)
    x = torch.tensor([[2.0], [-3.0]])
    pre = preactivations(net, x)
    assert list(pre) == ["1 ReLU", "3 LeakyReLU"]
    # into the ReLU: [2, -3] and [-3, 2]; the in-place ReLU must not have overwritten what was recorded
    np.testing.assert_allclose(pre["1 ReLU"], [[2.0, -3.0], [-3.0, 2.0]])
    np.testing.assert_allclose(pre["3 LeakyReLU"], [[2.0 - 5.0], [2.0 - 5.0]])
    # no hooks are left behind
    assert not net[1]._forward_pre_hooks and not net[3]._forward_pre_hooks


# --- what the lesson prints ----------------------------------------------------

def test_coarse_loss_reads_a_final_loss_in_two_bounds():
    assert coarse_loss(0.0004) == "< 0.001"
    assert coarse_loss(0.001) == "< 0.3" and coarse_loss(0.2999) == "< 0.3"
    assert coarse_loss(0.3) == "0.300" and coarse_loss(0.4703) == "0.470"


def _run_with_dead_fractions(*fractions):
    """A run whose readings hold these {layer: dead fraction} dicts, one per sampled step."""
    readings = [{"step": 5 * i, "dead_fraction": dict(f)} for i, f in enumerate(fractions)]
    return TrainingRun(np.array([1.0, 0.5]), sampled_steps=[r["step"] for r in readings], readings=readings)


def test_dead_fraction_table_is_steps_by_layers_in_the_models_order():
    run = _run_with_dead_fractions({"enc1_act": 0.0, "dec5_act": 0.0}, {"enc1_act": 0.25, "dec5_act": 1.0})
    layers, table = dead_fraction_table(run)
    assert layers == ["enc1_act", "dec5_act"]
    np.testing.assert_array_equal(table, [[0.0, 0.0], [0.25, 1.0]])


def _one_channel_net(activation):
    """Layers named like the lesson's one-channel stretch, so that the instruments name them alike."""
    from collections import OrderedDict
    return nn.Sequential(OrderedDict([("dec5_conv", nn.Linear(2, 1)), ("dec5_act", activation), ("out", nn.Linear(1, 2))]))


def test_one_channel_unit_tells_dead_alive_leaky_and_missing_apart():
    relu, leaky = _one_channel_net(nn.ReLU()), _one_channel_net(nn.LeakyReLU(0.01))
    dead = _run_with_dead_fractions({"enc1_act": 0.0, "dec5_act": 1.0})
    alive = _run_with_dead_fractions({"enc1_act": 1.0, "dec5_act": 0.0})
    assert one_channel_unit(relu, dead) == "dead"
    assert one_channel_unit(relu, alive) == "alive"        # a dead *wide* layer elsewhere does not count
    assert one_channel_unit(leaky, dead) == "leaks below 0"
    assert one_channel_unit(relu, _run_with_dead_fractions({"enc1_act": 0.0})) == "no activation"
    assert "dec5_act" in ONE_CHANNEL


def test_first_steps_table_marks_the_machine_figures_and_the_dead_rows():
    rows = [FirstStep(0, 0.111, 0.145, 0.055, 0.155, float("nan")), FirstStep(5, -2.886, -0.079, 0.685, 0.144, 0.11)]
    header, first, dead = first_steps_table(rows).splitlines()
    assert header.startswith("step  into dec5_act")
    assert first == "   0     ≈0.111 ..  ≈0.145                ≈0.055          +0.155                "
    assert dead == "   5    ≈-2.886 .. ≈-0.079  (dead)        ≈0.685          +0.144           ≈0.11"


def test_panel_wiring_refuses_long_runs_and_reports_the_one_channel_path():
    assert PanelWiring.check(dict(steps=100, signals=16)) is None
    assert "at most 1600 signal-steps" in PanelWiring.check(dict(steps=110, signals=16))
    dead = _run_with_dead_fractions({"dec4_act": 0.0, "dec5_act": 1.0, "tail_act": 0.0})
    alive = _run_with_dead_fractions({"dec4_act": 1.0, "dec5_act": 0.5, "tail_act": 0.0})
    assert PanelWiring.describe(dead).endswith("; one-channel path: all inputs <= 0")
    assert PanelWiring.describe(alive).endswith("; one-channel path: alive")



def test_panel_wiring_trains_the_first_signals_from_the_seed_and_draws_them():
    from matplotlib.figure import Figure

    class Progress:
        def on_sample(self, total_steps):
            return lambda run: False

    def tiny_autoencoder(activation, slope):
        return nn.Sequential(nn.Linear(16, 4), nn.LeakyReLU(slope) if activation == "leaky" else nn.ReLU(),
                             nn.Linear(4, 16))

    wiring = PanelWiring(tiny_autoencoder, torch.from_numpy(bump_signals(4, length=16)))
    values = dict(activation="relu", slope=0.01, lr=1e-2, signals=3, steps=30, seed=2)
    run = wiring.train(values, Progress())
    again = wiring.train(values, Progress())
    assert run.steps_done == 30 and tuple(wiring.x.shape) == (3, 16)
    np.testing.assert_array_equal(run.losses, again.losses)        # seeded: the same run twice
    assert run.sampled_steps == list(range(0, 30, 2)) + [30] and "dead_fraction" in run.readings[-1]
    fig = Figure()
    wiring.draw(fig, run, values)
    assert len(fig.axes) == 2 and fig.axes[1].get_legend() is not None


# --- the lab check on hand-written answers -------------------------------------

def _fixed_model():
    model = dying_relu.broken_model()
    for module in model:
        if isinstance(module, nn.Linear):
            nn.init.zeros_(module.bias)
    return model


def _evidence(result):
    return " ".join(result.evidence)


def test_lab_data_is_standardised():
    x, y = dying_relu.lab_data()
    assert tuple(x.shape) == (256, 4) and tuple(y.shape) == (256, 1)
    assert float(y.mean()) == pytest.approx(0.0, abs=1e-5)
    assert float(y.var(unbiased=False)) == pytest.approx(1.0, rel=1e-4)


def test_broken_model_has_whole_layers_dead_before_training():
    x, _ = dying_relu.lab_data()
    calls, _ = dying_relu.linear_trace(dying_relu.broken_model(), x)
    dead = dying_relu.hidden_dead_fractions(calls)
    assert list(dead) == ["layer 1", "layer 2", "layer 3", "layer 4"]
    assert sum(v == 1.0 for v in dead.values()) >= 2


def test_check_fails_the_shipped_model_and_names_the_dead_layers():
    result = dying_relu.check_build_model(dying_relu.broken_model)
    assert not result.passed
    assert "dead for every sample" in _evidence(result)
    assert "100%" in _evidence(result)


def test_check_passes_zero_biases():
    result = dying_relu.check_build_model(_fixed_model)
    assert result.passed, result
    assert "dead units before training" in _evidence(result) and "after" in _evidence(result)


def test_check_refuses_a_model_without_relu_layers():
    result = dying_relu.check_build_model(lambda: nn.Sequential(nn.Linear(4, 64), nn.Tanh(), nn.Linear(64, 1)))
    assert not result.passed and "not the lab's ReLU network" in _evidence(result) and "Tanh" in _evidence(result)


def test_check_refuses_a_pretrained_model():
    """A hard-coded answer: a model trained before the check sees it."""
    model = _fixed_model()
    x, y = dying_relu.lab_data()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(300):
        optimizer.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
    result = dying_relu.check_build_model(lambda: model)
    assert not result.passed and "fits before any training" in _evidence(result)


def test_check_refuses_leaky_relu_before_training():
    """The task says to keep the ReLU network: a leak is measured and refused, not trained."""
    def leaky_shipped():
        return nn.Sequential(*[nn.LeakyReLU(0.01) if isinstance(m, nn.ReLU) else m for m in dying_relu.broken_model()])
    result = dying_relu.check_build_model(leaky_shipped)
    assert not result.passed
    assert "non-zero values for negative pre-activations" in _evidence(result) and "LeakyReLU" in _evidence(result)
    assert "dead units after" not in _evidence(result)  # refused before the check trains it


@pytest.mark.parametrize("answer, words", [
    (42, "expected a function"),
    (lambda: "a model", "must return a torch.nn.Module"),
    (lambda: 1 / 0, "ZeroDivisionError"),
    (lambda: nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1)),
     "on the lab's inputs (256, 4) raised RuntimeError"),
    (lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)), "Linear layers run 4 -> 8 -> 2"),
    (lambda: nn.Sequential(nn.ReLU()), "no nn.Linear layer ran"),
])
def test_check_never_raises_on_wrong_answers(answer, words):
    result = dying_relu.check_build_model(answer, steps=5)
    assert isinstance(result, labs.CheckResult)
    assert not result.passed
    assert words in _evidence(result) or words in result.hint, result


def test_trained_percent_prints_ranges_that_one_unit_does_not_change():
    assert dying_relu.trained_percent(0.0) == "0%" and dying_relu.trained_percent(1.0) == "100%"
    assert dying_relu.trained_percent(4 / 64) == dying_relu.trained_percent(5 / 64) == "< 10%"
    assert dying_relu.trained_percent(0.2) == "10-49%" and dying_relu.trained_percent(0.5) == "50-99%"


def test_check_reports_dead_fractions_after_training_in_ranges():
    result = dying_relu.check_build_model(_fixed_model)
    after = next(line for line in result.evidence if line.startswith("dead units after"))
    assert "< 10%" in after or "0%" in after


# --- answers a student might give ---
# Each is a build_model() as a student might write it in the exercise cell. The task says: keep it a
# ReLU network of the same shape. A wrong answer must be refused with evidence that names what it did;
# a valid one, different from the official fix, must pass.

def _lab_network(activation=nn.ReLU, bias=0.0, norm=None, sizes=(4, 64, 64, 64, 64, 1), he=True):
    """The shipped network's layers, with another activation, bias, normalisation or sizes."""
    layers = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        layers.append(nn.Linear(n_in, n_out))
        if n_out != sizes[-1]:
            layers += ([norm(n_out)] if norm else []) + [activation()]
    model = nn.Sequential(*layers)
    for layer in model:
        if he and isinstance(layer, nn.Linear):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.constant_(layer.bias, bias)
    return model


def _biases(*values):
    """The shipped network with these biases, layer by layer (a partial fix)."""
    def build_model():
        model = _lab_network()
        for layer, value in zip([m for m in model if isinstance(m, nn.Linear)], values):
            nn.init.constant_(layer.bias, value)
        return model
    return build_model


class FunctionalNet(nn.Module):
    """The network written with F.relu (or another function) in forward, not ReLU modules."""

    def __init__(self, activation=torch.relu, bias=0.01):
        super().__init__()
        self.hidden = nn.ModuleList([nn.Linear(4, 64)] + [nn.Linear(64, 64) for _ in range(3)])
        self.out = nn.Linear(64, 1)
        self.activation = activation
        for layer in [*self.hidden, self.out]:
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.constant_(layer.bias, bias)

    def forward(self, x):
        for layer in self.hidden:
            x = self.activation(layer(x))
        return self.out(x)


class SharedWeights(nn.Module):
    """Wrong: one 64 -> 64 layer used three times (the right sizes, a third of the weights)."""

    def __init__(self):
        super().__init__()
        self.first, self.middle, self.out = nn.Linear(4, 64), nn.Linear(64, 64), nn.Linear(64, 1)

    def forward(self, x):
        x = torch.relu(self.first(x))
        for _ in range(3):
            x = torch.relu(self.middle(x))
        return self.out(x)


class RemembersTargets(nn.Module):
    """A cheat: the fixed network plus a lookup of the lab's targets, added to its output."""

    def __init__(self):
        super().__init__()
        self.net = _lab_network()
        x, y = dying_relu.lab_data()
        self.answers = {tuple(row.tolist()): float(target) for row, target in zip(x, y)}

    def forward(self, x):
        remembered = torch.tensor([[self.answers.get(tuple(row.tolist()), 0.0)] for row in x])
        return self.net(x) * 0.0 + remembered


class SlowNet(nn.Module):
    """Never finishes in time: a forward that waits (for a log line, say) at every call."""

    def __init__(self):
        super().__init__()
        self.net = _lab_network()

    def forward(self, x):
        time.sleep(0.1)
        return self.net(x)


def _build_forever():
    while True:
        pass


ANSWERS = [  # name, kind, build_model, passes, words in the evidence or hint
    ("LeakyReLU, biases kept at -2", "hides the symptom",
     lambda: _lab_network(lambda: nn.LeakyReLU(0.01), bias=-2.0), False,
     ["not the lab's ReLU network", "non-zero values for negative pre-activations", "LeakyReLU", "not in its layers"]),
    ("LeakyReLU and zero biases", "a different model than asked",
     lambda: _lab_network(lambda: nn.LeakyReLU(0.1)), False,
     ["non-zero values for negative pre-activations", "LeakyReLU"]),
    ("GELU written in forward", "a different model than asked", lambda: FunctionalNet(nn.functional.gelu), False,
     ["Linear layer 2 does not receive the positive pre-activations unchanged"]),
    ("BatchNorm after each layer, biases -2", "hides the symptom",
     lambda: _lab_network(bias=-2.0, norm=nn.BatchNorm1d), False,
     ["trainable parameters outside its Linear layers", "BatchNorm1d"]),
    ("parameter-free LayerNorm, biases -2", "hides the symptom",
     lambda: _lab_network(bias=-2.0, norm=lambda n: nn.LayerNorm(n, elementwise_affine=False)), False,
     ["Linear layer 2 does not receive the positive pre-activations unchanged", "LayerNorm"]),
    ("PReLU starting as a ReLU", "a different model than asked",
     lambda: _lab_network(lambda: nn.PReLU(init=0.0)), False,
     ["trainable parameters outside its Linear layers (1.weight", "PReLU"]),
    ("ReLU6", "a different model than asked", lambda: _lab_network(nn.ReLU6), False,
     ["does not receive the positive pre-activations unchanged", "ReLU6"]),
    ("wider and shallower", "a different model than asked", lambda: _lab_network(sizes=(4, 256, 1), bias=-2.0), False,
     ["its Linear layers run 4 -> 256 -> 1; the lab's network is 4 -> 64 -> 64 -> 64 -> 64 -> 1"]),
    ("one layer used three times", "a different model than asked", SharedWeights, False,
     ["one of its Linear layers runs more than once"]),
    ("targets remembered", "cheat (smuggled targets)", RemembersTargets, False,
     ["its output is not what its last Linear layer returns"]),
    ("biases at -1.5", "partial fix", _biases(-1.5, -1.5, -1.5, -1.5, -1.5), False,
     ["layer 4 is dead for every sample after training", "dead units before training", "Measure before you change"]),
    ("only the first layer fixed", "partial fix", _biases(0.0, -2.0, -2.0, -2.0, -2.0), False,
     ["layer 4 is dead for every sample after training", "Measure before you change"]),
    ("the class, not a model", "wrong type", lambda: FunctionalNet, False,
     ["got the class FunctionalNet itself", "FunctionalNet(), with the parentheses"]),
    ("a forward that crashes", "crashes", lambda: nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(4, 1)), False,
     ["forward pass on the lab's inputs (256, 4) raised RuntimeError", "Keep the lab's network"]),
    ("build_model never returns", "never returns", _build_forever, False,
     ["build_model() ran for more than 1 s", "a loop in it that never ends"]),
    ("a forward that waits", "never returns", SlowNet, False,
     ["training your model ran for more than 1 s", "a wait or a loop in your model's forward"]),
    ("PyTorch's default initialisation", "valid", lambda: _lab_network(he=False), True,
     ["the network is the lab's", "fits: below 0.05"]),
    ("F.relu in forward, small positive biases", "valid", FunctionalNet, True,
     ["the network is the lab's", "dead units before training: layer 1 0%"]),
    ("in-place ReLU, zero biases", "valid", lambda: _lab_network(lambda: nn.ReLU(inplace=True)), True,
     ["the network is the lab's", "fits: below 0.05"]),
]
INTERNAL_NAMES = ("linear_trace", "_measure", "_train", "course_utils")


@pytest.mark.parametrize("name, kind, build_model, passes, words", ANSWERS, ids=[a[0] for a in ANSWERS])
def test_answers_a_student_might_give(name, kind, build_model, passes, words, monkeypatch):
    # for answers that never return, limits of 1 s instead of the lab's: the verdict is the same, it only comes
    # sooner; every other answer keeps the lab's limits, which a busy machine can need
    if kind == "never returns":
        monkeypatch.setattr(dying_relu, "BUILD_LIMIT_S", 1)
        monkeypatch.setattr(dying_relu, "TRAIN_LIMIT_S", 1 if build_model is SlowNet else dying_relu.TRAIN_LIMIT_S)
    result = dying_relu.check_build_model(build_model)
    said = _evidence(result) + " " + result.hint
    assert result.passed == passes, str(result)
    for word in words:
        assert word in said, str(result)
    assert not any(internal in said for internal in INTERNAL_NAMES), str(result)
