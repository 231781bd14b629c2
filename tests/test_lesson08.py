"""Lesson 08: the update instruments (both frameworks), the family of loops that never move the weights,
the lab check against a table of answers, and what diagnose / watch name."""
import time

import numpy as np
import pytest

import course_utils as cu

cu.setup(frameworks=("torch", "tensorflow"))

import keras  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from course_utils.checks import weights_never_move as lab  # noqa: E402
from course_utils.instruments.updates import (describe_ratios, grad_states, optimizer_coverage,  # noqa: E402
                                              regularised_loss, step_ratios)
from course_utils.lessons.weights_never_move import (MEMORISED, NameRNN, family_table, name_data,  # noqa: E402
                                                     overfit_case)


# --- the instruments, PyTorch ---------------------------------------------------------------

def two_layers():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def test_coverage_of_an_optimizer_over_another_model_and_over_part_of_one():
    model = two_layers()
    other = torch.optim.SGD(two_layers().parameters(), lr=0.1)
    coverage = optimizer_coverage(model, other)
    assert coverage.held == () and coverage.foreign == 4 and not coverage.complete
    assert "none of them" in coverage.verdict  # diagnose's own words (setup_checks)
    part = optimizer_coverage(model, torch.optim.SGD(model[2].parameters(), lr=0.1))
    assert part.held == ("2.weight", "2.bias") and part.missing == ("0.weight", "0.bias") and part.foreign == 0
    assert optimizer_coverage(model, torch.optim.SGD(model.parameters(), lr=0.1)).complete


def test_coverage_names_frozen_layers():
    model = two_layers()
    model[0].requires_grad_(False)
    coverage = optimizer_coverage(model, torch.optim.SGD(model.parameters(), lr=0.1))
    assert coverage.frozen_layers == ("0",) and coverage.trainable == ("2.weight", "2.bias") and coverage.complete


def test_grad_states_tell_none_from_zero_from_a_gradient():
    model = two_layers()
    x, y = torch.ones(5, 3), torch.zeros(5, dtype=torch.long)
    assert grad_states(model).count("none") == 4
    nn.functional.cross_entropy(model(x), y).backward()
    model[2].bias.grad.zero_()
    states = grad_states(model).states
    assert states["2.bias"] == "zero" and states["0.weight"] == "nonzero"
    model[0].requires_grad_(False)
    fresh = grad_states(model, x, y, nn.functional.cross_entropy)
    assert fresh.states["0.weight"] == "none" and fresh.states["2.weight"] == "nonzero"
    assert "None for 2" in str(fresh)


def test_step_ratios_are_exactly_zero_where_nothing_moves_and_count_frozen_layers():
    model = two_layers()
    model[0].requires_grad_(False)
    x, y = torch.randn(8, 3), torch.zeros(8, dtype=torch.long)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def step():
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    ratios = step_ratios(model, step, steps=2)
    assert set(ratios) == {"0", "2"} and ratios["0"] == 0.0 and 1e-4 < ratios["2"] < 1
    assert describe_ratios(ratios).startswith("1 of 2 layers did not move at all")
    assert all(r == 0.0 for r in step_ratios(model, lambda: None).values())


def test_regularised_loss_sees_dropout_and_weight_decay_and_leaves_the_model_alone():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 16), nn.Dropout(0.5), nn.Linear(16, 1))
    model.eval()
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=0.2)
    rng_before = torch.random.get_rng_state()
    reading = regularised_loss(model, x, y, nn.functional.mse_loss, optimizer)
    assert not model.training and torch.equal(rng_before, torch.random.get_rng_state())
    with torch.no_grad():
        assert reading.inference == pytest.approx(float(nn.functional.mse_loss(model(x), y)), rel=1e-6)
    assert reading.training != reading.inference and reading.weight_decay == 0.2
    squares = sum(float((p.detach().double() ** 2).sum()) for p in model.parameters())
    assert reading.penalty == pytest.approx(0.1 * squares)
    assert regularised_loss(model, x, y, nn.functional.mse_loss).penalty == 0.0


# --- the instruments, Keras ----------------------------------------------------------------

def keras_net(dropout=0.0):
    cu.seed(0)
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(8, activation="relu", name="hidden"),
                             keras.layers.Dropout(dropout), keras.layers.Dense(2, name="out")])


def test_keras_coverage_before_and_after_build_and_with_a_frozen_layer():
    model = keras_net()
    model.get_layer("hidden").trainable = False
    optimizer = keras.optimizers.SGD(0.1)
    assert not optimizer_coverage(model, optimizer).built
    optimizer.build(model.trainable_variables)
    coverage = optimizer_coverage(model, optimizer)
    assert coverage.complete and coverage.frozen_layers == ("hidden",) and len(coverage.trainable) == 2
    elsewhere = keras.optimizers.SGD(0.1)
    elsewhere.build(keras_net().trainable_variables)
    assert optimizer_coverage(model, elsewhere).held == () and optimizer_coverage(model, elsewhere).foreign == 4


def test_keras_step_ratios_grad_states_and_dropout_loss():
    x, y = np.random.default_rng(0).normal(size=(16, 3)).astype("float32"), np.arange(16) % 2
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model = keras_net(dropout=0.5)
    model.get_layer("hidden").trainable = False
    model.compile(keras.optimizers.SGD(0.1), loss)
    ratios = step_ratios(model, lambda: model.fit(x, y, epochs=1, verbose=0), steps=2)
    assert ratios["hidden"] == 0.0 and ratios["out"] > 0
    states = {path.split("/", 1)[-1] if path.count("/") > 1 else path: s
              for path, s in grad_states(model, x, y, loss).states.items()}
    assert states["out/kernel"] == "nonzero" and states["hidden/kernel"] == "none"
    reading = regularised_loss(model, x, y, loss)
    assert reading.training != reading.inference and reading.penalty == 0.0
    with pytest.raises(TypeError, match="Keras keeps no .grad"):
        grad_states(model)


# --- the lesson's family -----------------------------------------------------------------------

def test_name_data_is_the_same_every_time_and_one_hot():
    a, b = name_data(), name_data()
    assert torch.equal(a[0], b[0]) and a[4] == b[4]
    assert set(a[0].sum(dim=2).unique().tolist()) == {0.0, 1.0} and set(a[1].tolist()) == {0, 1, 2, 3}


@pytest.mark.parametrize("switches", [dict(freeze=True), dict(wrong_optimizer=True), dict(skip_step=True),
                                      dict(detach_loss=True)])
def test_each_bug_leaves_every_weight_exactly_where_it_was(switches):
    run = overfit_case(steps=20, **switches)
    assert all(r == 0.0 for r in run.ratios.values())
    assert len(set(run.losses)) == 1 and not run.memorised


def test_the_family_is_told_apart_by_its_instruments():
    frozen, wrong = overfit_case(steps=5, freeze=True), overfit_case(steps=5, wrong_optimizer=True)
    skipped, detached = overfit_case(steps=5, skip_step=True), overfit_case(steps=5, detach_loss=True)
    assert frozen.grads.count("none") == 4 and frozen.coverage.trainable == ()
    assert wrong.grads.count("nonzero") == 4 and wrong.coverage.held == () and wrong.coverage.foreign == 4
    assert skipped.grads.count("nonzero") == 4 and skipped.coverage.complete
    assert detached.grads.count("none") == 4 and detached.coverage.complete


def test_healthy_memorises_dropout_hides_it_and_weight_decay_prevents_it():
    healthy = overfit_case()
    assert healthy.memorised and healthy.clean_loss < MEMORISED
    dropout = overfit_case(dropout=0.5)
    assert not dropout.memorised and dropout.clean_loss < MEMORISED
    decay = overfit_case(weight_decay=0.1)
    assert not decay.memorised and decay.clean_loss > 0.1
    table = family_table({"healthy": healthy, "dropout": dropout})
    assert "< 0.05" in table and "> 0.1" in table


def test_overfit_case_clamps_extreme_settings():
    run = overfit_case(steps=2, dropout=5.0, weight_decay=-1.0)
    assert run.switches["dropout"] == 0.9 and run.switches["weight_decay"] == 0.0


def test_the_panel_retrains_and_refuses_a_dropout_above_the_limit():
    from course_utils.lessons.weights_never_move import explore_panel

    panel = explore_panel()  # its speed is measured in the notebook, not asserted here (a timed test is flaky)
    panel.run()
    assert panel.last_result.memorised
    panel.live = False
    panel.set(wrong_optimizer=True)
    panel.run()
    assert all(r == 0 for r in panel.last_result.ratios.values())
    panel.set(wrong_optimizer=False, dropout=0.95)
    panel.run()
    assert panel.status_kind == "refused"


# --- the lab check: answers a student might give ---

def _loop(model, optimizer, x, y, steps, detach=False, step=True):
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        if detach:
            loss = torch.tensor(loss.item(), requires_grad=True)
        loss.backward()
        if step:
            optimizer.step()
    return model


def _freeze_and_swap(model):
    for p in model.encoder.parameters():
        p.requires_grad = False
    model.head = nn.Linear(model.head.in_features, 3)


def as_shipped(model, x, y, steps=200, lr=0.01):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    _freeze_and_swap(model)
    return _loop(model, optimizer, x, y, steps)


def official(model, x, y, steps=200, lr=0.01):
    _freeze_and_swap(model)
    return _loop(model, torch.optim.Adam(model.head.parameters(), lr=lr), x, y, steps)


def valid_trainable_filter(model, x, y, steps=200, lr=0.01):
    _freeze_and_swap(model)
    return _loop(model, torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr), x, y, steps)


def valid_sgd_momentum(model, x, y, steps=200, lr=0.01):
    _freeze_and_swap(model)
    return _loop(model, torch.optim.SGD(model.head.parameters(), lr=0.1, momentum=0.9), x, y, steps)


def valid_all_parameters_after_freezing(model, x, y, steps=200, lr=0.01):
    _freeze_and_swap(model)  # frozen tensors get no gradient, so Adam leaves them alone
    return _loop(model, torch.optim.Adam(model.parameters(), lr=lr), x, y, steps)


def unfreeze_encoder_keep_old_optimizer(model, x, y, steps=200, lr=0.01):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.head = nn.Linear(model.head.in_features, 3)
    return _loop(model, optimizer, x, y, steps)


def larger_learning_rate(model, x, y, steps=200, lr=0.01):
    return as_shipped(model, x, y, steps, lr=1.0)


def train_everything(model, x, y, steps=200, lr=0.01):
    model.head = nn.Linear(model.head.in_features, 3)
    return _loop(model, torch.optim.Adam(model.parameters(), lr=lr), x, y, steps)


def head_from_least_squares(model, x, y, steps=200, lr=0.01):
    _freeze_and_swap(model)
    with torch.no_grad():
        features = torch.cat([model.encoder(x), torch.ones(len(x), 1)], dim=1)
        solution = torch.linalg.lstsq(features, nn.functional.one_hot(y, 3).float()).solution
        model.head.weight.copy_(solution[:-1].T)
        model.head.bias.copy_(solution[-1])
    return model


def loss_rebuilt_from_item(model, x, y, steps=200, lr=0.01):
    _freeze_and_swap(model)
    return _loop(model, torch.optim.Adam(model.head.parameters(), lr=lr), x, y, steps, detach=True)


def no_step(model, x, y, steps=200, lr=0.01):
    _freeze_and_swap(model)
    return _loop(model, torch.optim.Adam(model.head.parameters(), lr=lr), x, y, steps, step=False)


def keeps_old_head(model, x, y, steps=200, lr=0.01):
    for p in model.encoder.parameters():
        p.requires_grad = False
    return model


def crashes(model, x, y, steps=200, lr=0.01):
    raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")


def returns_optimizer(model, x, y, steps=200, lr=0.01):
    _freeze_and_swap(model)
    return torch.optim.Adam(model.head.parameters(), lr=lr)


def never_returns(model, x, y, steps=200, lr=0.01):
    while True:
        time.sleep(0.01)


ANSWERS = [  # (name, answer, passes, words the evidence or hint must contain)
    ("as shipped", as_shipped, False, "0 of them held the returned model's head"),
    ("official fix", official, True, "bit for bit"),
    ("valid: optimizer over the trainable tensors", valid_trainable_filter, True, "held the returned model's head"),
    ("valid: SGD with momentum over the head", valid_sgd_momentum, True, "held the returned model's head"),
    ("valid: all parameters, built after freezing", valid_all_parameters_after_freezing, True, "bit for bit"),
    ("partial: unfreeze the encoder, old optimizer", unfreeze_encoder_keep_old_optimizer, False,
     "encoder's weights changed"),
    ("hides the symptom: learning rate 100x", larger_learning_rate, False, "never passed through an optimizer step"),
    ("trains the encoder too", train_everything, False, "The pretrained encoder changed"),
    ("cheat: head from least squares", head_from_least_squares, False, "ran 0 optimizer step"),
    ("loss rebuilt from loss.item()", loss_rebuilt_from_item, False, "did not change at all"),
    ("no optimizer.step()", no_step, False, "ran 0 optimizer step"),
    ("wrong shape: keeps the 5-class head", keeps_old_head, False, "expected (4, 3)"),
    ("crashes", crashes, False, "raised RuntimeError"),
    ("returns the optimizer", returns_optimizer, False, "must return the model"),
    ("never returns", never_returns, False, "was stopped"),
]


@pytest.mark.parametrize("name, answer, passes, words", ANSWERS, ids=[a[0] for a in ANSWERS])
def test_lab_check_on_answers_a_student_might_give(name, answer, passes, words):
    result = lab.check_fine_tune(answer, time_limit_s=3)
    assert result.passed is passes, str(result)
    assert words in str(result) or words in result.hint, str(result)


def test_lab_check_refuses_something_that_is_not_a_function():
    result = lab.check_fine_tune("fine_tune")
    assert not result.passed and "expected a function" in str(result)


# --- what diagnose and watch name (issue 18) ---------------------------------------------------

def _batch():
    x, y, *_ = name_data()
    return x[:16], y[:16]


def _net(**kw):
    torch.manual_seed(0)
    return NameRNN(**kw)


def test_diagnose_names_frozen_parameters_and_an_optimizer_over_an_earlier_model():
    x, y = _batch()
    frozen = _net()
    optimizer = torch.optim.Adam(frozen.parameters(), 0.02)
    frozen.requires_grad_(False)
    assert "frozen-parameters" in cu.diagnose(frozen, x, y, nn.NLLLoss(), optimizer, steps=60).codes
    earlier = _net()
    model = _net()
    report = cu.diagnose(model, x, y, nn.NLLLoss(), torch.optim.SGD(earlier.parameters(), lr=0.005), steps=60)
    assert report.codes == ["optimizer-not-on-model"]


def test_diagnose_overfit_probe_switches_dropout_off():
    x, y = _batch()
    model = _net(dropout=0.5)
    report = cu.diagnose(model, x, y, nn.NLLLoss(), torch.optim.Adam(model.parameters(), 0.02), steps=100)
    assert "cannot-overfit" not in report.codes


def test_diagnose_says_its_probe_left_the_weight_decay_out():
    """The overfit test's rule: memorise with regularisation off, and say so (the probe uses its own Adam)."""
    x, y = _batch()
    model = _net()
    report = cu.diagnose(model, x, y, nn.NLLLoss(), torch.optim.Adam(model.parameters(), 0.02, weight_decay=0.1),
                         steps=100)
    assert any("your optimizer's weight decay 0.1 (the probe uses its own Adam)" in note for note in report.notes)


# watch on these loops (no step(), a loss cut from the graph, an optimizer over other tensors) is tested in
# tests/test_diagnose.py (watched): the lead's detector, one place.
