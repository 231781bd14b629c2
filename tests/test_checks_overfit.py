"""The lab 00 check must tell a correct overfit test from plausible wrong ones."""
import copy
import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from course_utils.checks import overfit_test as lab00
from course_utils.checks.overfit_test import (batch, check_overfit_test, loss_floor, make_model, make_narrow_model,
                                              make_stuck_model, repeated_rows_batch)


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """These tiny models train several times faster on one thread, more so on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def correct(model, x, y, steps=300, lr=1e-2):
    """The official answer."""
    return overfit(model, x, y, steps, lr)


def always_passes(model, x, y, steps=300, lr=1e-2):
    answer = correct(model, x, y, steps, lr)
    answer["passed"] = True
    return answer


def initial_measured_after_training(model, x, y, steps=300, lr=1e-2):
    answer = correct(model, x, y, steps, lr)
    with torch.no_grad():
        answer["initial_loss"] = F.cross_entropy(model(x), y).item()
    return answer


def trains_a_copy(model, x, y, steps=300, lr=1e-2):
    return correct(copy.deepcopy(model), x, y, steps, lr)


def wrong_chance(model, x, y, steps=300, lr=1e-2):
    answer = correct(model, x, y, steps, lr)
    answer["chance_loss"] = 0.1  # "one in ten"
    return answer


def raises(model, x, y, steps=300, lr=1e-2):
    raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")


def returns_a_tuple(model, x, y, steps=300, lr=1e-2):
    answer = correct(model, x, y, steps, lr)
    return tuple(answer.values())


def returns_tensors(model, x, y, steps=300, lr=1e-2):
    answer = correct(model, x, y, steps, lr)
    answer["final_loss"] = torch.tensor([answer["final_loss"], 0.0])
    return answer


def test_correct_test_passes():
    result = check_overfit_test(correct)
    assert result.passed, str(result)
    assert any("stuck model" in line and "failed it, as it should" in line for line in result.evidence)


@pytest.mark.parametrize(
    "wrong, expected_words",
    [
        (always_passes, "cannot learn, passed"),
        (initial_measured_after_training, "before the first optimizer step"),
        (trains_a_copy, "did not train the model it was given"),
        (wrong_chance, "ln 10"),
        (raises, "RuntimeError"),
        (returns_a_tuple, "returned a tuple"),
        (returns_tensors, "must be one number"),
        (lambda model, x, y, steps, lr: None, "returned None"),
    ],
)
def test_wrong_tests_are_not_accepted(wrong, expected_words):
    result = check_overfit_test(wrong)
    assert not result.passed
    assert expected_words in " ".join(result.evidence), result.evidence


def test_not_a_function():
    result = check_overfit_test("overfit_test")
    assert not result.passed and "expected a function" in result.evidence[0]


def test_stuck_model_really_cannot_learn():
    x, y = batch()
    model = make_stuck_model()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    assert math.isclose(loss.item(), math.log(10), rel_tol=1e-6)
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())


# --- the models that cannot memorise the batch -------------------------------------

def _train(model, x, y, optimizer, steps=300, lr=1e-2):
    optimizer = optimizer(model.parameters(), lr)
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    with torch.no_grad():
        return F.cross_entropy(model(x), y).item()


OPTIMIZERS = {
    "adam": lambda params, lr: torch.optim.Adam(params, lr=lr),
    "adamw": lambda params, lr: torch.optim.AdamW(params, lr=lr),
    "rmsprop": lambda params, lr: torch.optim.RMSprop(params, lr=lr),
    "sgd-momentum": lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9),
}


def test_narrow_model_falls_far_but_cannot_memorise():
    """Two hidden units: the loss more than halves with an adaptive optimizer, and stays far above 0.01."""
    x, y = batch()
    with torch.no_grad():
        initial = F.cross_entropy(make_narrow_model()(x), y).item()
    finals = {name: _train(make_narrow_model(), x, y, optimizer) for name, optimizer in OPTIMIZERS.items()}
    assert all(final > 0.3 for final in finals.values()), finals  # measured 0.68 (RMSprop) to 1.0 (SGD)
    assert all(finals[name] < 0.5 * initial for name in ("adam", "adamw", "rmsprop")), (initial, finals)


def test_repeated_rows_cannot_go_below_their_floor():
    """A digit given twice with two labels costs at least 2 ln 2; Adam reaches the floor and no further."""
    x, y = repeated_rows_batch(*batch())
    assert (x[0] == x[-1]).all() and y[0] != y[-1]
    floor = loss_floor(2, len(y))
    final = _train(make_model(seed=3), x, y, OPTIMIZERS["adam"])
    assert floor - 1e-6 <= final < floor + 0.005, (floor, final)


# --- answers a student might give ---

def overfit(model, x, y, steps, lr, criterion=lambda initial, final, chance: final < 0.01, train_on=None):
    """The official test with one thing changed: the criterion for passed, or the rows it trains on."""
    with torch.no_grad():
        initial = F.cross_entropy(model(x), y).item()
    chance = math.log(10)
    train_x, train_y = train_on(x, y) if train_on else (x, y)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(train_x), train_y).backward()
        optimizer.step()
    with torch.no_grad():
        final = F.cross_entropy(model(train_x), train_y).item()
    return {"initial_loss": initial, "chance_loss": chance, "final_loss": final,
            "passed": bool(criterion(initial, final, chance))}


def loss_fell(model, x, y, steps, lr):
    return overfit(model, x, y, steps, lr, criterion=lambda initial, final, chance: final < initial)


def below_half_of_chance(model, x, y, steps, lr):
    return overfit(model, x, y, steps, lr, criterion=lambda initial, final, chance: final < 0.5 * chance)


def below_a_tenth_of_chance(model, x, y, steps, lr):
    return overfit(model, x, y, steps, lr, criterion=lambda initial, final, chance: final < 0.1 * chance)


def threshold_too_strict(model, x, y, steps, lr):
    return overfit(model, x, y, steps, lr, criterion=lambda initial, final, chance: final < 1e-9)


def first_half_of_the_batch(model, x, y, steps, lr):
    return overfit(model, x, y, steps, lr, train_on=lambda x, y: (x[:16], y[:16]))


def tensors_and_a_loss_module(model, x, y, steps, lr):
    """Valid: nn.CrossEntropyLoss, every number a 0-d tensor, passed a bool tensor."""
    loss_fn = torch.nn.CrossEntropyLoss()
    initial = loss_fn(model(x), y)  # with a graph: no torch.no_grad()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        optimizer.step()
    final = loss_fn(model(x), y)
    return {"initial_loss": initial, "chance_loss": torch.log(torch.tensor(10.0)), "final_loss": final,
            "passed": final < 0.01}


def numpy_and_a_relative_threshold(model, x, y, steps, lr):
    """Valid: NumPy scalars, the chance level from the width of the output, passed below 1% of chance."""
    model.train()
    with torch.no_grad():
        logits = model(x)
        initial = np.float32(F.cross_entropy(logits, y).item())
    chance = np.log(logits.shape[1])
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    with torch.no_grad():
        final = np.float32(F.cross_entropy(model(x), y).item())
    return {"initial_loss": initial, "chance_loss": chance, "final_loss": final, "passed": final < 0.01 * chance}


def stops_early_reports_last_training_loss(model, x, y, steps, lr):
    """Valid: stops once the batch is memorised; final_loss is the loss of the last training step."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        losses.append(loss.item())
        if loss.item() < 1e-3:
            break
        loss.backward()
        optimizer.step()
    return {"initial_loss": losses[0], "chance_loss": -math.log(1 / 10), "final_loss": losses[-1],
            "passed": losses[-1] < 0.01}


def hard_coded_initial(model, x, y, steps, lr):
    answer = overfit(model, x, y, steps, lr)
    answer["initial_loss"] = 2.35  # as the solved lab prints it
    return answer


def final_on_other_digits(model, x, y, steps, lr):
    answer = overfit(model, x, y, steps, lr)
    other_x, other_y = (torch.from_numpy(a[32:]) for a in lab00.data.one_batch(64))
    with torch.no_grad():
        answer["final_loss"] = F.cross_entropy(model(other_x), other_y).item()
    return answer


def ignores_the_batch_given(model, x, y, steps, lr):
    return overfit(model, *batch(), steps, lr)


def three_times_the_steps(model, x, y, steps, lr):
    return overfit(model, x, y, 3 * steps, lr)


def until_the_loss_is_small(model, x, y, steps, lr):
    with torch.no_grad():
        initial = F.cross_entropy(model(x), y).item()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    final = initial
    while final > 0.01:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        final = loss.item()
    return {"initial_loss": initial, "chance_loss": math.log(10), "final_loss": final, "passed": True}


def forgets_backward_until_small(model, x, y, steps, lr):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    final = math.inf
    while final > 0.01:  # no backward(): the loss never moves
        optimizer.zero_grad()
        final = F.cross_entropy(model(x), y).item()
        optimizer.step()
    return {"initial_loss": final, "chance_loss": math.log(10), "final_loss": final, "passed": True}


def reinitialises_the_model(model, x, y, steps, lr):
    with torch.no_grad():
        initial = F.cross_entropy(model(x), y).item()
    for layer in model.modules():
        if hasattr(layer, "reset_parameters"):
            layer.reset_parameters()  # "a fresh start"
    answer = overfit(model, x, y, steps, lr)
    answer["initial_loss"] = initial
    return answer


def swaps_in_a_wider_model(model, x, y, steps, lr):
    answer = overfit(model, x, y, steps, lr)
    if not answer["passed"]:  # "the model was too small": try again with one that can
        wider = make_model(width=64, seed=0)
        answer = {**overfit(wider, x, y, steps, lr), "initial_loss": answer["initial_loss"]}
    return answer


def retries_with_a_higher_lr(model, x, y, steps, lr):
    answer = overfit(model, x, y, steps, lr)
    if not answer["passed"]:  # "the learning rate was too low": give it another go
        answer = {**overfit(model, x, y, steps, 10 * lr), "initial_loss": answer["initial_loss"]}
    return answer


def plain_sgd(model, x, y, steps, lr):
    answer = correct(copy.deepcopy(model), x, y, 0, lr)  # the loss before training
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    with torch.no_grad():
        final = F.cross_entropy(model(x), y).item()
    return {**answer, "final_loss": final, "passed": final < 0.01}


def passed_as_words(model, x, y, steps, lr):
    answer = overfit(model, x, y, steps, lr)
    return {**answer, "passed": "yes" if answer["passed"] else "no"}


def losses_as_a_list(model, x, y, steps, lr):
    answer = overfit(model, x, y, steps, lr)
    return {**answer, "final_loss": [answer["final_loss"]] * 2}


# (id, kind, answer, passes, words that the evidence and hint must hold)
ANSWERS = [
    ("tensors-and-a-loss-module", "valid", tensors_and_a_loss_module, True, ["as it should"]),
    ("numpy-and-a-relative-threshold", "valid", numpy_and_a_relative_threshold, True, ["as it should"]),
    ("stops-early-reports-last-training-loss", "valid", stops_early_reports_last_training_loss, True,
     ["as it should"]),
    ("loss-fell", "wrong criterion", loss_fell, False,
     ["two hidden units", "your test says it passed, but its loss only went from 2.52", "a loss that fell"]),
    ("below-half-of-chance", "wrong criterion", below_half_of_chance, False,
     ["two hidden units", "your test says it passed", "below a small threshold (0.01)"]),
    ("below-a-tenth-of-chance", "wrong criterion", below_a_tenth_of_chance, False,
     ["repeated with another label (no model goes below 0.0866): your test says it passed", "fraction of the chance"]),
    ("threshold-too-strict", "wrong criterion", threshold_too_strict, False,
     ["healthy model: your test says it failed, but it memorised the batch", "the threshold is too strict",
      "compare the final loss with 0.01"]),
    ("plain-sgd", "partial", plain_sgd, False,
     ["healthy model: your test says it failed; after your test its loss is 0.6", "Adam at lr=0.01 for 300 steps",
      "not far enough to memorise the batch: use Adam(model.parameters(), lr=lr)"]),
    ("first-half-of-the-batch", "dropped rows", first_half_of_the_batch, False,
     ["healthy model: after your test its loss on this batch is still", "on the whole batch x, y"]),
    ("hard-coded-initial", "cheat", hard_coded_initial, False,
     ["two hidden units (too narrow to memorise the batch): initial_loss is 2.35, but its loss before training is 2.52",
      "before the first optimizer step"]),
    ("final-on-other-digits", "cheat", final_on_other_digits, False,
     ["healthy model: final_loss is", "report the loss of the trained model"]),
    ("ignores-the-batch-given", "cheat", ignores_the_batch_given, False,
     ["repeated with another label", "initial_loss is", "on the x and y passed in"]),
    ("swaps-in-a-wider-model", "different model", swaps_in_a_wider_model, False,
     ["two hidden units", "final_loss is", "report the loss of the trained model"]),
    ("reinitialises-the-model", "different model", reinitialises_the_model, False,
     ["stuck model", "its loss moved from 2.30", "re-initialised it?", "do not re-initialise"]),
    ("retries-with-a-higher-lr", "hides the symptom", retries_with_a_higher_lr, False,
     ["two hidden units (too narrow to memorise the batch): your test ran more than steps=300 training steps",
      "exactly `steps` steps"]),
    ("three-times-the-steps", "hides the symptom", three_times_the_steps, False,
     ["more than steps=300 training steps", "exactly `steps` steps"]),
    ("until-the-loss-is-small", "never returns", until_the_loss_is_small, False,
     ["two hidden units", "more than steps=300 training steps (backward passes) and was stopped",
      "until the loss is small never ends"]),
    ("forgets-backward-until-small", "hangs", forgets_backward_until_small, False,
     ["healthy model: overfit_test ran for more than 3 s and was stopped, before any backward pass",
      "call loss.backward() before each optimizer.step()"]),
    ("passed-as-words", "wrong type", passed_as_words, False, ["passed must be True or False", "got 'yes'"]),
    ("losses-as-a-list", "wrong type", losses_as_a_list, False,
     ["final_loss must be one number", "got a list"]),
]


@pytest.mark.parametrize("kind, answer, passes, words", [pytest.param(*row[1:], id=row[0]) for row in ANSWERS])
def test_answers_a_student_might_give(kind, answer, passes, words, monkeypatch):
    if kind == "hangs":
        monkeypatch.setattr(lab00, "TIME_LIMIT_S", 3)  # the same verdict as with the lab's 30 s, sooner
    result = check_overfit_test(answer)
    told = " ".join(result.evidence) + " hint: " + result.hint
    assert result.passed == passes, str(result)
    for word in words:
        assert word in told, f"{word!r} not in:\n{result}"
