"""Eighth held-out set, PyTorch part (torch_more): public threads rebuilt as (buggy, fixed) twins, for one final measurement.

Built apart from the other parts by the same rule, by someone who read only diagnose's catalogue and never
ran the detectors; how the threads were chosen is in the README, "Eighth held-out set".
"""
from __future__ import annotations

CASES = []
