"""What a lab check reports, and the record the test suite reads.

A lab's check cell ends with a ``CheckResult``: passed or "not fixed yet",
the evidence as numbers, and a hint. A check never raises on a student's
answer: a wrong type, a wrong shape or an exception in the student's code is
reported as "not fixed yet" with what was wrong.

Every result is also appended to ``RESULTS``, so that the test suite can run
a lab and its solution and read what their checks decided
(``results_json()``).

No check can hang: every call into the student's code runs under a time
limit (``time_limit``), and a loop that runs too long comes back as "not
fixed yet" with the limit it hit.
"""
from __future__ import annotations

import html
import json
import signal
import threading
import time
from dataclasses import dataclass, field

RESULTS: list = []
STUDENT_TIME_LIMIT_S = 120  # for one call into the student's code; a lab's own training is outside it


class RanTooLong(BaseException):
    """The student's code passed a limit the check set (time, or a count of steps).

    A BaseException, so that a student's ``except Exception`` cannot swallow it.
    """


@dataclass
class CheckResult:
    check: str
    passed: bool
    evidence: list = field(default_factory=list)
    hint: str = ""

    @property
    def headline(self) -> str:
        return f"{self.check}: passed" if self.passed else f"{self.check}: not fixed yet"

    def __str__(self) -> str:
        lines = [("PASSED  " if self.passed else "NOT YET ") + self.headline]
        lines += [f"  - {line}" for line in self.evidence]
        if self.hint and not self.passed:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))

    def _repr_html_(self) -> str:
        colour = "#1b5e20" if self.passed else "#b26a00"
        items = "".join(f"<li>{html.escape(line)}</li>" for line in self.evidence)
        hint = f"<p><i>Hint:</i> {html.escape(self.hint)}</p>" if self.hint and not self.passed else ""
        return (f'<div class="course-check"><b style="color:{colour}">{html.escape(self.headline)}</b>'
                f"<ul>{items}</ul>{hint}</div>")


def report(check: str, passed: bool, evidence=(), hint: str = "") -> CheckResult:
    """Make a CheckResult and record it in RESULTS."""
    result = CheckResult(check, bool(passed), list(evidence), hint)
    RESULTS.append(result)
    return result


class Stopped(str):
    """The message of a call the check stopped at a limit: the code ran too long, it did not fail."""


class time_limit:
    """Raise ``RanTooLong`` in the code inside after ``seconds``.

    It uses a real-time timer signal, so it works on Unix in the main thread
    (where a notebook cell runs) and does nothing elsewhere. Inside an outer
    limit, the shorter of the two applies, and the outer one resumes after.
    """

    def __init__(self, seconds: float, what: str = "your code"):
        self.seconds, self.what = seconds, what
        self.active = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()

    def _handler(self, signum, frame):
        raise RanTooLong(f"{self.what} ran for more than {self.seconds:g} s and was stopped")

    def __enter__(self):
        self._outer_left = signal.getitimer(signal.ITIMER_REAL)[0] if self.active else 0.0
        if self._outer_left and self._outer_left <= self.seconds:
            self.active = False  # the outer limit comes first and speaks for itself
        if self.active:
            self._previous = signal.signal(signal.SIGALRM, self._handler)
            self._started = time.monotonic()
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc):
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)
            if self._outer_left:  # give the outer limit what it had left
                left = self._outer_left - (time.monotonic() - self._started)
                signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3))
        return False


class _Hooked:
    """A counter kept by one PyTorch hook; as a context manager, the hook is removed on exit."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False

    def remove(self):
        self._handle.remove()


class StepLimit(_Hooked):
    """Counts a PyTorch optimizer's steps; the step after ``most`` raises ``RanTooLong``.

    For a check that hands its own optimizer to the student's loop: a loop
    that trains "until the loss is small" is stopped with a message.
    """

    def __init__(self, optimizer, most: int):
        self.most, self.steps = most, 0
        self._handle = optimizer.register_step_pre_hook(self._step)

    def _step(self, optimizer, args, kwargs):
        if self.steps >= self.most:
            raise RanTooLong(f"your loop called optimizer.step() more than {self.most} times")
        self.steps += 1

    @property
    def reached(self) -> bool:
        return self.steps >= self.most


class BackwardCount(_Hooked):
    """Counts the backward passes that reach a PyTorch model's first weight; with ``most``, the one after
    raises ``RanTooLong``."""

    def __init__(self, model, most: int | None = None):
        self.most, self.count = most, 0
        self._handle = next(model.parameters()).register_hook(self._backward)

    def _backward(self, grad):
        self.count += 1
        if self.most is not None and self.count > self.most:
            raise RanTooLong(f"your code ran more than {self.most} backward passes")


def call_student(what: str, fn, *args, limit_s: float = STUDENT_TIME_LIMIT_S, **kwargs):
    """Call the student's ``fn(*args, **kwargs)``: (value, None), or (None, what went wrong).

    The call is stopped after ``limit_s`` seconds, or at a limit the check
    set inside it (``RanTooLong``); then the message is a ``Stopped``, so a
    check can tell "ran too long" from "failed". A check reports the message
    as "not fixed yet"; it never raises on a student's answer.
    """
    if not callable(fn):
        return None, f"{what} is not a function (got {type(fn).__name__})"
    try:
        with time_limit(limit_s, what):
            return fn(*args, **kwargs), None
    except RanTooLong as error:
        return None, Stopped(error)
    except Exception as error:  # the student's code: report, never raise
        return None, f"{what} raised {type(error).__name__}: {error}"


def student_inputs(prepare_x, x, label: str):
    """The student's ``prepare_x(x)`` as float32 of x's shape: (array, None) or (None, what is wrong)."""
    import numpy as np

    values, error = call_student(f"prepare_x({label})", prepare_x, x.copy())
    if error:
        return None, error
    try:
        array = np.asarray(values, dtype=np.float32)
    except Exception as error:  # e.g. a string or a ragged list
        return None, f"prepare_x({label}) returned something that is not numbers ({type(error).__name__})"
    if array.shape != x.shape:
        return None, f"prepare_x({label}) must return shape {x.shape}, got {array.shape}"
    if not np.all(np.isfinite(array)):
        return None, f"prepare_x({label}) returned values that are not finite"
    return array, None


def results_json() -> str:
    """Every check decided in this kernel so far, as JSON (read by the tests)."""
    return json.dumps([{"check": r.check, "passed": r.passed, "evidence": r.evidence} for r in RESULTS])
