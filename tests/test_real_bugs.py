"""The real-bug benchmark (benchmarks/real_bugs): its cases are well formed, and a few that
diagnose gets right today stay right (a regression guard; the full benchmark is run by
`python -m benchmarks.real_bugs`, not by the test suite)."""
import re
from collections import defaultdict

import pytest

pytest.importorskip("torch")
pytest.importorskip("keras")

from benchmarks.real_bugs import (HELD_OUT_SO_IDS, all_cases, fifth_cases, fourth_cases, fresh_cases,  # noqa: E402
                                  eighth_cases, held_out_cases, ninth_cases, seventh_cases, tenth_cases,
                                  eleventh_cases, twelfth_cases, thirteenth_cases, fourteenth_cases,
                                  fifteenth_cases, sixteenth_cases, seventeenth_cases,
                                  sixth_cases, third_cases)
from course_utils.diagnosis import CATALOGUE, diagnose  # noqa: E402

CASES = {c.name: c for c in all_cases()}
HELD_OUT = {c.name: c for c in held_out_cases()}
FRESH = {c.name: c for c in fresh_cases()}
THIRD = {c.name: c for c in third_cases()}
FOURTH = {c.name: c for c in fourth_cases()}
FIFTH = {c.name: c for c in fifth_cases()}
SIXTH = {c.name: c for c in sixth_cases()}
SEVENTH = {c.name: c for c in seventh_cases()}
EIGHTH = {c.name: c for c in eighth_cases()}
NINTH = {c.name: c for c in ninth_cases()}
TENTH = {c.name: c for c in tenth_cases()}
ELEVENTH = {c.name: c for c in eleventh_cases()}
TWELFTH = {c.name: c for c in twelfth_cases()}
THIRTEENTH = {c.name: c for c in thirteenth_cases()}
FOURTEENTH = {c.name: c for c in fourteenth_cases()}
FIFTEENTH = {c.name: c for c in fifteenth_cases()}
SIXTEENTH = {c.name: c for c in sixteenth_cases()}
SEVENTEENTH = {c.name: c for c in seventeenth_cases()}

# buggy twin named today, fixed twin clean today; fast, and spread over frameworks and kinds
GUARDED = ["torch_linear_xor", "torch_mse_rank1_target", "torch_lr_far_too_high",
           "keras_sigmoid_into_categorical", "keras_sgd_lr_far_too_high", "keras_batchnorm_batch_of_one",
           # named since the detectors for these kinds landed
           "torch_optimizer_on_previous_model", "torch_mse_three_outputs_one_target", "keras_frozen_model",
           "keras_multilabel_softmax"]


def test_every_case_is_declared_in_full():
    assert len(CASES) == len(all_cases()), "case names must be unique"
    for c in CASES.values():
        assert c.framework in ("keras", "torch"), c.name
        assert c.source.startswith("http"), c.name
        assert c.bug.strip() and c.fix.strip() and c.kind.strip(), c.name
        assert c.expected, f"{c.name}: a buggy case must expect at least one finding"
        assert c.expected <= set(CATALOGUE), f"{c.name}: not in the catalogue: {c.expected - set(CATALOGUE)}"


def test_a_source_is_shared_only_by_different_bugs():
    by_source = defaultdict(list)
    for c in CASES.values():
        by_source[c.source].append(c)
    for source, cases in by_source.items():
        bugs = [c.bug for c in cases]
        assert len(set(bugs)) == len(bugs), f"{source} is used twice for the same bug"


def test_no_case_comes_from_the_held_out_deeplocalize_stack_overflow_set():
    for c in CASES.values():
        ids = set(re.findall(r"\d{7,9}", c.source + " " + c.note))
        assert not ids & HELD_OUT_SO_IDS, f"{c.name} uses a held-out post: {ids & HELD_OUT_SO_IDS}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_builders_return_a_model_a_batch_a_loss_and_an_optimizer(name):
    for build in (CASES[name].buggy, CASES[name].fixed):
        model, x, y, loss, optimizer = build()
        assert len(x) == len(y) <= 256
        assert model is not None and loss is not None and optimizer is not None


@pytest.mark.parametrize("name", GUARDED)
def test_diagnose_names_the_bug_and_passes_the_fix(name):
    case = CASES[name]
    buggy = diagnose(*case.buggy())  # (model, x, y, loss, optimizer)
    assert set(buggy.codes) & case.expected, f"{name}: expected one of {sorted(case.expected)}, got {buggy.codes}"
    fixed = diagnose(*case.fixed())
    assert fixed.codes == [], f"{name}: the fixed twin gets {fixed.codes}"


@pytest.mark.parametrize("name", ["keras_sgd_lr_far_too_high", "torch_unscaled_wide_range_linear"])
def test_the_watch_run_trains_both_twins_and_scores_watchs_codes(name):
    """`--watch`: each twin trained as its program would be, one in each framework; both blow-ups (SGD far too
    high; a line fitted to a cubic of x up to 1000) show in training as a loss that is not finite, and their
    fixed twins train clean."""
    from benchmarks.real_bugs.run import run_case, watched_training

    result = run_case(CASES[name], watched_training)
    assert result.verdict == "named" and result.fixed_verdict == "clean", (result.buggy, result.fixed)


def test_program_steps_name_benchmark_cases_with_whole_step_counts():
    from benchmarks.real_bugs import LATER_SETS
    from benchmarks.real_bugs.program_steps import PROGRAM_STEPS

    every = {c.name for cases in (all_cases, held_out_cases, *LATER_SETS.values()) for c in cases()}
    assert PROGRAM_STEPS and set(PROGRAM_STEPS) <= every, set(PROGRAM_STEPS) - every
    for name, steps in PROGRAM_STEPS.items():
        assert len(steps) == 2 and all(type(n) is int and n >= 1 for n in steps), name


def test_told_the_programs_length_diagnose_names_a_program_too_short_to_move_the_loss():
    """`--program-steps`: the held-out 2-2-2 softmax net trained 5 epochs (35 steps in DeepLocalize's program) gets
    nothing without the length; in those 35 steps Adam at 1e-3 moves its loss under 1%, so told them it is
    too-few-steps, and the fixed twin stays clean. The tenth set's RMSprop at 1e-3 lowers its loss 36% in its
    600 steps without memorising the batch: a note, not a finding."""
    from benchmarks.real_bugs.program_steps import PROGRAM_STEPS
    from benchmarks.real_bugs.run import run_case

    case = HELD_OUT["so_50306988_two_unit_softmax_few_epochs"]
    assert run_case(case).verdict == "missed"
    told = run_case(case, program_steps=PROGRAM_STEPS[case.name])
    assert told.verdict == "named" and told.fixed_verdict == "clean", (told.buggy, told.fixed)
    slow = TENTH["tenth_keras_linear_fit_rmsprop_default_rate"]
    assert "too-few-steps" not in run_case(slow, program_steps=PROGRAM_STEPS[slow.name]).buggy.codes


def test_every_held_out_case_is_declared_in_full_from_a_held_out_post_and_its_builders_run():
    """The held-out set is a measurement (`python -m benchmarks.real_bugs --held-out`), not a regression guard:
    no diagnose verdict is asserted here, only that each case is well formed."""
    assert len(HELD_OUT) == len(held_out_cases()), "case names must be unique"
    assert not set(HELD_OUT) & set(CASES), "a held-out case must not be in the tuned set"
    for c in HELD_OUT.values():
        post = re.fullmatch(r"https://stackoverflow\.com/questions/(\d+)", c.source)
        assert post and post.group(1) in HELD_OUT_SO_IDS, f"{c.name}: not a held-out post: {c.source}"
        assert c.name.startswith(f"so_{post.group(1)}_") and c.framework == "keras", c.name
        assert c.bug.strip() and c.fix.strip() and c.kind.strip(), c.name
        assert c.expected <= set(CATALOGUE), f"{c.name}: not in the catalogue: {c.expected - set(CATALOGUE)}"
        assert c.expected or "Outside what diagnose can see" in c.note, f"{c.name}: no code and no reason"
        for build in (c.buggy, c.fixed):
            model, x, y, loss, optimizer = build()
            assert len(x) == len(y) <= 256
            assert model is not None and loss is not None and optimizer is not None


def _runs_on_its_batch(c, model, x):
    if c.framework == "torch":
        import torch

        assert isinstance(x, torch.Tensor), f"{c.name}: a torch case gives a tensor batch"
        with torch.no_grad():
            out = model(x)
    else:
        out = model(x)
    assert out.shape[0] == len(x), f"{c.name}: one output row per sample"


# The later held-out sets (fresh_cases.py, third_cases.py, ..., tenth_*_cases.py) are measurements run once
# (`python -m benchmarks.real_bugs --fresh` / `--third` / ... / `--tenth`), never regression guards: they
# are checked to be well formed and new, and diagnose is never called on them.
LATER_SETS = {  # prefix: (the set as listed, the sets built before it, least Keras cases, least PyTorch cases)
    "fresh": (fresh_cases(), (CASES, HELD_OUT), 10, 10),
    "third": (third_cases(), (CASES, HELD_OUT, FRESH), 5, 9),
    "fourth": (fourth_cases(), (CASES, HELD_OUT, FRESH, THIRD), 9, 5),
    "fifth": (fifth_cases(), (CASES, HELD_OUT, FRESH, THIRD, FOURTH), 1, 2),
    "sixth": (sixth_cases(), (CASES, HELD_OUT, FRESH, THIRD, FOURTH, FIFTH), 9, 10),
    "seventh": (seventh_cases(), (CASES, HELD_OUT, FRESH, THIRD, FOURTH, FIFTH, SIXTH), 10, 13),
    "eighth": (eighth_cases(), (CASES, HELD_OUT, FRESH, THIRD, FOURTH, FIFTH, SIXTH, SEVENTH), 4, 10),
    "ninth": (ninth_cases(), (CASES, HELD_OUT, FRESH, THIRD, FOURTH, FIFTH, SIXTH, SEVENTH, EIGHTH), 15, 5),
    "tenth": (tenth_cases(), (CASES, HELD_OUT, FRESH, THIRD, FOURTH, FIFTH, SIXTH, SEVENTH, EIGHTH, NINTH), 4, 0),
    "eleventh": (eleventh_cases(), (CASES, HELD_OUT, FRESH, THIRD, FOURTH, FIFTH, SIXTH, SEVENTH, EIGHTH, NINTH, TENTH),
                 4, 0),
    "twelfth": (twelfth_cases(), (CASES, HELD_OUT, FRESH, THIRD, FOURTH, FIFTH, SIXTH, SEVENTH, EIGHTH, NINTH, TENTH,
                                  ELEVENTH), 7, 0),
    "thirteenth": (thirteenth_cases(), (CASES, HELD_OUT, FRESH, THIRD, FOURTH, FIFTH, SIXTH, SEVENTH, EIGHTH, NINTH,
                                        TENTH, ELEVENTH, TWELFTH), 41, 2),
    "fourteenth": (fourteenth_cases(), (CASES, HELD_OUT, FRESH, THIRD, FOURTH, FIFTH, SIXTH, SEVENTH, EIGHTH, NINTH,
                                        TENTH, ELEVENTH, TWELFTH, THIRTEENTH), 36, 5),
    "fifteenth": (fifteenth_cases(), (CASES, HELD_OUT, FRESH, THIRD, FOURTH, FIFTH, SIXTH, SEVENTH, EIGHTH, NINTH,
                                      TENTH, ELEVENTH, TWELFTH, THIRTEENTH, FOURTEENTH), 0, 0),
    "sixteenth": (sixteenth_cases(), (CASES, HELD_OUT, FRESH, THIRD, FOURTH, FIFTH, SIXTH, SEVENTH, EIGHTH, NINTH,
                                      TENTH, ELEVENTH, TWELFTH, THIRTEENTH, FOURTEENTH, FIFTEENTH), 0, 0),
    "seventeenth": (seventeenth_cases(), (CASES, HELD_OUT, FRESH, THIRD, FOURTH, FIFTH, SIXTH, SEVENTH, EIGHTH,
                                          NINTH, TENTH, ELEVENTH, TWELFTH, THIRTEENTH, FOURTEENTH, FIFTEENTH,
                                          SIXTEENTH), 0, 0),
}


@pytest.mark.parametrize("prefix", sorted(LATER_SETS))
def test_later_held_out_cases_are_declared_in_full_and_new(prefix):
    listed, earlier, least_keras, least_torch = LATER_SETS[prefix]
    cases = {c.name: c for c in listed}
    assert len(cases) == len(listed), "case names must be unique"
    assert not set(cases) & {name for other in earlier for name in other}, "a case name is taken by an earlier set"
    used = {c.source for other in earlier for c in other.values()}
    frameworks = defaultdict(int)
    for c in cases.values():
        frameworks[c.framework] += 1
        assert c.name.startswith(f"{prefix}_{c.framework}_"), c.name
        assert c.source.startswith("http"), c.name
        assert c.source not in used, f"{c.name}: source already used by an earlier set"
        for post in re.findall(r"stackoverflow\.com/questions/(\d+)", c.source + " " + c.note):
            assert post not in HELD_OUT_SO_IDS, f"{c.name}: a DeepLocalize held-out post"
        assert c.bug.strip() and c.fix.strip() and c.kind.strip(), c.name
        assert c.expected <= set(CATALOGUE), f"{c.name}: not in the catalogue: {c.expected - set(CATALOGUE)}"
        assert c.expected or "Outside what diagnose can see" in c.note, f"{c.name}: no code and no reason"
    assert frameworks["keras"] >= least_keras and frameworks["torch"] >= least_torch, dict(frameworks)


LATER = {**FRESH, **THIRD, **FOURTH, **FIFTH, **SIXTH, **SEVENTH, **EIGHTH, **NINTH, **TENTH, **ELEVENTH, **TWELFTH,
         **THIRTEENTH, **FOURTEENTH, **FIFTEENTH, **SIXTEENTH, **SEVENTEENTH}


@pytest.mark.parametrize("name", sorted(LATER))
def test_later_builders_return_a_model_a_batch_a_loss_and_an_optimizer(name):
    """Several of the fourth and later sets' buggy twins fail in the forward pass, as the threads' programs did (an input of
    the wrong shape or dtype): there only the fixed twin must run on its batch. The fresh, third and fifth sets were
    built to run both twins."""
    c = LATER[name]
    for build in (c.buggy, c.fixed):
        built = build()
        assert len(built) == 5, f"{name}: build must return (model, x, y, loss, optimizer)"
        model, x, y, loss, optimizer = built
        assert model is not None and loss is not None and optimizer is not None
        assert len(x) == len(y) <= 256
        if build == c.fixed or name in FRESH or name in THIRD or name in FIFTH:
            _runs_on_its_batch(c, model, x)
