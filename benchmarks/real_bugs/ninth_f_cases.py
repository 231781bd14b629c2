"""Ninth held-out set, part f: the subjects of Zhang et al.'s TensorFlow bug study (ISSTA 2018), rebuilt as
(buggy, fixed) twins, for one final measurement.

The subjects were taken in a fixed shuffled order (`ninth_frame.txt`, part f's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Ninth held-out set".
"""
from __future__ import annotations

CASES = []
