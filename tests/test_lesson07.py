"""Lesson 07 (the loss and the output disagree): the outputs instrument, the lesson's module, diagnose on the
family in both frameworks, and the lab check against answers a student might give."""
import math
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import course_utils as cu
from course_utils.checks.loss_and_output_disagree import check_tagger, lab_data, tag_probabilities
from course_utils.instruments.outputs import (batch_axis_floor, multi_hot_floor, probabilities_into_logits_floor,
                                               read_outputs)
from course_utils.lessons.loss_and_output_disagree import (FamilyPanel, asker_data, bias_free_floor, digits_targets,
                                                           family_table, run_case)

cu.setup(frameworks=("torch", "tensorflow"))


def quiet_loss(loss, out, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(loss(out, y))


# --- the instrument: readings and floors, each floor reached by the best outputs of its structure -------------

def test_broadcast_in_torch_compares_every_output_with_every_target_and_the_floor_is_the_variance():
    y = torch.tensor([1.0, 2.0, 4.0, 7.0])
    reading = read_outputs(torch.zeros(4, 1), y, nn.MSELoss())
    assert reading.compared_shape == (4, 4)
    assert reading.mismatches == ["target-shape-broadcast"]
    assert reading.floor == pytest.approx(float(y.var(unbiased=False)))
    best = torch.full((4, 1), float(y.mean()))  # the mean for every sample reaches the floor exactly
    assert quiet_loss(nn.MSELoss(), best, y) == pytest.approx(reading.floor, rel=1e-6)
    assert read_outputs(y.unsqueeze(1), y.unsqueeze(1), nn.MSELoss()).mismatches == []


def test_keras_lines_up_n_by_1_outputs_with_n_targets():
    y = np.array([1.0, 2.0, 4.0, 7.0], dtype=np.float32)
    reading = read_outputs(y[:, None], y, "mse")
    assert reading.compared_shape == (4, 1) and reading.mismatches == [] and reading.loss == pytest.approx(0.0)


def test_one_unit_always_1_is_named_and_its_floor_is_its_only_loss():
    y = torch.tensor([[0.0], [1.0], [1.0], [0.0]])
    reading = read_outputs(torch.ones(4, 1), y, nn.BCELoss())
    assert reading.mismatches == ["one-unit-softmax"]
    assert reading.floor == reading.loss == pytest.approx(50.0)  # torch clamps log(0) at -100: half the rows cost 100


def test_probabilities_into_cross_entropy_cannot_go_below_ln_1_plus_k_minus_1_over_e():
    y = torch.tensor([0, 3, 2, 1])
    best = nn.functional.one_hot(y, 4).float()  # the best probability rows: one-hot
    reading = read_outputs(torch.full((4, 4), 0.25), y, nn.CrossEntropyLoss())
    assert reading.mismatches == ["softmax-before-crossentropy"]
    assert reading.floor == pytest.approx(math.log(1 + 3 / math.e))
    assert float(nn.CrossEntropyLoss()(best, y)) == pytest.approx(reading.floor, rel=1e-6)


def test_sigmoid_into_bce_with_logits_floor_is_reached_by_outputs_equal_to_the_targets():
    y = torch.tensor([[0.0], [1.0], [1.0]])
    floor = probabilities_into_logits_floor(y.numpy(), "binary_cross_entropy", 1)
    assert floor == pytest.approx((math.log(2) + 2 * math.log(1 + math.exp(-1))) / 3)
    assert float(nn.BCEWithLogitsLoss()(y, y)) == pytest.approx(floor, rel=1e-6)
    assert read_outputs(torch.full((3, 1), 0.5), y, nn.BCEWithLogitsLoss()).mismatches == ["softmax-before-crossentropy"]


def test_log_softmax_over_the_batch_axis_is_named_and_its_floor_is_reached_by_sharing_each_class():
    y = torch.tensor([0, 0, 1, 2, 2, 2])
    reading = read_outputs(torch.log_softmax(torch.randn(6, 3), dim=0), y, nn.NLLLoss())
    assert reading.mismatches == ["softmax-over-batch"]
    counts = torch.bincount(y).double()
    best = torch.where(nn.functional.one_hot(y, 3).bool(), 1 / counts[y].unsqueeze(1), torch.full((6, 3), 1e-12))
    best = best / best.sum(dim=0)  # each column sums to 1: 1/(samples of the class) on each of its samples
    assert float(nn.NLLLoss()(best.log(), y)) == pytest.approx(batch_axis_floor(y.numpy()), abs=1e-6)
    assert reading.floor == pytest.approx(np.mean(np.log([2, 2, 1, 3, 3, 3])))


def test_softmax_rows_against_multi_hot_rows_floor_is_reached_by_splitting_each_row():
    y = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    reading = read_outputs(torch.softmax(torch.randn(4, 3), dim=1), y, nn.BCELoss())
    assert "output-cannot-reach-target" in reading.mismatches
    best = torch.tensor([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [1 / 3, 1 / 3, 1 / 3]])
    assert float(nn.BCELoss()(best, y)) == pytest.approx(multi_hot_floor(y.numpy(), "binary_cross_entropy"), rel=1e-5)
    assert reading.floor == pytest.approx(multi_hot_floor(y.numpy(), "binary_cross_entropy"))


def test_logits_into_nll_has_no_floor_and_a_healthy_head_has_no_mismatch():
    y = torch.tensor([0, 1, 2])
    assert read_outputs(torch.randn(3, 3), y, nn.NLLLoss()).floor == -math.inf
    healthy = read_outputs(torch.randn(3, 3), y, nn.CrossEntropyLoss())
    assert healthy.mismatches == [] and healthy.floor is None and healthy.gradient_zeros == 0


def test_keras_logits_into_a_probability_loss_get_no_gradient_where_clipped():
    import keras

    logits = np.array([[2.0, -1.0, 0.5], [-3.0, 1.0, -0.2]], dtype=np.float32)
    reading = read_outputs(logits, np.array([0, 1]), keras.losses.SparseCategoricalCrossentropy())
    assert reading.mismatches == ["logits-into-probability-loss"]
    assert reading.gradient_zeros >= 3  # at least the three negative scores: clipped, they pass nothing back
    assert read_outputs(logits, np.array([0, 1]), keras.losses.SparseCategoricalCrossentropy(from_logits=True)).gradient_zeros == 0


def test_the_reading_works_inside_no_grad_and_prints_what_it_found():
    with torch.no_grad():
        reading = read_outputs(torch.zeros(5, 1), torch.arange(5.0), nn.MSELoss())
    text = str(reading)
    assert "compares (5, 5)" in text and "floor 2.00" in text and "target-shape-broadcast" in text


# --- the lesson's module ------------------------------------------------------------------------------------

def test_the_asker_plateau_is_the_bias_free_floor_computed_from_the_data():
    x, y = asker_data()
    variance, floor = bias_free_floor(x, y)
    assert variance == pytest.approx(0.25, abs=0.02)  # the sum of three uniforms has variance 3/12
    assert variance < floor < 0.5  # the asker's "about 0.5"
    model = nn.Linear(3, 1, bias=False)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(300):
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2).mean()  # (1024, 1) - (1024,): the broadcast, written out
        loss.backward()
        optimizer.step()
    assert loss.item() == pytest.approx(floor, rel=1e-3)


def test_a_broken_head_stops_at_its_floor_and_its_fix_does_not():
    x, targets = digits_targets()
    broken = run_case("softmax into CE", lambda: nn.Sequential(nn.Linear(32, 10), nn.Softmax(dim=1)),
                      nn.CrossEntropyLoss(), x, targets["class"])
    fixed = run_case("logits into CE", lambda: nn.Linear(32, 10), nn.CrossEntropyLoss(), x, targets["class"])
    assert broken.reached >= broken.before.floor - 1e-6
    assert broken.reached < broken.before.floor + 0.01
    assert fixed.reached < 0.01 and fixed.before.floor is None
    table = family_table([broken, fixed])
    assert "floor + < 0.01" in table.splitlines()[1] and "none" in table.splitlines()[2]


def test_one_unit_softmax_passes_exactly_zero_gradient_and_the_loss_never_changes():
    x, targets = digits_targets()
    run = run_case("one unit", lambda: nn.Sequential(nn.Linear(32, 1), nn.Softmax(dim=1)), nn.BCELoss(), x,
                   targets["odd"], steps=50, lr=1.0)
    assert (run.zero_layers, run.layers) == (2, 2)
    assert len(set(run.run.losses.tolist())) == 1


def test_the_panel_refuses_long_runs_and_draws_a_run_in_progress():
    from matplotlib.figure import Figure

    wiring = FamilyPanel({"one": ((lambda: nn.Linear(32, 10), nn.CrossEntropyLoss(), "class"),) * 2})
    assert "at most" in wiring.check({"steps": 5000})
    assert wiring.check({"steps": 200}) is None
    result = run_case("one", lambda: nn.Linear(32, 10), nn.CrossEntropyLoss(), wiring.x, wiring.targets["class"], steps=20)
    for shown in (result, result.run):  # the finished CaseRun, and the TrainingRun the progress redraws
        fig = Figure()
        FamilyPanel.draw(fig, shown, {"case": "one"})
        assert len(fig.axes[0].lines[0].get_xdata()) == 20


# --- diagnose names each case, in both frameworks ---------------------------------------------------------

def torch_case(head, loss, target):
    x, targets = digits_targets()
    cu.seed(0)
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), head), x, targets[target], loss


TORCH_CASES = [
    ("(n, 1) vs (n,) MSELoss", lambda: torch_case(nn.Linear(32, 1), nn.MSELoss(), "value"), "target-shape-broadcast"),
    ("softmax over one unit", lambda: torch_case(nn.Sequential(nn.Linear(32, 1), nn.Softmax(dim=1)), nn.BCELoss(), "odd"),
     "one-unit-softmax"),
    ("softmax into CrossEntropyLoss", lambda: torch_case(nn.Sequential(nn.Linear(32, 10), nn.Softmax(dim=1)),
                                                         nn.CrossEntropyLoss(), "class"), "softmax-before-crossentropy"),
    ("sigmoid into BCEWithLogitsLoss", lambda: torch_case(nn.Sequential(nn.Linear(32, 1), nn.Sigmoid()),
                                                          nn.BCEWithLogitsLoss(), "odd"), "softmax-before-crossentropy"),
    ("logits into NLLLoss", lambda: torch_case(nn.Linear(32, 10), nn.NLLLoss(), "class"), "logits-into-probability-loss"),
    ("log_softmax over the batch axis", lambda: torch_case(nn.Sequential(nn.Linear(32, 10), nn.LogSoftmax(dim=0)),
                                                           nn.NLLLoss(), "class"), "softmax-over-batch"),
    ("softmax for multi-hot tags", lambda: torch_case(nn.Sequential(nn.Linear(32, 3), nn.Softmax(dim=1)), nn.BCELoss(),
                                                      "tags"), "output-cannot-reach-target"),
]


def keras_case(n_out, activation, loss, target, final=None):
    import keras
    from keras import layers

    x, targets = digits_targets()
    cu.seed(0)
    stack = [keras.Input((64,)), layers.Dense(32, activation="relu"), layers.Dense(n_out, activation=activation)]
    return keras.Sequential(stack + ([final()] if final else [])), x.numpy(), targets[target].numpy(), loss


def keras_losses():
    import keras

    return keras.losses


KERAS_CASES = [
    ("softmax over one unit", lambda: keras_case(1, "softmax", "binary_crossentropy", "odd"), "one-unit-softmax"),
    ("Dense(10) into from_logits=False", lambda: keras_case(10, None, keras_losses().SparseCategoricalCrossentropy(),
                                                            "class"), "logits-into-probability-loss"),
    ("softmax into from_logits=True", lambda: keras_case(
        10, "softmax", keras_losses().SparseCategoricalCrossentropy(from_logits=True), "class"), "softmax-before-crossentropy"),
    ("softmax over the batch axis", lambda: keras_case(10, None, keras_losses().SparseCategoricalCrossentropy(), "class",
                                                       final=lambda: __import__("keras").layers.Softmax(axis=0)),
     "softmax-over-batch"),
    ("softmax for multi-hot tags", lambda: keras_case(3, "softmax", "binary_crossentropy", "tags"),
     "output-cannot-reach-target"),
]


@pytest.mark.parametrize("name, build, code", TORCH_CASES + KERAS_CASES,
                         ids=[f"torch {c[0]}" for c in TORCH_CASES] + [f"keras {c[0]}" for c in KERAS_CASES])
def test_diagnose_names_each_case(name, build, code):
    model, x, y, loss = build()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = cu.diagnose(model, x, y, loss=loss)
    assert code in report.codes, report


def test_diagnose_finds_no_broadcast_in_keras_which_lines_the_shapes_up():
    import keras
    from keras import layers

    x, y = asker_data()
    cu.seed(0)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1, use_bias=False)])
    report = cu.diagnose(model, x.numpy(), y.numpy(), loss="mse")
    assert "target-shape-broadcast" not in report.codes


# --- answers a student might give ---------------------------------------------------------------------------
# Each row: build_model, loss_fn, whether the check must pass, words that must be in its evidence + hint.

def body(*tail):
    return lambda: nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 4), *tail)


class SigmoidInForward(nn.Module):  # a valid alternative written as a module of its own
    def __init__(self):
        super().__init__()
        self.hidden, self.out = nn.Linear(8, 32), nn.Linear(32, 4)

    def forward(self, x):
        return torch.sigmoid(self.out(torch.relu(self.hidden(x))))


def train_set_memoriser():  # a cheat: answers the training targets whatever it is asked
    _, y = lab_data()

    class Memoriser(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(1))

        def forward(self, x):
            return (y[: len(x)] * self.scale).clamp(0, 1)
    return Memoriser()


def raises():
    raise ValueError("not written yet")


def never_returns():
    while True:
        pass


ANSWERS = [
    # name, kind, build_model, loss_fn, passes, words in the evidence + hint
    ("as shipped: softmax over the batch axis", "the bug", body(nn.Softmax(dim=0)), nn.BCELoss(), False,
     ["columns sum to 1", "change with the other homes", "COLUMN"]),
    ("softmax over the tags (dim=1)", "partial fix", body(nn.Softmax(dim=1)), nn.BCELoss(), False,
     ["rows sum to 1", "homes given two or more appliances: none", "compete"]),
    ("log_softmax(dim=1) into BCEWithLogitsLoss", "fix that hides the symptom", body(nn.LogSoftmax(dim=1)),
     nn.BCEWithLogitsLoss(), False, ["log-probability rows", "held-out homes with all four tags right"]),
    ("sigmoid into BCEWithLogitsLoss", "wrong answer", body(nn.Sigmoid()), nn.BCEWithLogitsLoss(), False,
     ["every value in [0, 1]", "already in [0, 1]"]),
    ("raw scores into BCELoss", "crashes in the loss", body(), nn.BCELoss(), False,
     ["raised RuntimeError", "BCELoss needs probabilities"]),
    ("one output per home", "wrong shape", lambda: nn.Sequential(nn.Linear(8, 1), nn.Sigmoid()), nn.BCELoss(), False,
     ["shape (512, 4)", "it returned (512, 1)"]),
    ("memorises the training tags", "cheat", train_set_memoriser, nn.BCELoss(), False,
     ["held-out homes with all four tags right"]),
    ("build_model raises", "crashes", raises, nn.BCELoss(), False, ["raised ValueError: not written yet"]),
    ("build_model never returns", "never returns", never_returns, nn.BCELoss(), False, ["ran for more than"]),
    ("logits into BCEWithLogitsLoss", "the official fix", body(), nn.BCEWithLogitsLoss(), True,
     ["held-out homes with all four tags right: 100%"]),
    ("sigmoid into BCELoss", "valid alternative", body(nn.Sigmoid()), nn.BCELoss(), True,
     ["do not depend on the rest of its batch"]),
    ("sigmoid inside forward, BCELoss", "valid alternative", SigmoidInForward, nn.BCELoss(), True,
     ["held-out homes with all four tags right"]),
]


@pytest.mark.parametrize("name, kind, build_model, loss_fn, passes, words", ANSWERS, ids=[a[0] for a in ANSWERS])
def test_the_check_on_answers_a_student_might_give(name, kind, build_model, loss_fn, passes, words, monkeypatch):
    if kind == "never returns":  # stopped after 2 s, not the check's 60; every other answer keeps the real limit,
        from course_utils.checks import loss_and_output_disagree as lab  # which a busy machine can need

        monkeypatch.setattr(lab, "TIME_LIMIT_S", 2)
    result = check_tagger(build_model, loss_fn)
    text = "\n".join(result.evidence) + "\n" + result.hint
    assert result.passed == passes, text
    for word in words:
        assert word in text, f"{word!r} not in:\n{text}"


def test_the_check_reads_outputs_as_the_loss_reads_them():
    scores = torch.tensor([[-2.0, 2.0]])
    assert torch.equal(tag_probabilities(scores, nn.BCEWithLogitsLoss()) > 0.5, torch.tensor([[False, True]]))
    assert torch.equal(tag_probabilities(scores, nn.BCELoss()), scores)
