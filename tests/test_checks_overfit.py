"""The lab 00 check must tell a correct overfit test from plausible wrong ones."""
import math

import pytest
import torch
from torch.nn import functional as F

from course_utils.checks.overfit_test import batch, check_overfit_test, make_model, make_stuck_model


def correct(model, x, y, steps=300, lr=1e-2):
    with torch.no_grad():
        initial = F.cross_entropy(model(x), y).item()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    with torch.no_grad():
        final = F.cross_entropy(model(x), y).item()
    return {"initial_loss": initial, "chance_loss": math.log(10), "final_loss": final, "passed": final < 0.01}


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
    return correct(make_model(seed=1), x, y, steps, lr)


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
    assert any("stuck model: failed" in line for line in result.evidence)


@pytest.mark.parametrize(
    "wrong, expected_words",
    [
        (always_passes, "cannot learn passed"),
        (initial_measured_after_training, "before the first optimizer step"),
        (trains_a_copy, "did not train the model it was given"),
        (wrong_chance, "ln 10"),
        (raises, "RuntimeError"),
        (returns_a_tuple, "returned a tuple"),
        (returns_tensors, "must be numbers"),
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
