"""Numbers printed so that they survive another CPU and another thread count.

A notebook's printed output is compared by nbval on every release. Raw
float32 values differ in their last digits between machines, and a long
training run amplifies those differences, so lessons print:

- ``sig(x)``: three significant figures, for quantities computed in a few
  deterministic operations (the loss at initialisation, a chance level);
- ``below(x, bound)``: a comparison with a stated bound, for the end of a
  long run ("< 0.001");
- ``approx(x)`` and ``claim(what, x, ...)``: a figure that students should
  see but that depends on the machine's rounding (the end of a chaotic run, a
  count over seeds), marked with "≈". The suite's sanitize rule masks a
  "≈" figure, so nbval compares the text around it but not the figure.
  ``claim`` also checks the bound the lesson's words rest on and raises if
  the figure leaves it: a claim that stops being true still fails the suite.
"""
from __future__ import annotations

import math


def sig(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant figures: 2.30, 0.000123 -> 1.23e-04."""
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    exponent = math.floor(math.log10(abs(value)))
    if -3 <= exponent < 5:
        decimals = max(digits - 1 - exponent, 0)
        return f"{value:.{decimals}f}"
    return f"{value:.{digits - 1}e}"


def below(value: float, bound: float) -> str:
    """'< bound' if value is below bound, else the value to 3 significant figures."""
    value = float(value)
    if value < bound:
        return f"< {sig(bound, 1)}"
    return sig(value)


def percent(fraction: float) -> str:
    """A fraction as a whole percentage: 0.9876 -> '99%'."""
    return f"{100 * float(fraction):.0f}%"


def whole(value: float) -> str:
    """A count: 3.0 -> '3'."""
    return f"{float(value):.0f}"


APPROX = "≈"  # tests/sanitize.cfg masks a number right after this mark


def approx(value, style=sig) -> str:
    """A machine-dependent figure, marked: approx(0.853, percent) -> '≈85%'."""
    return APPROX + style(value)


class ClaimFailed(AssertionError):
    """A figure left the bound that a lesson's words rest on."""


def claim(what: str, value, *, more_than=None, less_than=None, style=sig) -> str:
    """'what ≈value (> bound)', after checking that value is within its bounds.

    claim("peak train accuracy", 0.85, more_than=0.7, style=percent)
        -> 'peak train accuracy ≈85% (> 70%)'
    Raises ClaimFailed (an AssertionError) if the value is not strictly
    between the bounds given, or is not a number. Choose bounds with room
    (a factor of 2 for losses, several points for accuracies): the bound is
    what the lesson claims, the figure is what this machine measured.
    """
    if more_than is None and less_than is None:
        raise ValueError("a claim needs a bound: more_than=, less_than= or both")
    number = float(value)
    bound_style = (lambda b: f"{b:g}") if style is sig else style  # a bound is written as chosen: 0.01, not 0.0100
    bounds = []
    if more_than is not None:
        bounds.append(f"> {bound_style(more_than)}")
    if less_than is not None:
        bounds.append(f"< {bound_style(less_than)}")
    holds = not math.isnan(number) and (more_than is None or number > more_than) and (less_than is None or number < less_than)
    text = f"{what} {approx(number, style)} ({', '.join(bounds)})"
    if not holds:
        raise ClaimFailed(f"the lesson's claim no longer holds: {what} is {style(number)}, expected {' and '.join(bounds)}")
    return text
