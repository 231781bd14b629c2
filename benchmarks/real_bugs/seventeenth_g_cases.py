"""Seventeenth held-out set, part g: Stack Overflow bugs from Shah, Rahman and Khomh's study of deep learning bug
reproducibility (EMSE 2024), each rebuilt as (buggy, fixed) twins, for one measurement.

The entries were taken in a fixed shuffled order (`seventeenth_frame.txt`, entries 43-50) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Seventeenth held-out
set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

CASES = []
