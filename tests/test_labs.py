"""The machinery every lab check shares: results, student calls and the time limit."""
import time

from course_utils import labs


def spin_forever():
    while True:
        pass


def swallow_everything():
    while True:
        try:
            time.sleep(0.01)
        except Exception:  # a student's catch-all must not hide the limit
            pass


def test_call_student_stops_a_loop_that_never_returns_and_says_so():
    started = time.monotonic()
    value, problem = labs.call_student("train()", spin_forever, limit_s=0.5)
    assert value is None and "train() ran for more than 0.5 s" in problem
    assert time.monotonic() - started < 5


def test_a_students_except_exception_cannot_swallow_the_limit():
    value, problem = labs.call_student("train()", swallow_everything, limit_s=0.3)
    assert "ran for more than" in problem


def test_call_student_reports_errors_and_non_functions_and_passes_keywords():
    assert labs.call_student("f", lambda: 1 / 0)[1] == "f raised ZeroDivisionError: division by zero"
    assert labs.call_student("f", 3)[1] == "f is not a function (got int)"
    assert labs.call_student("f", lambda a, b=0: a + b, 1, b=2) == (3, None)


def test_an_inner_limit_gives_the_outer_one_back_and_the_shorter_limit_wins():
    started = time.monotonic()
    try:
        with labs.time_limit(1.5, "outer"):
            assert labs.call_student("inner", lambda: 7, limit_s=60) == (7, None)
            spin_forever()
    except labs.RanTooLong as error:
        assert "outer ran for more than 1.5 s" in str(error)
    else:
        raise AssertionError("the outer limit was lost")
    assert time.monotonic() - started < 5
    with labs.time_limit(0.3, "outer"):
        assert labs.call_student("inner", spin_forever, limit_s=60)[1] == "outer ran for more than 0.3 s and was stopped"


def test_a_stopped_call_is_told_apart_from_a_failed_one():
    _, stopped = labs.call_student("train()", spin_forever, limit_s=0.2)
    _, failed = labs.call_student("train()", lambda: 1 / 0)
    assert isinstance(stopped, labs.Stopped) and not isinstance(failed, labs.Stopped)


def test_step_limit_and_backward_count_stop_a_loop_and_unhook_on_exit():
    import torch

    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def train(times):
        for _ in range(times):
            optimizer.zero_grad()
            model(torch.ones(1, 2)).sum().backward()
            optimizer.step()

    with labs.StepLimit(optimizer, most=3) as steps, labs.BackwardCount(model) as backwards:
        _, problem = labs.call_student("train()", train, 10)
    assert isinstance(problem, labs.Stopped) and "more than 3 times" in problem
    assert steps.reached and steps.steps == 3 and backwards.count == 4
    train(5)  # the hooks are gone: nothing counts or stops any more
    assert steps.steps == 3 and backwards.count == 4
    with labs.BackwardCount(model, most=2) as backwards:
        assert isinstance(labs.call_student("train()", train, 10)[1], labs.Stopped)
    assert backwards.count == 3
