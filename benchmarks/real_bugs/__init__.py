"""A benchmark of real training bugs for ``cu.diagnose``: programs rebuilt from public threads
and research benchmarks, each with its fixed twin.

    python -m benchmarks.real_bugs                 # every case, a table and the summary
    python -m benchmarks.real_bugs --framework torch
    python -m benchmarks.real_bugs keras_one_unit_softmax_conv1d torch_linear_xor
    python -m benchmarks.real_bugs --held-out      # only the held-out set (DeepLocalize's Stack Overflow posts)
    python -m benchmarks.real_bugs --fresh         # only the second, fresh held-out set (fresh_cases.py)
    python -m benchmarks.real_bugs --third         # only the third held-out set (third_cases.py)
    python -m benchmarks.real_bugs --fourth        # only the fourth held-out set (fourth_cases.py)
    python -m benchmarks.real_bugs --fifth         # only the fifth held-out set (fifth_cases.py)
    python -m benchmarks.real_bugs --sixth         # only the sixth held-out set (sixth_*_cases.py)
    python -m benchmarks.real_bugs --seventh       # only the seventh held-out set (seventh_*_cases.py)
    python -m benchmarks.real_bugs --eighth        # only the eighth held-out set (eighth_*_cases.py)
    python -m benchmarks.real_bugs --ninth         # only the ninth held-out set (ninth_*_cases.py)
    python -m benchmarks.real_bugs --tenth         # only the tenth held-out set (tenth_*_cases.py)
    python -m benchmarks.real_bugs --eleventh      # only the eleventh held-out set (eleventh_*_cases.py)
    python -m benchmarks.real_bugs --twelfth       # only the twelfth held-out set (twelfth_*_cases.py)
    python -m benchmarks.real_bugs --thirteenth    # only the thirteenth held-out set (thirteenth_*_cases.py)
    python -m benchmarks.real_bugs --fourteenth    # only the fourteenth held-out set (fourteenth_*_cases.py)
    python -m benchmarks.real_bugs --fifteenth     # only the fifteenth held-out set (fifteenth_*_cases.py)
    python -m benchmarks.real_bugs --sixteenth     # only the sixteenth held-out set (sixteenth_*_cases.py)
    python -m benchmarks.real_bugs --seventeenth   # only the seventeenth held-out set (seventeenth_*_cases.py)

A case declares where the bug comes from (``source``), what it is and how it
was fixed (``bug``, ``fix``, one sentence each), the catalogue codes that would
lead a student to that fix (``expected``, written down before the detector was
run on it) and one builder ``build(buggy: bool)`` returning
``(model, x, y, loss, optimizer)`` for either twin. Data are scikit-learn's
bundled sets or small synthetic ones: nothing is downloaded.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

# Stack Overflow posts in DeepLocalize's Stack Overflow benchmark (Benchmark/StackOverflow/<id> in
# github.com/Wardat-ISU/DeepLocalize): held out for an independent check, so no case may use them.
HELD_OUT_SO_IDS = frozenset({
    "31556268", "31627380", "31880720", "33969059", "34311586", "34673164", "38648195", "39217567", "39525358",
    "41372874", "44066044", "44164749", "45337371", "45442843", "47352366", "47724077", "48221692", "48251943",
    "48385830", "48594888", "48934338", "50079585", "50306988", "50481178", "51930566", "52800582", "55328966",
    "58609115", "59278771", "59325381",
})


@dataclass(frozen=True)
class Case:
    name: str
    framework: str  # "keras" or "torch"
    kind: str  # the kind of bug, e.g. "loss/output pairing", "unscaled inputs"
    source: str  # URL of the thread or benchmark entry the case is rebuilt from
    bug: str
    fix: str
    expected: frozenset  # catalogue codes whose fix leads to ``fix``
    build: Callable  # build(buggy: bool) -> (model, x, y, loss, optimizer)
    note: str = ""  # how the rebuild differs from the source, or why ``expected`` is only the closest code

    def buggy(self):
        return self.build(True)

    def fixed(self):
        return self.build(False)


def case(name, framework, kind, source, bug, fix, expected, build, note=""):
    """A Case, with ``expected`` given as any iterable of codes."""
    return Case(name, framework, kind, source, bug, fix, frozenset(expected), build, note)


def all_cases() -> list:
    from .keras_cases import CASES as KERAS
    from .torch_cases import CASES as TORCH

    return KERAS + TORCH


# Imported here, under another name, so that the function below (defined after it) keeps the
# name ``held_out_cases`` in this package; importing the module later would otherwise replace it.
from . import held_out_cases as _held_out_module  # noqa: E402


def held_out_cases() -> list:
    """DeepLocalize's Stack Overflow programs (``HELD_OUT_SO_IDS``): a measurement the detectors were not tuned on."""
    return list(_held_out_module.CASES)


from . import fresh_cases as _fresh_module  # noqa: E402  (same reason as above)


def fresh_cases() -> list:
    """The second held-out set (fresh_cases.py): threads chosen by fixed queries, not yet run through diagnose."""
    return list(_fresh_module.CASES)


from . import third_cases as _third_module  # noqa: E402  (same reason as above)


def third_cases() -> list:
    """The third held-out set (third_cases.py): for one final run, after the detectors were tuned on the others."""
    return list(_third_module.CASES)


from . import fourth_cases as _fourth_module  # noqa: E402  (same reason as above)


def fourth_cases() -> list:
    """The fourth held-out set (fourth_cases.py): for one final run, after the detectors were tuned on the others."""
    return list(_fourth_module.CASES)


from . import fifth_cases as _fifth_module  # noqa: E402  (same reason as above)


def fifth_cases() -> list:
    """The fifth held-out set (fifth_cases.py): threads whose program trains without an error and still
    cannot fit, for one final run after the detectors were tuned on the others."""
    return list(_fifth_module.CASES)


from . import sixth_keras_cases as _sixth_keras_module  # noqa: E402  (same reason as above)
from . import sixth_torch_cases as _sixth_torch_module  # noqa: E402


def sixth_cases() -> list:
    """The sixth held-out set (sixth_keras_cases.py, sixth_torch_cases.py), built by two people working apart,
    after the inplace-write, missing-flatten and layer-size-mismatch codes were catalogued: for one final run."""
    return list(_sixth_keras_module.CASES) + list(_sixth_torch_module.CASES)


from . import seventh_keras_cases as _seventh_keras_module  # noqa: E402  (same reason as above)
from . import seventh_torch_cases as _seventh_torch_module  # noqa: E402


def seventh_cases() -> list:
    """The seventh held-out set (seventh_keras_cases.py, seventh_torch_cases.py), built by two people working apart
    after the sixth set's changes (Keras unregistered-parameters among them): for one final run."""
    return list(_seventh_keras_module.CASES) + list(_seventh_torch_module.CASES)


from . import eighth_keras_cases as _eighth_keras_module  # noqa: E402  (same reason as above)
from . import eighth_torch_cases as _eighth_torch_module  # noqa: E402
from . import eighth_torch_more_cases as _eighth_torch_more_module  # noqa: E402


def eighth_cases() -> list:
    """The eighth held-out set (eighth_keras_cases.py, eighth_torch_cases.py, eighth_torch_more_cases.py), built by
    three people working apart after the seventh set's post-hoc changes (state-across-steps among them): for one
    final run."""
    return (list(_eighth_keras_module.CASES) + list(_eighth_torch_module.CASES)
            + list(_eighth_torch_more_module.CASES))


from . import ninth_a_cases as _ninth_a_module  # noqa: E402  (same reason as above)
from . import ninth_b_cases as _ninth_b_module  # noqa: E402
from . import ninth_c_cases as _ninth_c_module  # noqa: E402
from . import ninth_d_cases as _ninth_d_module  # noqa: E402
from . import ninth_e_cases as _ninth_e_module  # noqa: E402
from . import ninth_f_cases as _ninth_f_module  # noqa: E402
from . import ninth_g_cases as _ninth_g_module  # noqa: E402


def ninth_cases() -> list:
    """The ninth held-out set (ninth_a_cases.py ... ninth_g_cases.py): bug-fix commits of Islam et al.'s benchmark
    (parts a-d) and subjects of Zhang et al.'s TensorFlow bug study (parts e-g), each in a fixed shuffled order
    (ninth_frame.txt), the parts built apart after the eighth set's post-hoc changes."""
    parts = (_ninth_a_module, _ninth_b_module, _ninth_c_module, _ninth_d_module, _ninth_e_module, _ninth_f_module,
             _ninth_g_module)
    return [c for part in parts for c in part.CASES]


from . import tenth_a_cases as _tenth_a_module  # noqa: E402  (same reason as above)
from . import tenth_b_cases as _tenth_b_module  # noqa: E402
from . import tenth_c_cases as _tenth_c_module  # noqa: E402
from . import tenth_d_cases as _tenth_d_module  # noqa: E402


def tenth_cases() -> list:
    """The tenth held-out set (tenth_a_cases.py ... tenth_d_cases.py): real faults of the DeepFD benchmark (Cao et
    al., ICSE 2022) that no earlier set uses, in a fixed shuffled order (tenth_frame.txt), the parts built apart
    after the ninth set's post-hoc changes."""
    return [c for part in (_tenth_a_module, _tenth_b_module, _tenth_c_module, _tenth_d_module) for c in part.CASES]


_ELEVENTH_PARTS = tuple(importlib.import_module(f".eleventh_{part}_cases", __name__) for part in "abcdefg")


def eleventh_cases() -> list:
    """The eleventh held-out set (eleventh_a_cases.py ... eleventh_g_cases.py): Stack Overflow bugs of the deepmufl
    benchmark (Ghanbari et al., ASE 2023) that no earlier set uses, in a fixed shuffled order (eleventh_frame.txt),
    the parts built apart."""
    return [c for part in _ELEVENTH_PARTS for c in part.CASES]


_TWELFTH_PARTS = tuple(importlib.import_module(f".twelfth_{part}_cases", __name__) for part in "abcdef")


def twelfth_cases() -> list:
    """The twelfth held-out set (twelfth_a_cases.py ... twelfth_f_cases.py): bugs of defects4ML (Morovati et al.,
    EMSE 2023), each with the benchmark's buggy and fixed programs, that no earlier set uses, in a fixed shuffled
    order (twelfth_frame.txt), the parts built apart."""
    return [c for part in _TWELFTH_PARTS for c in part.CASES]


_THIRTEENTH_PARTS = tuple(importlib.import_module(f".thirteenth_{part}_cases", __name__) for part in "abcdef")


def thirteenth_cases() -> list:
    """The thirteenth held-out set (thirteenth_a_cases.py ... thirteenth_f_cases.py): Stack Overflow programs of
    SFData (TENSFA), each with the poster's program and the researchers' repair, that no earlier set uses, in a fixed
    shuffled order (thirteenth_frame.txt, its first 60 entries), the parts built apart."""
    return [c for part in _THIRTEENTH_PARTS for c in part.CASES]


_FOURTEENTH_PARTS = tuple(importlib.import_module(f".fourteenth_{part}_cases", __name__) for part in "abcdefgh")


def fourteenth_cases() -> list:
    """The fourteenth held-out set (fourteenth_a_cases.py ... fourteenth_h_cases.py): the rest of the thirteenth
    set's frame (thirteenth_frame.txt, entries 61-140, in its order), the parts built apart."""
    return [c for part in _FOURTEENTH_PARTS for c in part.CASES]


_FIFTEENTH_PARTS = tuple(importlib.import_module(f".fifteenth_{part}_cases", __name__) for part in "abcdefgh")


def fifteenth_cases() -> list:
    """The fifteenth held-out set (fifteenth_a_cases.py ... fifteenth_h_cases.py): entries 1-56 of
    fifteenth_frame.txt (Humbatova et al.'s taxonomy of real faults, in the frame's order), the parts built apart."""
    return [c for part in _FIFTEENTH_PARTS for c in part.CASES]


_SIXTEENTH_PARTS = tuple(importlib.import_module(f".sixteenth_{part}_cases", __name__) for part in "abcdefgh")


def sixteenth_cases() -> list:
    """The sixteenth held-out set (sixteenth_a_cases.py ... sixteenth_h_cases.py): the rest of the fifteenth
    set's frame (fifteenth_frame.txt, entries 57-109, in its order), the parts built apart."""
    return [c for part in _SIXTEENTH_PARTS for c in part.CASES]


_SEVENTEENTH_PARTS = tuple(importlib.import_module(f".seventeenth_{part}_cases", __name__) for part in "abcdefg")


def seventeenth_cases() -> list:
    """The seventeenth held-out set (seventeenth_a_cases.py ... seventeenth_g_cases.py): the Stack Overflow bugs of
    Shah et al.'s reproducibility study (seventeenth_frame.txt, in its order), the parts built apart."""
    return [c for part in _SEVENTEENTH_PARTS for c in part.CASES]


# The sets run once each, after the detectors were tuned on the others: the command-line flag's name -> the set.
LATER_SETS = {"fresh": fresh_cases, "third": third_cases, "fourth": fourth_cases, "fifth": fifth_cases,
              "sixth": sixth_cases, "seventh": seventh_cases, "eighth": eighth_cases,
              "ninth": ninth_cases, "tenth": tenth_cases, "eleventh": eleventh_cases,
              "twelfth": twelfth_cases, "thirteenth": thirteenth_cases,
              "fourteenth": fourteenth_cases, "fifteenth": fifteenth_cases,
              "sixteenth": sixteenth_cases, "seventeenth": seventeenth_cases}

__all__ = ["Case", "case", "all_cases", "held_out_cases", "fresh_cases", "third_cases", "fourth_cases",
           "fifth_cases", "sixth_cases", "seventh_cases", "eighth_cases", "ninth_cases", "tenth_cases",
           "eleventh_cases", "twelfth_cases", "thirteenth_cases", "fourteenth_cases",
           "fifteenth_cases", "sixteenth_cases", "seventeenth_cases",
           "LATER_SETS", "HELD_OUT_SO_IDS"]
