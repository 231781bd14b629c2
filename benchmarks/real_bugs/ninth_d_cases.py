"""Ninth held-out set, part d: bug-fix commits from the GitHub half of Islam et al.'s benchmark, rebuilt as
(buggy, fixed) twins, for one final measurement.

The commits were taken in a fixed shuffled order (`ninth_frame.txt`, part d's slice) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Ninth held-out set".
"""
from __future__ import annotations

# No commit of part d met the rule (20 skipped or not available, 1 dropped after the fidelity check);
# the reasons, commit by commit, are in the README's record of part d.
CASES = []
