"""Numbers printed so that they survive another CPU and another thread count.

A notebook's printed output is compared by nbval on every release. Raw
float32 values differ in their last digits between machines, and a long
training run amplifies those differences, so lessons print:

- ``sig(x)``: three significant figures, for quantities computed in a few
  deterministic operations (the loss at initialisation, a chance level);
- ``below(x, bound)``: a comparison with a stated bound, for the end of a
  long run ("< 0.001").
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
