"""Tests for course_utils.diagnosis: diagnose() on one batch and watch() on a training loop.

Every detector has a case that must trigger it and one that must not; sizes
vary between cases so that no check can key on our examples' shapes.
"""
import copy
import math

import numpy as np
import pytest

import course_utils as cu

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from course_utils.diagnosis import Finding, Report, diagnose, watch  # noqa: E402

cu.setup(frameworks=("torch",))


def data(n=32, d=10, k=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randint(0, k, (n,), generator=g)


def mlp(d=10, h=32, k=3, *tail, act=nn.ReLU):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(d, h), act(), nn.Linear(h, k), *tail)


CE = nn.CrossEntropyLoss()


@pytest.mark.parametrize("n,d,h,k", [(32, 10, 32, 3), (48, 7, 20, 5)])
def test_healthy_torch_models_get_a_clean_report(n, d, h, k):
    x, y = data(n, d, k)
    model = mlp(d, h, k)
    state = copy.deepcopy(model.state_dict())
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    report = diagnose(model, x, y, CE, optimizer=opt)
    assert report.codes == [], str(report)
    assert report.clean and "no problems found" in str(report)
    # the student's model is untouched
    assert all(torch.equal(state[k2], v) for k2, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())


def test_healthy_regression_is_clean():
    torch.manual_seed(1)
    x = torch.randn(40, 6)
    y = torch.randn(40, 1)
    model = nn.Sequential(nn.Linear(6, 24), nn.Tanh(), nn.Linear(24, 1))
    assert diagnose(model, x, y, nn.MSELoss()).codes == []


@pytest.mark.parametrize("k", [3, 6])
def test_softmax_before_crossentropy(k):
    x, y = data(40, 8, k)
    assert "softmax-before-crossentropy" in diagnose(mlp(8, 16, k, nn.Softmax(dim=1)), x, y, CE, steps=0)
    assert "softmax-before-crossentropy" not in diagnose(mlp(8, 16, k), x, y, CE, steps=0)


def test_functional_softmax_inside_forward_is_seen_by_its_values():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(5, 12), nn.Linear(12, 4)

        def forward(self, x):
            return torch.softmax(self.b(torch.relu(self.a(x))), dim=1)

    torch.manual_seed(0)
    x, y = data(24, 5, 4)
    report = diagnose(Net(), x, y, CE, steps=0)
    assert "softmax-before-crossentropy" in report
    # F.relu in forward: a and b are NOT a linear stack
    assert "linear-stack" not in report


@pytest.mark.parametrize("sizes", [(10, 32, 3), (14, 9, 2)])
def test_linear_stack(sizes):
    d, h, k = sizes
    x, y = data(32, d, k)
    torch.manual_seed(0)
    broken = nn.Sequential(nn.Linear(d, h), nn.Dropout(0.0), nn.Linear(h, k))
    assert "linear-stack" in diagnose(broken, x, y, CE, steps=0)
    pooled = nn.Sequential(nn.Conv1d(1, 4, 3), nn.MaxPool1d(2), nn.Conv1d(4, 4, 3), nn.Flatten(),
                           nn.Linear(4 * ((d - 2) // 2 - 2), k))
    report = diagnose(pooled, x[:, None, :], y, CE, steps=0)
    # MaxPool is non-linear: only Conv1d(2) -> Flatten -> Linear is a linear pair, and a linear pair inside a
    # non-linear model does not stop it fitting (lesson 02): a note, and the report stays clean
    assert "linear-stack" not in report and report.clean
    assert len([n for n in report.notes if "compose into one linear map" in n]) == 1
    assert "notes:" in str(report) and "Notes:" in report._repr_html_()
    convs = nn.Sequential(nn.Conv1d(1, 4, 3), nn.Conv1d(4, 4, 3), nn.Flatten(), nn.Linear(4 * (d - 4), k))
    whole = diagnose(convs, x[:, None, :], y, CE, steps=0).finding("linear-stack")
    assert len([e for e in whole.evidence if "compose into one linear map" in e]) == 3  # 2 pairs + the summary


def test_a_linear_autoencoder_is_a_note_and_a_linear_regressor_of_other_targets_a_finding():
    """Two linear layers that reconstruct their own inputs through a narrower one are a linear autoencoder, a model in
    its own right (PCA's subspace; the seventeenth held-out set's repaired program). The same layers fitted to targets
    other than their inputs stay a finding."""
    torch.manual_seed(0)
    x = torch.rand(100, 2)
    x[:, 1] = 0.5 * x[:, 0] + x[:, 1]
    autoencoder = nn.Sequential(nn.Linear(2, 1), nn.Linear(1, 2))
    report = diagnose(autoencoder, x, x, nn.MSELoss(), optimizer=torch.optim.SGD(autoencoder.parameters(), lr=0.01))
    assert "linear-stack" not in report
    assert any("linear autoencoder" in n for n in report.notes)
    xor = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]).repeat(8, 1)
    report = diagnose(nn.Sequential(nn.Linear(2, 4), nn.Linear(4, 1)), xor, (xor[:, :1] != xor[:, 1:]).float(),
                      nn.MSELoss(), steps=0)
    assert "linear-stack" in report and not any("linear autoencoder" in n for n in report.notes)


def test_overfit_probe_lowers_its_own_rate_instead_of_blaming_the_model(monkeypatch):
    # a deep chain that Adam at lr 1e-2 blows up is not broken: the probe tries 1e-3 before reporting anything
    from course_utils.diagnosis import checks

    torch.manual_seed(0)
    x = torch.randn(32, 10)
    y = x[:, :1] - x[:, 1:2] ** 2
    model = nn.Sequential(nn.Linear(10, 64), nn.Tanh(), *[nn.Linear(64, 64, bias=False) for _ in range(19)],
                          nn.Linear(64, 1))
    assert "non-finite-loss" not in diagnose(model, x, y, nn.MSELoss(), steps=60)
    monkeypatch.setattr(checks, "PROBE_RATES", (1e-2,))  # the probe as it was: one rate only
    assert "non-finite-loss" in diagnose(model, x, y, nn.MSELoss(), steps=60)


@pytest.mark.parametrize("settles_at, flagged", [(0.05, False), (0.18, False), (0.5, True)])
def test_a_jump_in_the_first_steps_is_lr_too_high_unless_the_loss_then_settles_far_below_its_start(
        monkeypatch, settles_at, flagged):
    """The student's rate takes the loss from 1 to 30 at step 1. Settling at 0.05 or 0.18 of its start (two
    repaired programs of the thirteenth and fourteenth sets), those steps are training the model; settling at half
    of it (SGD at 0.1 on unscaled targets, a first held-out case) is still a blow-up."""
    from types import SimpleNamespace

    from course_utils.diagnosis import checks

    losses = np.concatenate([[1.0, 30.0], np.geomspace(5.0, settles_at, 8), np.full(10, settles_at)])
    monkeypatch.setattr(checks, "step_size", lambda *args: (SimpleNamespace(losses=losses, diverged=False), 1e-3))
    torch.manual_seed(0)
    x = torch.randn(32, 3)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    report = diagnose(model, x, x[:, :1], nn.MSELoss(), optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                      steps=0)
    assert ("lr-too-high" in report.codes) == flagged, str(report)
    if flagged:
        assert "loss 1.00 -> 30.0 at step 1, then about 0.5" in str(report)


@pytest.mark.parametrize("n,hidden,flagged", [(64, 1, False), (64, 32, True), (1, 1, True)])
def test_a_probe_still_falling_is_too_few_steps_only_for_a_model_that_could_memorise_the_batch(monkeypatch, n, hidden,
                                                                                              flagged):
    """A loss still falling when the probe stops means "give it more steps", unless the model has fewer weights than
    the batch has target values (it may never memorise them, and it is learning): then it is a note."""
    from course_utils.diagnosis import checks

    still_falling = np.linspace(1.0, 0.5, 600)  # never near the goal (0.1 of the first loss); the last 50 steps take 8% off
    monkeypatch.setattr(checks, "_probe_rounds", lambda *args, **kwargs: (still_falling, False))
    torch.manual_seed(0)
    x = torch.randn(n, 3)
    model = nn.Sequential(nn.Linear(3, hidden), nn.Tanh(), nn.Linear(hidden, 1))  # 6 weights with one hidden unit
    report = diagnose(model, x, torch.randn(n, 1) if n > 1 else torch.ones(1, 1), nn.MSELoss(), steps=200)
    assert ("too-few-steps" in report.codes) == flagged, str(report)
    assert any("may never memorise the batch" in note for note in report.notes) != flagged, str(report)


def test_a_probe_that_falls_to_one_output_for_every_sample_has_not_memorised_it(monkeypatch):
    """A loss can fall tenfold from a bad start to one constant answer (a ReLU output gone dark): not memorised."""
    from course_utils.diagnosis import checks

    monkeypatch.setattr(checks, "_probe_rounds", lambda *args, **kwargs: (np.geomspace(3.0, 0.25, 200), False))
    torch.manual_seed(0)
    x = torch.randn(32, 4)
    for silent, named in ((True, True), (False, False)):
        model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
        if silent:
            with torch.no_grad():
                model[2].weight.zero_()  # every sample gets the bias, and the probe here trains nothing
        report = diagnose(model, x, x[:, :1] ** 2, nn.MSELoss(), steps=200)
        assert ("cannot-overfit" in report.codes) == named, str(report)
        assert ("same output for every sample" in str(report)) == named, str(report)


def test_a_probe_rate_at_which_the_copy_falls_to_one_output_for_every_sample_is_lowered(monkeypatch):
    """The ninth set's fixed Conv3D net: at Adam 1e-2 its ReLUs went silent and it gave one answer for all, at 1e-3
    it memorised the batch. Only the last rate's collapse is the model's."""
    from course_utils.diagnosis import checks

    def rounds(ad, model, optimizer, *args, **kwargs):
        if optimizer.param_groups[0]["lr"] in silenced_at:
            with torch.no_grad():
                model[2].weight.zero_()  # every sample gets the bias
            return np.geomspace(3.0, 0.25, 200), False
        return (np.geomspace(3.0, 0.25, 200) if lower_rates_memorise else np.full(200, 3.0)), False

    monkeypatch.setattr(checks, "_probe_rounds", rounds)
    torch.manual_seed(0)
    x = torch.randn(32, 4)
    for silenced_at, lower_rates_memorise in (({1e-2}, True), (set(checks.PROBE_RATES), True), ({1e-2}, False)):
        report = diagnose(nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1)), x, x[:, :1] ** 2, nn.MSELoss(),
                          steps=200)
        memorised = lower_rates_memorise and len(silenced_at) == 1
        assert ("cannot-overfit" in report.codes) != memorised, str(report)
        assert ("overfit-one-batch" in report.passed) == memorised, str(report)
        assert "same output for every sample" in str(report) or memorised, str(report)
        assert ("fell to one output for every sample" in str(report)) == lower_rates_memorise, str(report)

@pytest.mark.parametrize("lower_rate_loss, reported", [(0.2, "overfit-one-batch"), (1.0, "too-few-steps"),
                                                         (2.9, "cannot-overfit")])
def test_a_probe_rate_whose_copy_stalls_at_one_output_for_every_sample_is_lowered(monkeypatch, lower_rate_loss,
                                                                                   reported):
    """The thirteenth set's repaired strided CNN: at Adam 1e-2 its ReLUs went silent and the loss stayed flat short of
    the goal, one output for all; at 1e-3 it memorised the batch. A lower rate that ends lower is reported; one that
    does no better leaves the stall standing, and says it was tried."""
    from course_utils.diagnosis import checks

    rates = []

    def rounds(ad, model, optimizer, *args, **kwargs):
        rates.append(optimizer.param_groups[0]["lr"])
        if rates[-1] == 1e-2:
            with torch.no_grad():
                model[2].weight.zero_()  # every sample gets the bias
            return np.linspace(3.0, 2.9, 200), False
        return np.geomspace(3.0, lower_rate_loss, 200), False  # (still falling at its end, unless at the goal)

    monkeypatch.setattr(checks, "_probe_rounds", rounds)
    torch.manual_seed(0)
    x = torch.randn(32, 4)
    report = diagnose(nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1)), x, x[:, :1] ** 2, nn.MSELoss(),
                      steps=200)
    assert rates[:2] == [1e-2, 1e-3], rates
    assert reported in report.codes + report.passed, str(report)
    if reported == "cannot-overfit":
        assert "Adam (lr 1e-2)" in str(report) and "it tried lr 1e-3 too, since this rate's copy gave one output" in str(report), str(report)
    else:
        assert "at lr 1e-2 the probe's copy fell to one output for every sample" in str(report), str(report)


def test_a_model_with_one_output_for_every_sample_from_the_start_is_probed_at_one_rate(monkeypatch):
    """Silent before any step (the tenth set's single dead ReLU unit): a lower rate cannot wake it, so it is not tried."""
    from course_utils.diagnosis import checks

    rates = []

    def rounds(ad, model, optimizer, *args, **kwargs):
        rates.append(optimizer.param_groups[0]["lr"])
        return np.linspace(3.0, 2.9, 200), False

    monkeypatch.setattr(checks, "_probe_rounds", rounds)
    torch.manual_seed(0)
    x = torch.randn(32, 4)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    with torch.no_grad():
        model[2].weight.zero_()
    assert "cannot-overfit" in diagnose(model, x, x[:, :1] ** 2, nn.MSELoss(), steps=200).codes
    assert rates == [1e-2], rates


def test_a_probe_rate_that_leaves_the_loss_higher_than_it_started_is_lowered(monkeypatch):
    from course_utils.diagnosis import checks

    rates = []

    def rounds(ad, model, optimizer, steps, target, rounds, floor=0.0):
        lr = optimizer.param_groups[0]["lr"]
        rates.append(lr)
        worse, learns = np.linspace(0.9, 1.0, 200), np.geomspace(0.9, 1e-3, 200)
        return (worse if lr == 1e-2 else learns), False

    monkeypatch.setattr(checks, "_probe_rounds", rounds)
    torch.manual_seed(0)
    report = diagnose(mlp(10, 16, 1), torch.randn(32, 10), torch.randn(32, 1), nn.MSELoss(), steps=200)
    assert rates == [1e-2, 1e-3] and "overfit-one-batch" in report.passed, (rates, str(report))


def test_units_the_probe_kills_are_a_note_when_the_batch_is_memorised_anyway():
    # Adam at lr 1e-2 kills many units of a wide default-initialised MLP, but it still memorises the batch:
    # those deaths are the probe's, not a reason the model cannot fit
    torch.manual_seed(0)
    x = torch.randn(32, 10)
    y = x[:, :1] - x[:, 1:2] ** 2
    model = nn.Sequential(nn.Linear(10, 512), nn.ReLU(), *[m for _ in range(3) for m in (nn.Linear(512, 512), nn.ReLU())],
                          nn.Linear(512, 1))
    report = diagnose(model, x, y, nn.MSELoss(), steps=60)
    assert "dead-relu" not in report and "overfit-one-batch" in report.passed
    assert any("after the probe's" in note for note in report.notes)

def test_unscaled_inputs_trigger_and_standardised_do_not():
    x, y = data(32, 10, 3)
    assert "unscaled-inputs" in diagnose(mlp(), x * 40 + 200, y, CE, steps=0)
    assert "unscaled-inputs" in diagnose(mlp(), x * 0.01 - 0.8, y, CE, steps=0)  # tiny spread around an offset
    assert "unscaled-inputs" not in diagnose(mlp(), x, y, CE, steps=0)
    assert "unscaled-inputs" not in diagnose(mlp(), torch.rand(32, 10), y, CE, steps=0)  # [0, 1] is fine


def test_small_inputs_are_named_when_the_model_cannot_fit_and_a_note_when_it_can():
    """scikit-learn's diabetes features come scaled to std 0.05: a small net cannot memorise noisy targets from them
    in the probe's budget, and the same net on standardised features can."""
    from sklearn.datasets import load_diabetes

    features, target = load_diabetes(return_X_y=True)
    x = torch.tensor(features[:128], dtype=torch.float32)
    y = torch.tensor((target[:128] - target.mean()) / target.std(), dtype=torch.float32).reshape(-1, 1)

    def net():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 1))

    small = diagnose(net(), x, y, nn.MSELoss())
    assert "unscaled-inputs" in small and "every input feature is small" in str(small)
    assert small.finding("cannot-overfit").severity == "consequence"
    standardised = diagnose(net(), (x - x.mean(0)) / x.std(0), y, nn.MSELoss())
    assert not standardised.findings
    # small inputs the probe memorises anyway (a wide net on 24 rows): a note, not a finding
    wide = nn.Sequential(nn.Linear(10, 256), nn.ReLU(), nn.Linear(256, 1))
    fits = diagnose(wide, x[:24], y[:24], nn.MSELoss(), optimizer=torch.optim.Adam(wide.parameters(), 1e-2))
    assert "unscaled-inputs" not in fits and any("every input feature is small" in n for n in fits.notes)


class _SequenceClassifier(nn.Module):
    """An LSTM over (batch, time, features) and a head on the last time step."""

    def __init__(self, batch_first, features=5, hidden=12, classes=3):
        super().__init__()
        torch.manual_seed(0)
        self.rnn = nn.LSTM(features, hidden, batch_first=batch_first)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


class _CentredOverBatch(nn.Module):
    """Subtracts the batch's mean inside forward: each output depends on the other samples."""

    def __init__(self):
        super().__init__()
        self.net = mlp(6, 16, 2)

    def forward(self, x):
        return self.net(x - x.mean(0))


def test_samples_mixed_across_the_batch_trigger_and_independent_samples_do_not():
    g = torch.Generator().manual_seed(1)
    sequences, labels = torch.rand(40, 7, 5, generator=g), torch.randint(0, 3, (40,), generator=g)
    mixed = diagnose(_SequenceClassifier(batch_first=False), sequences, labels, CE, steps=0)
    assert "samples-mixed" in mixed and "of 20 samples (sample" in str(mixed)
    assert "samples-mixed" in diagnose(_CentredOverBatch(), *data(24, 6, 2), CE, steps=0)
    fixed = diagnose(_SequenceClassifier(batch_first=True), sequences, labels, CE, steps=0)
    assert "samples-mixed" in fixed.passed and not fixed.findings
    # the inputs judged are what the LSTM receives (x), not what its head receives: no scale note on [0, 1] data
    assert not any("unscaled-inputs" in note for note in fixed.notes)
    # BatchNorm mixes samples only in training mode; the check runs in inference mode
    x, y = data(32, 10, 3)
    assert "samples-mixed" in diagnose(mlp(10, 16, 3), x, y, CE, steps=0).passed
    batchnorm = nn.Sequential(nn.Linear(10, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))
    assert "samples-mixed" in diagnose(batchnorm, x, y, CE, steps=0).passed


@pytest.mark.parametrize("labels,words", [
    (lambda y: y.int(), "the targets are int32"),
    (lambda y: y.float(), "the targets are float32"),
    (lambda y: y - 1, "run from -1 to 1, but the output has 3 classes"),
    (lambda y: y + 1, "run from 1 to 3, but the output has 3 classes"),
])
def test_targets_that_are_not_class_indices_are_named_not_raised(labels, words):
    x, y = data(30, 6, 3)
    report = diagnose(mlp(6, 12, 3), x, labels(y), CE, steps=0)
    assert "labels-not-class-indices" in report and words in str(report)
    assert "target-shape-broadcast" not in report


def test_class_indices_and_probability_targets_pass_the_label_check():
    x, y = data(30, 6, 3)
    assert "labels-not-class-indices" in diagnose(mlp(6, 12, 3), x, y, CE, steps=0).passed
    assert "labels-not-class-indices" in diagnose(mlp(6, 12, 3), x, y.to(torch.uint8), CE, steps=0).passed
    soft = torch.softmax(torch.randn(30, 3, generator=torch.Generator().manual_seed(2)), dim=1)
    report = diagnose(mlp(6, 12, 3), x, soft, CE, steps=0)  # probabilities of the output's shape: no indices
    assert "labels-not-class-indices" not in report and "labels-not-class-indices" not in report.passed


class PerStepTagger(nn.Module):
    """Token ids (batch, steps) -> tag scores (batch, tags, steps), the layout nn.CrossEntropyLoss takes per step;
    the last layer starts at zero, so the untrained loss is exactly log(tags)."""

    def __init__(self, vocab=20, tags=3):
        super().__init__()
        self.embed, self.tag = nn.Embedding(vocab, 8), nn.Linear(8, tags)
        nn.init.zeros_(self.tag.weight), nn.init.zeros_(self.tag.bias)

    def forward(self, tokens):
        return self.tag(self.embed(tokens)).transpose(1, 2)


def test_labels_the_loss_skips_are_not_read_as_classes():
    """Padded steps labelled -100, which nn.CrossEntropyLoss skips by default (ignore_index): not classes that
    name no output. With another ignore_index, the same -100 labels are named. The chance level of a (batch, tags,
    steps) output is log(tags), not log(steps)."""
    g = torch.Generator().manual_seed(3)
    tokens, tags = torch.randint(1, 20, (40, 9), generator=g), torch.randint(0, 3, (40, 9), generator=g)
    tags[::2, 6:] = -100  # every other sentence is padded after its sixth word
    torch.manual_seed(0)
    skipped = diagnose(PerStepTagger(), tokens, tags, nn.CrossEntropyLoss(), steps=0)
    assert "labels-not-class-indices" in skipped.passed and "init-loss" in skipped.passed, skipped
    torch.manual_seed(0)
    counted = diagnose(PerStepTagger(), tokens, tags, nn.CrossEntropyLoss(ignore_index=-1), steps=0)
    assert "labels-not-class-indices" in counted and "run from -100 to 2" in str(counted)


def test_every_label_the_loss_keeps_being_one_class_is_constant_targets():
    """Object pixels stored as the value the loss ignores (a VOC loader's 255 turned into ignore_index): the loss
    trains on background alone."""
    g = torch.Generator().manual_seed(4)
    images = torch.rand(24, 1, 6, 6, generator=g)
    objects = images[:, 0] > 0.6
    masks = torch.where(objects, -1, 0)  # the bug: every object pixel carries the ignored label
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 2, 1))
    report = diagnose(model, images, masks, nn.CrossEntropyLoss(ignore_index=-1), steps=0)
    assert "constant-targets" in report.codes and "every label it keeps is class 0" in str(report), str(report)
    fixed = diagnose(model, images, objects.long(), nn.CrossEntropyLoss(ignore_index=-1), steps=0)
    assert "constant-targets" in fixed.passed and not fixed.findings, str(fixed)


@pytest.mark.parametrize("width", [16, 7])
def test_degenerate_batchnorm(width):
    def net():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(6, width), nn.BatchNorm1d(width), nn.ReLU(), nn.Linear(width, 3))

    x, y = data(20, 6, 3)
    one = diagnose(net(), x[:1], y[:1], CE)
    assert "degenerate-batchnorm" in one
    assert any("overfit" in check for check, _ in one.skipped)  # said which check was skipped and why
    same = diagnose(net(), x[:1].repeat(12, 1), y[:1].repeat(12), CE, steps=0)
    assert "degenerate-batchnorm" in same
    assert "degenerate-batchnorm" not in diagnose(net(), x, y, CE, steps=0)


def test_output_cannot_reach_target():
    torch.manual_seed(0)
    x = torch.randn(30, 4)
    y = torch.randn(30, 1) - 1.0  # mostly negative
    relu_out = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1), nn.ReLU())
    assert "output-cannot-reach-target" in diagnose(relu_out, x, y, nn.MSELoss(), steps=0)
    sig_out = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid())
    assert "output-cannot-reach-target" in diagnose(sig_out, x, y * 5, nn.MSELoss(), steps=0)
    assert "output-cannot-reach-target" not in diagnose(sig_out, x, torch.rand(30, 1), nn.MSELoss(), steps=0)
    assert "output-cannot-reach-target" not in diagnose(relu_out, x, y.abs(), nn.MSELoss(), steps=0)
    # a ReLU on the logits of a softmax cross-entropy: no logit below 0, the clipped ones pass no gradient
    x3, labels = data(32, 10, 3)
    report = diagnose(mlp(10, 32, 3, nn.ReLU()), x3, labels, CE, steps=0)
    assert "output-cannot-reach-target" in report.codes and "logits on this batch are clipped" in str(report)
    assert "output-cannot-reach-target" not in diagnose(mlp(10, 32, 3), x3, labels, CE, steps=0).codes


def test_a_tanh_on_the_logits_caps_the_probabilities_and_the_finding_says_how_far():
    """tanh as a classifier's last activation: a loss that applies its own softmax (or sigmoid) gets logits within
    [-1, 1], so no class's probability can pass e / (e + (K - 1) / e); trained as long as you like, the loss stays
    above -log of that. Into a loss that expects probabilities (Keras's default), the fix is a softmax, not
    from_logits=True, which would keep the same cap."""
    x, labels = data(48, 10, 3)
    capped = mlp(10, 32, 3, nn.Tanh())
    report = diagnose(capped, x, labels, CE, steps=0)
    ceiling = np.e / (np.e + 2 / np.e)
    assert "output-cannot-reach-target" in report.codes, str(report)
    assert f"no probability can pass {ceiling:.3g} with 3 classes" in str(report)
    assert f"cannot fall below {-np.log(ceiling):.3g}" in str(report)
    optimizer = torch.optim.Adam(capped.parameters(), 1e-2)  # the cap holds however long it trains
    for _ in range(300):
        optimizer.zero_grad()
        loss = CE(capped(x), labels)
        loss.backward()
        optimizer.step()
    assert -np.log(ceiling) <= loss.item() < -np.log(ceiling) + 0.05
    assert "output-cannot-reach-target" not in diagnose(mlp(10, 32, 3), x, labels, CE, steps=0).codes
    binary = diagnose(mlp(10, 32, 1, nn.Tanh()), x, (labels == 0).float()[:, None], nn.BCEWithLogitsLoss(), steps=0)
    assert "output-cannot-reach-target" in binary.codes and "no probability can pass 0.731:" in str(binary)
    keras = pytest.importorskip("keras")
    cu.setup(frameworks=("torch", "tensorflow"))
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(3, activation="tanh")])
    keras_report = diagnose(model, x.numpy(), np.eye(3)[labels.numpy()], "categorical_crossentropy", steps=0)
    assert keras_report.finding("logits-into-probability-loss").fix.startswith("Replace the tanh"), str(keras_report)
    assert f"no probability could pass {ceiling:.3g}" in str(keras_report)


def test_target_shape_broadcast():
    x = torch.randn(25, 4)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    assert "target-shape-broadcast" in diagnose(model, x, torch.randn(25), nn.MSELoss(), steps=0)
    assert "target-shape-broadcast" not in diagnose(model, x, torch.randn(25, 1), nn.MSELoss(), steps=0)


def test_init_loss_off():
    x, y = data(32, 10, 4)
    big = mlp(10, 32, 4)
    with torch.no_grad():
        big[2].weight.mul_(200)
    assert "init-loss-off" in diagnose(big, x, y, CE, steps=0)
    assert "init-loss-off" not in diagnose(mlp(10, 32, 4), x, y, CE, steps=0)


def test_dead_relu():
    x, y = data(32, 10, 3)
    dead = mlp(10, 24, 3)
    with torch.no_grad():
        dead[0].bias.fill_(-50.0)
    report = diagnose(dead, x, y, CE, steps=0)
    assert "dead-relu" in report and "zero-gradients" in report
    assert "dead-relu" not in diagnose(mlp(10, 24, 3), x, y, CE, steps=0)
    small = diagnose(mlp(10, 24, 3), x[:3], y[:3], CE, steps=0)
    assert any(check == "dead-relu" for check, _ in small.skipped)


def test_zero_gradients_only_at_initialisation_are_a_note():
    """A zero-initialised last layer passes no gradient back at the start, only until it takes a step: a note.
    Dead units (test_dead_relu) stay at 0 after a step: a finding."""
    x, y = data(32, 10, 3)
    model = mlp(10, 24, 3)
    with torch.no_grad():
        model[-1].weight.zero_()
    report = diagnose(model, x, y, CE, steps=0)
    assert "zero-gradients" not in report.codes, str(report)
    assert any("at initialisation" in n and "after one step" in n for n in report.notes), str(report)


def test_leaky_units_below_zero_are_not_called_dead():
    # A LeakyReLU unit whose input is negative for every sample still passes slope x gradient:
    # telling this student to "use LeakyReLU" would be a false alarm. The same weights with ReLU are dead.
    x, y = data(32, 10, 3)
    for act, expect_dead in ((lambda: nn.LeakyReLU(0.1), False), (nn.ReLU, True), (lambda: nn.LeakyReLU(0.0), True)):
        model = mlp(10, 24, 3, act=act)
        with torch.no_grad():
            model[0].bias.fill_(-50.0)
        assert ("dead-relu" in diagnose(model, x, y, CE, steps=0)) is expect_dead
        assert ("dead-relu" in train(model, x, y, lr=1e-3, steps=3, every=1)) is expect_dead


def test_vanishing_and_exploding_gradients():
    torch.manual_seed(0)
    x, y = data(32, 10, 3)
    layers = [nn.Linear(10, 10), nn.Sigmoid()]
    for _ in range(12):
        layers += [nn.Linear(10, 10), nn.Sigmoid()]
    deep = nn.Sequential(*layers, nn.Linear(10, 3))
    assert "vanishing-gradients" in diagnose(deep, x, y, CE, steps=0)
    for gain, depth in ((10.0, 5), (6.0, 7)):
        torch.manual_seed(0)
        layers = []
        for _ in range(depth):
            lin = nn.Linear(10, 10)
            with torch.no_grad():
                lin.weight.mul_(gain)  # every layer multiplies the signal (and the gradient) by about `gain`
            layers += [lin, nn.ReLU()]
        wild = nn.Sequential(*layers, nn.Linear(10, 3))
        assert "exploding-gradients" in diagnose(wild, x, y, CE, steps=0)
    assert "vanishing-gradients" not in diagnose(mlp(), x, y, CE, steps=0)
    assert "exploding-gradients" not in diagnose(mlp(), x, y, CE, steps=0)


def test_lr_too_high_and_overfit_probe():
    x, y = data(32, 10, 3)
    model = mlp()
    report = diagnose(model, x, y, CE, optimizer=torch.optim.SGD(model.parameters(), lr=200.0))
    assert "lr-too-high" in report
    model = mlp()
    assert "lr-too-high" not in diagnose(model, x, y, CE, optimizer=torch.optim.SGD(model.parameters(), lr=0.05))
    # a linear model (55 parameters) cannot memorise 64 random labels: a floor, said in a note, not a bug
    torch.manual_seed(0)
    x2, y2 = data(64, 10, 5)
    small = diagnose(nn.Linear(10, 5), x2, y2, CE)
    assert "cannot-overfit" not in small and any("55 parameters for 64 target values" in n for n in small.notes)
    assert "cannot-overfit" not in diagnose(mlp(10, 64, 5), x2, y2, CE)


def test_clear_errors():
    x, y = data(10, 4, 2)
    with pytest.raises(TypeError, match="torch.nn.Module or a keras.Model"):
        diagnose(object(), x, y, CE)
    with pytest.raises(ValueError, match="samples"):
        diagnose(mlp(4, 8, 2), x, y[:5], CE)
    assert diagnose(mlp(7, 8, 2), x, y, CE).codes == ["layer-size-mismatch"]  # a first layer for 7 features, x has 4


def test_report_renders_and_is_stable_across_thread_counts():
    x, y = data(32, 10, 3)
    codes = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        model = mlp(10, 32, 3, nn.Softmax(dim=1))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        codes.append(diagnose(model, x * 30 + 100, y, CE, optimizer=opt, steps=60).codes)
    torch.set_num_threads(1)
    assert codes[0] == codes[1] and "softmax-before-crossentropy" in codes[0]
    report = diagnose(mlp(10, 32, 3, nn.Softmax(dim=1)), x, y, CE, steps=0)
    text, page = str(report), report._repr_html_()
    assert "[softmax-before-crossentropy]" in text and "fix:" in text and "01 Missing zero_grad" in text
    assert "<table>" in page and "softmax-before-crossentropy" in page
    assert isinstance(report.findings[0], Finding) and isinstance(report, Report)


def train(model, x, y, *, zero=True, lr=0.1, steps=40, optimizer_hook=True, every=5):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    with watch(model, optimizer=opt if optimizer_hook else None, every=every) as w:
        for _ in range(steps):
            if zero:
                opt.zero_grad()
            loss = CE(model(x), y)
            loss.backward()
            opt.step()
            w.step(loss)
    return w.report()


@pytest.mark.parametrize("n,h", [(64, 32), (24, 9)])
def test_watch_gradients_accumulate(n, h):
    x, y = data(n, 10, 3)
    assert "gradients-accumulate" in train(mlp(10, h, 3), x, y, zero=False, lr=0.01)
    assert train(mlp(10, h, 3), x, y).codes == []


def test_watch_intended_accumulation_is_not_flagged():
    x, y = data(32, 10, 3)
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with watch(model, optimizer=opt) as w:
        for _ in range(20):
            opt.zero_grad()
            for part in (slice(0, 16), slice(16, 32)):  # two backward passes per step, on purpose
                CE(model(x[part]), y[part]).backward()
            opt.step()
            w.step()
    assert "gradients-accumulate" not in w.report()


def test_watch_divergence_nan_flat_loss_and_zero_grads():
    x, y = data(64, 10, 3)
    report = train(mlp(), x, y, lr=100.0)
    assert "non-finite-loss" in report or "lr-too-high" in report
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with watch(model, optimizer=opt, every=5) as w:
        for _ in range(30):
            loss = CE(model(x), y)
            loss.backward()
            opt.zero_grad()  # between backward and step: nothing is ever applied
            opt.step()
            w.step(loss)
    codes = w.report().codes
    assert "zero-gradients" in codes and "loss-not-decreasing" in codes and "weights-unchanged" in codes


def watched_run(model, opt, x, y, steps, every, after_step=lambda i: None):
    """The textbook loop under watch; ``after_step(i)`` runs after each optimizer step (to tamper with it)."""
    with watch(model, optimizer=opt, every=every) as w:
        for i in range(steps):
            opt.zero_grad()
            loss = CE(model(x), y)
            loss.backward()
            opt.step()
            after_step(i)
            w.step(loss)
    return w


def test_watch_a_loss_blown_up_at_the_first_steps_and_ending_far_above_its_first_value_is_lr_too_high():
    """Adam at lr 100 takes the loss from about 1.1 to 1e5 in one step; it comes down from there but ends hundreds of
    times above where it began. The blow-up sits inside the first fifth's median, so measured from that median alone
    the loss 'fell' and watch said nothing (the twelfth held-out set's age classifier at Adam 100 got no finding)."""
    x, y = data(64, 10, 3)

    def run_on(lr):
        model = mlp(10, 16, 3)
        return watched_run(model, torch.optim.Adam(model.parameters(), lr=lr), x, y, 100, 5)

    blown = run_on(100.0)
    losses = np.asarray(blown.state.losses)
    assert losses.max() > 1e4 * losses[0] and np.median(losses[-20:]) > 100 * losses[0]  # the run described above
    report = blown.report()
    assert "lr-too-high" in report.codes and "(first step)" in str(report), str(report)
    healthy = run_on(1e-2).report()
    assert healthy.codes == [] and "loss-trend" in healthy.passed, str(healthy)


def test_watch_units_dying():
    x, y = data(64, 10, 3)
    model = mlp(10, 16, 3)

    def huge_step(i):  # what a huge step does to a layer
        if i == 5:
            with torch.no_grad():
                model[0].bias.fill_(-100.0)

    w = watched_run(model, torch.optim.SGD(model.parameters(), lr=0.1), x, y, 10, 2, huge_step)
    assert "dead-relu" in w.report()
    # and the hooks are gone after the with-block
    assert not model[1]._forward_hooks


def test_watch_units_dead_while_the_loss_halves_are_a_note_and_a_finding_when_it_does_not():
    """Two thirds of a wide layer dead from the start: the other third still takes the loss below half of where
    it began, so the deaths are worth knowing, not the bug (the benchmark's fixed twins got dead-relu from watch
    this way). With every unit dead the loss cannot fall, and dead-relu stays a finding."""
    x, y = data(64, 10, 3)

    def run(dead_units):
        model = mlp(10, 48, 3)
        with torch.no_grad():
            model[0].bias[:dead_units] = -100.0  # these units output 0 for every sample
        return watched_run(model, torch.optim.Adam(model.parameters(), lr=1e-2), x, y, 100, 5).report()

    some = run(32)
    assert "dead-relu" not in some.codes and "loss-trend" in some.passed, str(some)
    assert any(n.startswith("dead-relu: 1 ReLU: 67% dead") and "anyway" in n for n in some.notes), str(some)
    every = run(48)
    assert "dead-relu" in every.codes and "loss-not-decreasing" in every.codes, str(every)


def test_keras_healthy_clean_and_bugs_found():
    cu.setup(frameworks=("torch", "tensorflow"))
    import keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 6)).astype("float32")
    y = rng.integers(0, 3, 32)

    def net(out=None, hidden="relu"):
        cu.seed(0)
        return keras.Sequential([keras.Input((6,)), keras.layers.Dense(24, activation=hidden),
                                 keras.layers.Dense(3, activation=out)])

    logits = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    healthy = net()
    weights = [w.copy() for w in healthy.get_weights()]
    assert diagnose(healthy, x, y, logits).codes == []
    assert all(np.array_equal(a, b) for a, b in zip(weights, healthy.get_weights()))
    assert "softmax-before-crossentropy" in diagnose(net("softmax"), x, y, logits, steps=0)
    assert diagnose(net("softmax"), x, y, "sparse_categorical_crossentropy", steps=0).codes == []
    assert "logits-into-probability-loss" in diagnose(net(), x, y, "sparse_categorical_crossentropy", steps=0)
    assert "linear-stack" in diagnose(net(hidden=None), x, y, logits, steps=0)
    cu.seed(0)
    one = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                            keras.layers.Dense(1, activation="softmax")])
    assert "one-unit-softmax" in diagnose(one, x, (y > 0).astype("float32").reshape(-1, 1), "binary_crossentropy",
                                          steps=0)
    model = net()
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss=logits)
    w = watch(model, x=x, every=4)
    model.fit(x, y, batch_size=8, epochs=4, verbose=0, callbacks=[w])
    assert w.report().codes == []
    model = net()
    model.compile(optimizer=keras.optimizers.SGD(1e4), loss=logits)
    w = watch(model, x=x, every=4)
    model.fit(x, y, batch_size=8, epochs=4, verbose=0, callbacks=[w])
    assert set(w.report().codes) & {"lr-too-high", "non-finite-loss", "update-ratio-high"}


def test_keras_watch_reads_a_training_loop_of_ones_own():
    """A GradientTape loop (a GAN's, a VAE's) has no fit to hang a callback on: the same watch reads it through
    w.step(loss) after each apply_gradients. A healthy loop is clean; a step far too large is named; gradients
    applied to the variables of a model built again leave the watched model's weights exactly where they were;
    a layer the tape gives no gradient (None) at every sampled step is named when w.step gets the gradients."""
    cu.setup(frameworks=("torch", "tensorflow"))
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 6)).astype("float32")
    y = rng.integers(0, 3, 32)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def net():
        cu.seed(0)
        return keras.Sequential([keras.Input((6,)), keras.layers.Dense(24, activation="relu"), keras.layers.Dense(3)])

    def train(model, optimizer, steps=40, updated=None, forward=None):
        updated = updated or model
        with watch(model, x=x, every=4) as w:
            for _ in range(steps):
                with tf.GradientTape() as tape:
                    loss = loss_fn(y, (forward or updated)(x))
                grads = tape.gradient(loss, updated.trainable_variables)
                optimizer.apply_gradients(zip(grads, updated.trainable_variables))
                w.step(loss, grads if updated is model else None)
        return w.report()

    healthy = train(net(), keras.optimizers.Adam(1e-2))
    assert healthy.codes == [] and "loss-trend" in healthy.passed and "update-ratio" in healthy.passed, str(healthy)
    assert set(train(net(), keras.optimizers.SGD(1e4)).codes) & {"lr-too-high", "non-finite-loss",
                                                                   "update-ratio-high"}
    model = net()
    rebuilt = net()  # the loop trains this one; the watched model never changes
    unchanged = train(model, keras.optimizers.Adam(1e-2), updated=rebuilt)
    assert "weights-unchanged" in unchanged.codes and "loss-trend" in unchanged.passed, str(unchanged)
    assert unchanged.finding("weights-unchanged").fix.startswith("Call optimizer.apply_gradients")
    model = net()
    first, last = model.layers  # the loss reaches the first layer through a stop_gradient: the tape gives it None
    with pytest.warns(UserWarning, match="Gradients do not exist"):  # all the student sees from Keras
        cut = train(model, keras.optimizers.Adam(1e-2), forward=lambda inputs: last(tf.stop_gradient(first(inputs))))
    assert "zero-gradients" in cut.codes and "1 of 2 layers got no gradient" in str(cut), str(cut)
    assert first.name in cut.finding("zero-gradients").evidence[0]
    cu.seed(0)
    tokens = rng.integers(0, 50, (32, 7))
    embedded = keras.Sequential([keras.Input((7,), dtype="int32"), keras.layers.Embedding(50, 8),
                                 keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(3)])
    optimizer = keras.optimizers.Adam(1e-2)
    with watch(embedded, every=2) as w:  # an embedding's gradient is tf.IndexedSlices, not an array
        for _ in range(6):
            with tf.GradientTape() as tape:
                loss = loss_fn(y, embedded(tokens))
            grads = tape.gradient(loss, embedded.trainable_variables)
            optimizer.apply_gradients(zip(grads, embedded.trainable_variables))
            w.step(loss, grads)
    assert "zero-gradients" not in w.report().codes and len(w.state.zero_at_step) == 3
    with pytest.raises(ValueError, match=r"1 gradients for the model's 4 trainable variables"):
        watch(net(), x=x).step(1.0, [None])  # not the list the tape gave for model.trainable_variables


def test_cu_diagnose_stays_a_function_after_the_package_is_imported():
    # regression: with a module named like the function, the first import replaced cu.diagnose by the module
    import inspect

    import course_utils as cu
    import course_utils.diagnosis  # noqa: F401

    for _ in range(2):
        assert inspect.isfunction(cu.diagnose) and inspect.isfunction(cu.watch)


def test_findings_point_only_at_lessons_that_teach_them():
    from course_utils.diagnosis.findings import Finding

    # No lesson shows these bugs yet: the report must not send a student to one.
    for code in ("vanishing-gradients", "exploding-gradients", "constant-inputs", "constant-targets"):
        assert Finding(code, []).lesson == "not covered by a lesson yet", code
    assert "01" in Finding("gradients-accumulate", []).lesson
    for code in ("target-shape-broadcast", "one-unit-softmax", "logits-into-probability-loss", "softmax-over-batch",
                 "softmax-before-crossentropy", "output-cannot-reach-target"):
        assert "07 The loss and the output disagree" in Finding(code, []).lesson, code
    for code in ("frozen-parameters", "optimizer-not-on-model", "no-gradient-path", "weights-unchanged"):
        assert Finding(code, []).lesson == "08 The weights never move", code


# --- detectors for real bugs they were not built on (issue 15; benchmarks/real_bugs) --------------

def fits(model, x, y, loss, optimizer, **kw):
    return diagnose(model, x, y, loss, optimizer=optimizer, steps=kw.pop("steps", 150), lr_steps=10, **kw)


def test_frozen_parameters_whole_model_and_part_that_stops_fitting():
    x, y = data(48, 6, 3)
    model = mlp(6, 24, 3)
    for p in model.parameters():
        p.requires_grad_(False)
    report = fits(model, x, y, CE, torch.optim.SGD(model.parameters(), lr=0.1))
    assert "frozen-parameters" in report.codes and "no weight can change" in str(report)
    assert dict(report.skipped)["overfit-one-batch"] == "no parameter of the model can train"
    # hidden layer frozen at a tiny width: the output layer alone cannot memorise random labels
    x, y = data(64, 6, 5)
    narrow = mlp(6, 16, 5)
    narrow[0].requires_grad_(False)
    report = fits(narrow, x, y, CE, torch.optim.Adam(narrow.parameters(), lr=1e-2))
    assert "frozen-parameters" in report.codes and "1 of 2 layers" in str(report)


def test_frozen_layers_of_a_model_that_still_fits_are_a_note():
    x, y = data(32, 6, 3)
    model = mlp(6, 64, 3)
    model[0].requires_grad_(False)  # fine-tuning: a frozen wide first layer, the head still memorises
    report = fits(model, x, y, CE, torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2))
    assert "frozen-parameters" not in report.codes
    assert any("frozen" in note and "on purpose" in note for note in report.notes)


def test_keras_trainable_false_is_named():
    keras = pytest.importorskip("keras")
    cu.setup(frameworks=("torch", "tensorflow"))
    x = np.random.default_rng(0).normal(size=(32, 5)).astype("float32")
    y = np.random.default_rng(1).integers(0, 3, 32)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.trainable = False
    report = diagnose(model, x, y, "sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam(1e-2),
                      steps=20, lr_steps=5)
    assert "frozen-parameters" in report.codes and "trainable=False" in str(report)
    model.trainable = True
    assert "frozen-parameters" not in diagnose(model, x, y, "sparse_categorical_crossentropy",
                                               optimizer=keras.optimizers.Adam(1e-2), steps=20, lr_steps=5).codes


def test_an_optimizer_over_another_model_is_named():
    x, y = data(32, 6, 3)
    earlier = mlp(6, 16, 3)
    optimizer = torch.optim.SGD(earlier.parameters(), lr=0.1)
    model = mlp(6, 16, 3)  # rebuilt after the optimizer was made
    report = fits(model, x, y, CE, optimizer)
    assert "optimizer-not-on-model" in report.codes and "none of them" in str(report)
    assert "your optimizer does not hold" in dict(report.skipped)["lr-too-high"]
    partial = torch.optim.SGD(model[2].parameters(), lr=0.1)
    assert "leaves out 2 of the model's 4" in str(fits(model, x, y, CE, partial))
    assert "optimizer-not-on-model" not in fits(model, x, y, CE, torch.optim.SGD(model.parameters(), lr=0.1)).codes


def test_a_learning_rate_too_small_to_move_anything_is_named():
    x, y = data(32, 6, 3)
    model = mlp(6, 16, 3)
    report = fits(model, x, y, CE, torch.optim.SGD(model.parameters(), lr=1e-7))
    assert "update-ratio-low" in report.codes
    assert "lr 1e-07" in str(report) and "the model can learn" in str(report)
    assert "update-ratio-low" not in fits(model, x, y, CE, torch.optim.SGD(model.parameters(), lr=0.1)).codes


def test_identical_inputs_are_named_instead_of_dead_units():
    x, y = data(32, 6, 3)
    same = x[:1].repeat(32, 1)
    report = fits(mlp(6, 16, 3), same, y, CE, None, steps=0)
    assert "constant-inputs" in report.codes and "dead-relu" not in report.codes
    assert "2 different" not in str(report) and "identical" in str(report)
    assert "constant-inputs" not in fits(mlp(6, 16, 3), same, torch.zeros(32, dtype=torch.long), CE, None,
                                         steps=0).codes  # nothing to tell apart
    assert "constant-inputs" not in fits(mlp(6, 16, 3), x, y, CE, None, steps=0).codes


def test_softmax_rows_against_several_ones_per_target_row():
    x = torch.randn(40, 6)
    multi_hot = (torch.rand(40, 4) > 0.5).float()
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 4), nn.Softmax(dim=1))
    finding = diagnose(model, x, multi_hot, nn.BCELoss(), steps=0).finding("output-cannot-reach-target")
    assert "several 1s" in finding.evidence[0] and "sigmoid" in finding.fix
    sigmoid = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 4), nn.Sigmoid())
    assert "output-cannot-reach-target" not in diagnose(sigmoid, x, multi_hot, nn.BCELoss(), steps=0).codes


def test_a_softmax_of_probabilities_cannot_reach_one_hot_targets():
    x, labels = data(40, 6, 3)
    one_hot = torch.eye(3)[labels]
    twice = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3), nn.Softmax(dim=1), nn.Softmax(dim=1))
    finding = diagnose(twice, x, one_hot, nn.MSELoss(), steps=0).finding("output-cannot-reach-target")
    assert "e/(e + 2) = 0.576" in str(finding) and "once" in finding.fix
    once = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3), nn.Softmax(dim=1))
    assert "output-cannot-reach-target" not in diagnose(once, x, one_hot, nn.MSELoss(), steps=0).codes


def test_sigmoid_rows_into_a_categorical_loss():
    keras = pytest.importorskip("keras")
    cu.setup(frameworks=("torch", "tensorflow"))
    rng = np.random.default_rng(0)
    x, labels = rng.normal(size=(40, 5)).astype("float32"), rng.integers(0, 3, 40)
    one_hot = np.eye(3, dtype="float32")[labels]

    def net(head):
        return keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"),
                                 keras.layers.Dense(3, activation=head)])

    report = diagnose(net("sigmoid"), x, one_hot, "categorical_crossentropy", steps=0)
    assert "rows-not-probabilities" in report.codes and "logits-into-probability-loss" not in report.codes
    assert "from_logits=True is not the fix" in report.finding("rows-not-probabilities").fix
    assert report.clean is False and diagnose(net("softmax"), x, one_hot, "categorical_crossentropy", steps=0).clean


def test_one_target_repeated_across_several_outputs():
    x = torch.randn(30, 4)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    finding = diagnose(model, x, torch.randn(30, 1), nn.MSELoss(), steps=0).finding("target-shape-broadcast")
    assert "compared with all 3 outputs of its row" in finding.evidence[0]
    assert "target-shape-broadcast" not in diagnose(model, x, torch.randn(30, 3), nn.MSELoss(), steps=0).codes


def test_a_model_too_small_to_memorise_is_noted_not_flagged():
    torch.manual_seed(0)
    x = torch.randn(64, 1)
    y = 0.3 * x + torch.randn(64, 1)  # a noisy line: a linear model's floor is the noise
    line = nn.Linear(1, 1)
    report = fits(line, x, y, nn.MSELoss(), torch.optim.SGD(line.parameters(), lr=0.05))
    assert report.clean and any("2 parameters for 64 target values" in n for n in report.notes)
    x, labels = data(64, 6, 8)  # random labels, a model with more parameters than labels: still a finding
    big_but_linear = nn.Sequential(nn.Linear(6, 32), nn.Linear(32, 8))
    assert "cannot-overfit" in fits(big_but_linear, x, labels, CE, None).codes


def test_a_reading_that_did_not_stop_fitting_is_a_note_unless_the_students_run_stalls():
    torch.manual_seed(0)
    x = torch.rand(48, 2)  # inputs in one quadrant: many ReLU hyperplanes miss the data at initialisation
    y = (x.sum(1, keepdim=True) > 1).float()
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
    with torch.no_grad():
        model[0].bias.fill_(-3.0)  # most units start dead ...
        model[0].bias[:6] = 0.0  # ... six live ones are enough to fit
    report = fits(model, x, y, nn.BCEWithLogitsLoss(), torch.optim.Adam(model.parameters(), lr=1e-2), steps=200)
    assert "dead-relu" not in report.codes and any(n.startswith("dead-relu:") for n in report.notes)
    stalled = fits(model, x, y, nn.BCEWithLogitsLoss(), torch.optim.SGD(model.parameters(), lr=1e-6))
    assert "dead-relu" in stalled.codes


def test_inputs_a_few_features_far_from_zero_are_named():
    """Iris-like: features up to about 8, two of four more than 5 standard deviations from zero."""
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.normal([5.8, 3.0, 3.8, 1.2], [0.8, 0.4, 1.8, 0.8], size=(60, 4)), dtype=torch.float32)
    y = torch.tensor(rng.integers(0, 3, 60))
    report = diagnose(mlp(4, 16, 3), x, y, CE, steps=0)
    assert "2 of 4 features sit more than 5 standard deviations from zero" in str(report)
    assert "unscaled-inputs" not in diagnose(mlp(4, 16, 3), (x - x.mean(0)) / x.std(0), y, CE, steps=0).codes


def test_inputs_two_far_features_among_hundreds_are_not_named():
    """Pixels in [0, 1]: two bright pixels of 400 sit far from zero, which is not what the first layer mostly sees."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(60, 400))
    x[:, :2] = rng.normal(0.75, 0.12, size=(60, 2))
    y = torch.tensor(rng.integers(0, 3, 60))
    report = diagnose(mlp(400, 16, 3), torch.tensor(x, dtype=torch.float32), y, CE, steps=0)
    assert "unscaled-inputs" in report.passed, str(report)


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_the_overfit_probe_switches_dropout_off(framework):
    """The overfit test memorises with regularisation off: Dropout(0.5) must not turn into cannot-overfit."""
    x, y = data(48, 8, 4)
    if framework == "torch":
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 4))
        report = diagnose(model, x, y, CE, steps=150)
        assert model[2].p == 0.5  # the student's model is untouched
    else:
        keras = pytest.importorskip("keras")
        cu.setup(frameworks=("torch", "tensorflow"))
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(64, activation="relu"),
                                  keras.layers.Dropout(0.5), keras.layers.Dense(4)])
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        report = diagnose(model, x.numpy(), y.numpy(), loss, steps=150)
        assert model.layers[1].rate == 0.5
    assert "overfit-one-batch" in report.passed, str(report)
    assert any("with the model's 1 dropout layer(s) switched off" in note for note in report.notes), report.notes


def test_the_probe_says_it_trained_without_the_students_weight_decay():
    x, y = data(48, 8, 4)
    torch.manual_seed(0)
    model = mlp(8, 64, 4)
    report = diagnose(model, x, y, CE, optimizer=torch.optim.AdamW(model.parameters(), 1e-2, weight_decay=0.3))
    assert any("your optimizer's weight decay 0.3 (the probe uses its own Adam)" in n for n in report.notes), str(report)
    assert not any("weight decay" in n for n in diagnose(model, x, y, CE, optimizer=torch.optim.Adam(
        model.parameters(), 1e-2)).notes)


# --- the loss and the output disagree; the weights never move (lessons 07 and 08) ----------------

def keras_mlp(d, h, k, *tail, activation=None):
    keras = pytest.importorskip("keras")
    cu.setup(frameworks=("torch", "tensorflow"))
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((d,)), keras.layers.Dense(h, activation="relu"),
                             keras.layers.Dense(k, activation=activation), *tail])


def test_a_softmax_over_the_batch_axis_is_named_in_both_frameworks():
    x, y = data(48, 6, 3)
    for tail in (nn.Softmax(dim=0), nn.LogSoftmax(dim=0)):
        loss = CE if isinstance(tail, nn.Softmax) else nn.NLLLoss()
        report = diagnose(mlp(6, 16, 3, tail), x, y, loss, steps=0)
        assert "softmax-over-batch" in report.codes, str(report)
        assert "each of the 3 output columns sums to 1 over the 48 samples" in str(report)
    assert "softmax-over-batch" not in diagnose(mlp(6, 16, 3, nn.LogSoftmax(dim=1)), x, y, nn.NLLLoss(),
                                                steps=0).codes
    keras = pytest.importorskip("keras")
    model = keras_mlp(6, 16, 3, keras.layers.Softmax(axis=0))
    report = diagnose(model, x.numpy(), y.numpy(), "sparse_categorical_crossentropy", steps=0)
    assert "softmax-over-batch" in report.codes and "rows-not-probabilities" not in report.codes


def test_several_labels_per_row_against_the_softmax_inside_cross_entropy():
    """torch's CrossEntropyLoss takes probability targets, so multi-hot rows train, towards the wrong thing."""
    x, _ = data(48, 6, 4)
    multi_hot = (torch.rand(48, 4, generator=torch.Generator().manual_seed(0)) < 0.5).float()
    multi_hot[0] = torch.tensor([1.0, 1.0, 0.0, 0.0])
    report = diagnose(mlp(6, 16, 4), x, multi_hot, CE, steps=0)
    assert "output-cannot-reach-target" in report.codes
    assert "CrossEntropyLoss applies a softmax" in str(report) and "one sigmoid per label" in str(report)


def test_logits_into_torchs_bce_is_a_finding_not_an_error():
    x, y = data(48, 6, 2)
    report = diagnose(mlp(6, 16, 1), x, y.float().reshape(-1, 1), nn.BCELoss())
    assert report.codes == ["logits-into-probability-loss"] and "outside [0, 1]" in str(report)
    assert "all elements of input should be between 0 and 1" in dict(report.skipped)["every other check"]


class Detached(nn.Module):
    """A forward pass that leaves the graph: what .numpy() or torch.tensor(...) round-trips do."""

    def __init__(self):
        super().__init__()
        self.net = mlp(6, 16, 3)

    def forward(self, x):
        return self.net(x).detach().requires_grad_()


def test_a_forward_pass_cut_from_the_graph_is_no_gradient_path_not_zero_gradients():
    x, y = data(48, 6, 3)
    model = Detached()
    report = diagnose(model, x, y, CE, optimizer=torch.optim.Adam(model.parameters(), 1e-2))
    assert "no-gradient-path" in report.codes and "zero-gradients" not in report.codes
    assert "is None, not 0" in str(report)
    assert dict(report.skipped)["overfit-one-batch"] == "no gradient reaches the weights"
    assert "no-gradient-path" not in diagnose(model.net, x, y, CE, steps=0).codes


def watched(skip_step=False, other_optimizer=False, detach=False):
    x, y = data(48, 6, 3)
    torch.manual_seed(0)
    model = mlp(6, 16, 3)
    opt = torch.optim.SGD((mlp(6, 16, 3) if other_optimizer else model).parameters(), lr=0.1)
    with watch(model, optimizer=opt, every=5) as w:
        for _ in range(40):
            opt.zero_grad()
            loss = CE(model(x), y)
            if detach:
                loss = torch.tensor(loss.item(), requires_grad=True)
            loss.backward()
            if not skip_step:
                opt.step()
            w.step(loss)
    return str(w.report()), w.report().codes


def test_watch_says_the_weights_did_not_change_and_why():
    text, codes = watched(skip_step=True)
    assert "weights-unchanged" in codes and "optimizer.step() was called 0 times in 40 steps" in text
    text, codes = watched(other_optimizer=True)
    assert "weights-unchanged" in codes and "leaves out 4 of the model's 4 trainable parameters" in text
    text, codes = watched(detach=True)
    assert "weights-unchanged" in codes and ".grad is None for all 4 trainable parameters" in text
    assert "weights-unchanged" not in watched()[1]


def test_the_overfit_probe_switches_keras_weight_penalties_off():
    keras = pytest.importorskip("keras")
    x, y = data(48, 6, 3)
    cu.setup(frameworks=("torch", "tensorflow"))
    keras.utils.set_random_seed(0)
    l2 = keras.regularizers.L2(0.1)  # kept on, it stops this model memorising the batch: cannot-overfit
    penalised = keras.Sequential([keras.Input((6,)), keras.layers.Dense(32, activation="relu", kernel_regularizer=l2),
                                  keras.layers.Dense(3, kernel_regularizer=l2)])
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    report = diagnose(penalised, x.numpy(), y.numpy(), loss, steps=150)
    assert "overfit-one-batch" in report.passed, str(report)
    assert penalised.trainable_weights[0].regularizer is not None  # the student's model is untouched


# --- readings that a held-out check showed are not worth acting on (issue 15) ---------------------

def test_a_normalisation_layer_first_is_a_fix_for_unscaled_inputs():
    x, y = data(64, 6, 3)
    raw = x * 1e3 + 5e3
    assert "unscaled-inputs" in diagnose(mlp(6, 16, 3), raw, y, CE, steps=0).codes
    normalised = nn.Sequential(nn.BatchNorm1d(6), *mlp(6, 16, 3))
    report = diagnose(normalised, raw, y, CE, steps=0)
    assert "unscaled-inputs" not in report.codes and "unscaled-inputs" in report.passed


def test_a_loss_that_jumps_tenfold_then_settles_is_lr_too_high():
    """SGD at 0.1 on targets in the hundreds: one step sends the loss up 400x, the units die, it settles."""
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.uniform(0, 5, (50, 1)), dtype=torch.float32)
    y = 5 * x ** 2
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 50), nn.ReLU(), nn.Linear(50, 30), nn.ReLU(), nn.Linear(30, 1))
    report = diagnose(model, x, y, nn.MSELoss(), optimizer=torch.optim.SGD(model.parameters(), lr=0.1), steps=0)
    assert "lr-too-high" in report.codes, str(report)
    calm = diagnose(model, x, y, nn.MSELoss(), optimizer=torch.optim.SGD(model.parameters(), lr=1e-4), steps=0)
    assert "lr-too-high" not in calm.codes


def test_units_dead_from_the_start_are_a_note_when_the_probe_memorises_with_them():
    x, y = data(64, 6, 3)
    torch.manual_seed(0)
    model = mlp(6, 32, 3)
    with torch.no_grad():
        model[0].bias[:20] = -50.0  # 20 of 32 units off for every sample, before any step
    slow = torch.optim.SGD(model.parameters(), lr=1e-6)  # the student's settings do not move the loss
    report = diagnose(model, x, y, CE, optimizer=slow, steps=200)
    assert "dead-relu" not in report.codes and any(n.startswith("dead-relu") for n in report.notes), str(report)


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_labels_that_all_read_as_one_class_are_named(framework):
    """Labels divided by 255 by mistake: a sparse cross-entropy reads 3/255 as class 0, like every other label."""
    x, y = data(64, 6, 10)
    if framework == "torch":
        report = diagnose(mlp(6, 16, 10), x, torch.zeros(64, dtype=torch.long), CE, steps=0)
        assert "all 64 samples carry the same target, while their inputs differ" in str(report)
        assert "constant-targets" not in diagnose(mlp(6, 16, 10), x, y, CE, steps=0).codes
    else:
        keras = pytest.importorskip("keras")
        model, loss = keras_mlp(6, 16, 10), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        report = diagnose(model, x.numpy(), y.numpy() / 255.0, loss, steps=0)
        assert "the loss reads each as the whole class 0" in str(report)
        assert "constant-targets" not in diagnose(model, x.numpy(), y.numpy(), loss, steps=0).codes
    assert "constant-targets" in report.codes


def test_unscaled_inputs_of_a_model_that_fits_and_trains_anyway_are_a_note():
    """Raw scores around 10 that a small net still memorises at the student's rate: worth knowing, not a bug."""
    x, y = data(64, 6, 3)
    raw = x * 5 + 12
    torch.manual_seed(0)
    model = mlp(6, 32, 3)
    report = diagnose(model, raw, y, CE, optimizer=torch.optim.Adam(model.parameters(), 1e-3))
    assert "unscaled-inputs" not in report.codes and report.mentions("unscaled-inputs"), str(report)
    assert "your settings train it without diverging" in str(report)
    # the same inputs where the student's rate diverges: a finding, with lr-too-high
    report = diagnose(model, raw, y, CE, optimizer=torch.optim.SGD(model.parameters(), 1.0))
    assert "unscaled-inputs" in report.codes and "lr-too-high" in report.codes, str(report)


def test_unscaled_inputs_that_make_the_untrained_model_confidently_wrong_stay_a_finding():
    """Raw pixel-like values (about 0-250): the same small net memorises the batch at the student's rate, but its
    untrained loss is more than ten times chance, so the scale is worth fixing (raw 0-255 pixels into a CNN)."""
    x, y = data(64, 6, 3)
    torch.manual_seed(0)
    model = mlp(6, 32, 3)
    report = diagnose(model, x * 60 + 120, y, CE, optimizer=torch.optim.Adam(model.parameters(), 1e-3))
    assert report.codes == ["unscaled-inputs"], str(report)
    assert "times the chance level on these inputs" in str(report)
    assert report.mentions("init-loss-off")  # the reading itself stays a note: the batch was memorised


def test_unscaled_inputs_that_break_the_start_are_a_note_when_the_students_settings_recover_below_chance():
    """The same confidently wrong start, with settings whose first steps bring the loss below chance (SGD at 0.01:
    16.8 -> 0.90 in 20 steps, chance 1.10, where Adam at 1e-3 above stops at 7.6): the program learns on these inputs
    as they are, as repaired programs that keep raw 0-255 pixels do, so the scale is a note."""
    x, y = data(64, 6, 3)
    torch.manual_seed(0)
    model = mlp(6, 32, 3)
    report = diagnose(model, x * 60 + 120, y, CE, optimizer=torch.optim.SGD(model.parameters(), 0.01))
    assert "unscaled-inputs" not in report.codes and report.mentions("unscaled-inputs"), str(report)
    assert "your settings bring it below chance" in str(report)


class ListNet(nn.Module):
    """Hidden layers kept in a plain Python list: the model uses them, model.parameters() does not list them."""

    def __init__(self, registered):
        super().__init__()
        hidden = [nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh()]
        self.hidden = nn.ModuleList(hidden) if registered else hidden
        self.out = nn.Linear(16, 3)

    def forward(self, x):
        for layer in self.hidden:
            x = layer(x)
        return self.out(x)


def test_weights_the_model_does_not_register_are_named():
    x, y = data(48, 6, 3)
    torch.manual_seed(0)
    hidden_list = ListNet(registered=False)
    report = diagnose(hidden_list, x, y, CE, optimizer=torch.optim.Adam(hidden_list.parameters(), 1e-2), steps=0)
    assert "unregistered-parameters" in report.codes
    assert "depends on 4 tensor(s) that require a gradient but are not among model.parameters()" in str(report)
    registered = ListNet(registered=True)
    assert "unregistered-parameters" not in diagnose(registered, x, y, CE, steps=0).codes


def test_a_loss_that_refuses_the_targets_shape_is_a_finding():
    """Integer labels of shape (n, 1) under categorical cross-entropy: Keras refuses them, as its fit does."""
    x, y = data(48, 6, 3)
    keras = pytest.importorskip("keras")
    model = keras_mlp(6, 16, 3, activation="softmax")
    report = diagnose(model, x.numpy(), y.numpy().reshape(-1, 1), "categorical_crossentropy")
    assert report.codes == ["target-shape-broadcast"] and "class indices (0..2)" in str(report), str(report)
    assert "sparse_categorical_crossentropy" in report.finding("target-shape-broadcast").fix


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_an_output_narrower_than_the_classes_is_named(framework):
    x, y = data(40, 6, 5)  # labels 0..4
    if framework == "torch":
        narrow, wide, loss = mlp(6, 16, 3), mlp(6, 16, 5), CE
    else:
        narrow, wide, loss = keras_mlp(6, 16, 3), keras_mlp(6, 16, 5), "sparse_categorical_crossentropy"
        x, y = x.numpy(), y.numpy()
    report = diagnose(narrow, x, y, loss, steps=0)
    assert "output-width-mismatch" in report.codes and "labels-not-class-indices" not in report.codes, str(report)
    assert "the output has 3 classes" in str(report) and "the targets hold 5 different classes" in str(report)
    assert "output-width-mismatch" not in diagnose(wide, x, y, loss, steps=0).codes


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_one_output_for_two_target_columns_is_a_width_mismatch(framework):
    x, _ = data(40, 6)
    targets = torch.randn(40, 2, generator=torch.Generator().manual_seed(3))
    if framework == "torch":
        one, two, loss = mlp(6, 16, 1), mlp(6, 16, 2), nn.MSELoss()
    else:
        one, two, loss = keras_mlp(6, 16, 1), keras_mlp(6, 16, 2), "mse"
        x, targets = x.numpy(), targets.numpy()
    report = diagnose(one, x, targets, loss, steps=0)
    assert "output-width-mismatch" in report.codes and "target-shape-broadcast" not in report.codes, str(report)
    assert "the output has 1 unit on its class axis where the targets have 2 columns" in str(report)
    assert "output-width-mismatch" not in diagnose(two, x, targets, loss, steps=0).codes


def test_one_hot_targets_wider_than_the_classes_they_hold_point_the_fix_at_the_targets():
    x, y = data(40, 6, 5)  # labels 0..4, five output units
    too_wide = nn.functional.one_hot(y, 10).float()  # one_hot with a default of ten classes
    report = diagnose(mlp(6, 16, 5), x, too_wide, nn.MSELoss(), steps=0)
    assert "target-shape-broadcast" in report.codes and "output-width-mismatch" not in report.codes, str(report)
    assert "one-hot the labels with the number of classes (5)" in report.finding("target-shape-broadcast").fix
    # a sixth class in use: the output is what is too narrow, and the catalogue's fix stands
    y[0] = 5
    used = diagnose(mlp(6, 16, 5), x, nn.functional.one_hot(y, 10).float(), nn.MSELoss(), steps=0)
    assert "Make the last layer as wide" in used.finding("output-width-mismatch").fix


@pytest.mark.parametrize("units", [2, 1])
def test_binary_labels_and_sigmoid_units_of_another_width_name_both_fixes(units):
    """Two sigmoid units for one 0/1 label per sample (SFData's posts 51755160 and 64435490: one repair one-hot
    encoded the labels, the other narrowed the output), or one unit for one-hot rows of two (post 61435176: the
    repair asked the folder iterator for one 0/1 label). Either side is a fix, and both are said."""
    x, y = data(40, 6, 2)
    x, y = x.numpy(), y.numpy().astype("float32")
    targets = y if units == 2 else np.eye(2, dtype="float32")[y.astype(int)]
    report = diagnose(keras_mlp(6, 16, units, activation="sigmoid"), x, targets, "binary_crossentropy", steps=0)
    assert {"output-width-mismatch", "target-shape-broadcast"} <= set(report.codes), str(report)
    recoded = "np.eye(2)[y.ravel().astype(int)]" if units == 2 else "y[:, 1:]"
    assert recoded in report.finding("target-shape-broadcast").fix
    assert "consequence" not in report.finding("target-shape-broadcast").severity
    matched = np.eye(2, dtype="float32")[y.astype(int)] if units == 2 else y[:, None]
    assert not {"output-width-mismatch", "target-shape-broadcast"} & set(
        diagnose(keras_mlp(6, 16, units, activation="sigmoid"), x, matched, "binary_crossentropy", steps=0).codes)


def test_a_reconstruction_of_another_shape_than_its_input_points_the_fix_at_the_model():
    """An autoencoder whose output is (1, 16, 16) per image for inputs of (3, 8, 8) (SFData's post 47842931): the
    targets are the inputs, so the model's output is what to change."""
    images = torch.rand(12, 3, 8, 8, generator=torch.Generator().manual_seed(5))
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 1, 3, padding=1), nn.Upsample(scale_factor=2))
    report = diagnose(net, images, images, nn.MSELoss(), steps=0)
    assert report.codes == ["output-width-mismatch"], str(report)
    assert "the targets are the inputs themselves" in str(report)
    assert "Change the model, not the targets" in report.finding("output-width-mismatch").fix
    other = diagnose(net, images, images.flip(0), nn.MSELoss(), steps=0)  # targets of their own: either may be wrong
    assert other.codes == ["target-shape-broadcast"], str(other)


def test_several_outputs_per_sample_against_one_target_each_is_a_width_mismatch():
    """A Keras LSTM left as the output layer: 4 states per sample scored against one 0/1 target by a loss
    that repeats the target over them (Keras 2's binary cross-entropy did)."""
    keras = pytest.importorskip("keras")
    ops = keras.ops

    def binary_crossentropy(y_true, y_pred):  # the name tells diagnose which loss it is
        return ops.mean(ops.binary_crossentropy(ops.broadcast_to(ops.reshape(y_true, (-1, 1)), ops.shape(y_pred)),
                                                y_pred), axis=-1)

    x, y = data(40, 6, 2)
    x, y = x.numpy(), y.numpy().astype("float32")
    report = diagnose(keras_mlp(6, 16, 4, activation="sigmoid"), x, y, binary_crossentropy, steps=0)
    assert "output-width-mismatch" in report.codes, str(report)
    assert "4 units per sample where the targets hold one value per sample" in str(report)
    assert "output-width-mismatch" not in diagnose(keras_mlp(6, 16, 1, activation="sigmoid"), x, y, binary_crossentropy,
                                                   steps=0).codes


def test_a_keras_layer_whose_weights_are_bare_tf_variables_is_unregistered():
    keras = pytest.importorskip("keras")
    import tensorflow as tf

    class Scale(keras.layers.Layer):
        def __init__(self, tracked, **kwargs):
            super().__init__(**kwargs)
            self.tracked = tracked

        def build(self, input_shape):
            ones = keras.initializers.Ones()
            self.scale = (self.add_weight(shape=input_shape[-1:], initializer=ones, name="scale") if self.tracked
                          else tf.Variable(tf.ones(input_shape[-1:]), name="scale"))

        def call(self, inputs):
            return inputs * self.scale

    x, y = data(40, 6, 3)
    x, y = x.numpy(), y.numpy()

    def model(tracked):
        keras.utils.set_random_seed(0)
        return keras.Sequential([keras.Input((6,)), Scale(tracked), keras.layers.Dense(3, activation="softmax")])

    report = diagnose(model(False), x, y, "sparse_categorical_crossentropy", steps=0)
    assert "unregistered-parameters" in report.codes, str(report)
    assert "reads 1 trainable variable(s) that are not among model.weights" in str(report)
    assert "self.add_weight" in report.finding("unregistered-parameters").fix
    frozen = model(True)
    frozen.layers[0].trainable = False  # frozen is not unregistered: its weights are still the model's
    for tracked_model in (model(True), frozen):
        assert "unregistered-parameters" not in diagnose(tracked_model, x, y, "sparse_categorical_crossentropy",
                                                         steps=0).codes


def test_binary_cross_entropy_on_targets_outside_zero_and_one_is_named():
    x, y = data(40, 6, 2)
    five_or_seven = torch.where(y == 1, 7.0, 5.0)[:, None]  # labels as the data file holds them
    report = diagnose(mlp(6, 16, 1), x, five_or_seven, nn.BCEWithLogitsLoss(), steps=0)
    assert "labels-not-class-indices" in report.codes, str(report)
    assert "run from 5.00 to 7.00 (2 distinct values)" in str(report)
    assert "Encode the two classes as 0 and 1" in report.finding("labels-not-class-indices").fix
    assert "labels-not-class-indices" not in diagnose(mlp(6, 16, 1), x, y[:, None].float(), nn.BCEWithLogitsLoss(),
                                                      steps=0).codes


def test_class_index_maps_with_an_extra_axis_of_one_are_the_targets_shape():
    g = torch.Generator().manual_seed(6)
    images, classes = torch.rand(12, 1, 6, 6, generator=g), torch.randint(0, 3, (12, 6, 6), generator=g)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 3, 1))
    report = diagnose(net, images, classes[:, None], nn.CrossEntropyLoss(), steps=0)  # (12, 1, 6, 6)
    assert report.codes == ["target-shape-broadcast"], str(report)
    assert "y.squeeze(1)" in report.finding("target-shape-broadcast").fix
    assert diagnose(net, images, classes, nn.CrossEntropyLoss(), steps=0).codes == []


def test_class_indices_given_to_a_loss_that_wants_one_column_per_output_are_to_be_one_hot():
    x, y = data(40, 6, 2)

    def ghm_like(output, target):  # a loss of one's own on one column per output (it refuses (n,) targets)
        return nn.functional.binary_cross_entropy_with_logits(output, target.float())

    report = diagnose(mlp(6, 16, 2), x, y, ghm_like, steps=0)
    assert report.codes == ["target-shape-broadcast"], str(report)
    assert "the targets are 40 class indices (0..1)" in str(report)
    assert "One-hot the targets" in report.finding("target-shape-broadcast").fix
    assert diagnose(mlp(6, 16, 2), x, nn.functional.one_hot(y, 2), ghm_like, steps=0).codes == []


def test_a_loss_taken_after_argmax_has_no_gradient_path():
    x, y = data(40, 6, 3)

    def accuracy_gap(output, target):  # argmax cuts the chain: backward() refuses
        return (output.argmax(dim=1) != target).float().mean()

    report = diagnose(mlp(6, 16, 3), x, y, accuracy_gap, steps=50)
    assert "no-gradient-path" in report.codes, str(report)
    assert "the loss does not require a gradient" in str(report)
    assert "argmax" in report.finding("no-gradient-path").fix


class StatefulLSTM(nn.Module):
    """Keeps the LSTM's (h, c) in self and starts the next forward from it; ``detach`` cuts it from its graph."""

    def __init__(self, detach):
        super().__init__()
        self.lstm, self.head, self.detach, self.state = nn.LSTM(3, 8, batch_first=True), nn.Linear(8, 2), detach, None

    def forward(self, x):
        out, state = self.lstm(x, self.state)
        self.state = tuple(s.detach() for s in state) if self.detach else state
        return self.head(out[:, -1])


def test_a_recurrent_state_carried_into_the_next_step_with_its_graph_is_named():
    g = torch.Generator().manual_seed(8)
    x, y = torch.randn(16, 5, 3, generator=g), torch.randint(0, 2, (16,), generator=g)
    torch.manual_seed(0)
    report = diagnose(StatefulLSTM(detach=False), x, y, CE, steps=50)
    assert "state-across-steps" in report.codes, str(report)
    assert "the model's state holds a tensor with that graph" in str(report)
    torch.manual_seed(0)
    assert "state-across-steps" not in diagnose(StatefulLSTM(detach=True), x, y, CE, steps=50).codes


def test_a_report_with_no_finding_says_when_its_training_probes_could_not_run():
    class Unsteppable(nn.Module):  # its forward works; its second training step raises
        def __init__(self):
            super().__init__()
            self.layer, self.calls = nn.Linear(6, 3), 0

        def forward(self, x):
            self.calls += 1
            if self.calls > 3 and self.training:
                raise RuntimeError("this model trains only once")
            return self.layer(x)

    x, y = data(40, 6, 3)
    torch.manual_seed(0)
    report = diagnose(Unsteppable(), x, y, CE, steps=20)
    assert report.clean and "but training a copy failed (overfit-one-batch: see skipped)" in str(report), str(report)
    assert "training a copy failed" in report._repr_html_()
    healthy = diagnose(mlp(6, 16, 3), x, y, CE, steps=200)
    assert str(healthy).startswith(f"diagnose (torch): no problems found ({len(healthy.passed)} checks passed)")


class AroundCrossEntropy(nn.Module):
    """A loss module of one's own that holds one standard loss and calls it."""

    def __init__(self):
        super().__init__()
        self.inner = nn.CrossEntropyLoss()

    def forward(self, output, target):
        return self.inner(output, target)


def test_a_loss_module_around_one_standard_loss_is_read_as_that_loss():
    x, y = data(48, 6, 3)
    report = diagnose(mlp(6, 16, 3, nn.Softmax(dim=1)), x, y, AroundCrossEntropy(), steps=0)
    assert "softmax-before-crossentropy" in report.codes, str(report)
    assert "AroundCrossEntropy (around CrossEntropyLoss)" in str(report)
    healthy = diagnose(mlp(6, 16, 3), x, y, AroundCrossEntropy(), steps=0)
    assert healthy.codes == [] and "loss-recognition" not in dict(healthy.skipped), str(healthy)


def test_a_loss_that_raises_on_outputs_of_the_targets_shape_says_it_is_not_the_shapes():
    x, _ = data(40, 6)
    targets = torch.rand(40, 2, generator=torch.Generator().manual_seed(2))
    def weighted(output, target):  # PyTorch takes pos_weight only as a tensor
        return nn.functional.binary_cross_entropy_with_logits(output, target, pos_weight=np.float64(2.0))

    with pytest.raises(ValueError, match=r"same shape \(40, 2\), so not their shapes.*pos_weight"):
        diagnose(mlp(6, 16, 2), x, targets, weighted, steps=0)


def test_a_mask_repeated_over_channels_is_the_targets_shape_not_the_output_width():
    g = torch.Generator().manual_seed(4)
    images, mask = torch.rand(12, 1, 6, 6, generator=g), (torch.rand(12, 1, 6, 6, generator=g) > 0.5).float()
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 1, 1))
    report = diagnose(net, images, mask.repeat(1, 3, 1, 1), nn.BCEWithLogitsLoss(), steps=0)
    assert report.codes == ["target-shape-broadcast"], str(report)
    classes = torch.randint(0, 3, (12, 6, 6), generator=g)  # three classes in use, two output maps
    one_hot = nn.functional.one_hot(classes, 3).permute(0, 3, 1, 2).float()
    net2 = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 2, 1))
    assert "output-width-mismatch" in diagnose(net2, images, one_hot, nn.BCEWithLogitsLoss(), steps=0).codes


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_binary_cross_entropy_on_one_class_per_sample_is_named(framework):
    x, y = data(48, 6, 4)
    one_hot = nn.functional.one_hot(y, 4).float()
    multi_label = (torch.rand(48, 4, generator=torch.Generator().manual_seed(5)) < 0.5).float()
    if framework == "torch":
        model, loss = (lambda: mlp(6, 16, 4)), nn.BCEWithLogitsLoss()
    else:
        model, loss = (lambda: keras_mlp(6, 16, 4, activation="softmax")), "binary_crossentropy"
        x, one_hot, multi_label = x.numpy(), one_hot.numpy(), multi_label.numpy()
    report = diagnose(model(), x, one_hot, loss, steps=0)
    assert "binary-loss-on-one-class-rows" in report.codes, str(report)
    assert "every target row holds exactly one 1 among 4 columns" in str(report)
    assert "binary-loss-on-one-class-rows" not in diagnose(model(), x, multi_label, loss, steps=0).codes
    # one-hot rows a binary loss still memorises: a note, not a finding
    fitted = diagnose(model(), x, one_hot, loss, steps=300)
    assert "binary-loss-on-one-class-rows" not in fitted.codes and fitted.mentions("binary-loss-on-one-class-rows")


def test_one_sigmoid_unit_on_class_indices_is_named_as_the_wrong_loss_before_the_output_range():
    x, y = data(48, 6, 4)
    report = diagnose(mlp(6, 16, 1, nn.Sigmoid()), x, y.float().reshape(-1, 1), nn.BCELoss(), steps=0)
    assert report.finding("binary-loss-on-one-class-rows").severity == "error"
    assert report.finding("output-cannot-reach-target").severity == "consequence"  # targets above 1: it follows
    assert "class indices from 0 to 3 (4 classes)" in str(report)
    binary = diagnose(mlp(6, 16, 1, nn.Sigmoid()), x, (y % 2).float().reshape(-1, 1), nn.BCELoss(), steps=0)
    assert "binary-loss-on-one-class-rows" not in binary.codes


class _StepReader(nn.Module):
    """An LSTM that reads (batch, steps, features) and a head on the last step."""

    def __init__(self, features):
        super().__init__()
        torch.manual_seed(0)
        self.rnn, self.head = nn.LSTM(features, 8, batch_first=True), nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.rnn(x)[0][:, -1])


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_a_recurrent_layer_over_hundreds_of_steps_is_named(framework):
    g = torch.Generator().manual_seed(6)
    pixels = torch.rand(24, 400, generator=g)
    labels = (pixels[:, :20].mean(1) > 0.5).long()  # what decides the label lies in the first steps
    long_steps, short_steps = pixels.reshape(24, 400, 1), pixels.reshape(24, 20, 20)
    if framework == "torch":
        long_model, short_model, loss = _StepReader(1), _StepReader(20), CE
    else:
        keras = pytest.importorskip("keras")
        cu.setup(frameworks=("torch", "tensorflow"))

        def reader(steps, features):
            keras.utils.set_random_seed(0)
            return keras.Sequential([keras.Input((steps, features)), keras.layers.LSTM(8), keras.layers.Dense(2)])

        long_model, short_model = reader(400, 1), reader(20, 20)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        long_steps, short_steps, labels = long_steps.numpy(), short_steps.numpy(), labels.numpy()
    report = diagnose(long_model, long_steps, labels, loss, steps=0)
    assert "rnn-too-many-steps" in report.codes, str(report)
    assert "reads 400 time steps, and the loss's gradient reaches only the last" in str(report)
    short = diagnose(short_model, short_steps, labels, loss, steps=0)
    assert "rnn-too-many-steps" in short.passed and "rnn-too-many-steps" not in short.codes


def test_a_fit_that_stalls_under_mae_and_not_under_mse_blames_the_loss():
    """A 2-4-1 sigmoid net on XOR: under L1Loss the probe's Adam stalls; the same probe under MSE memorises."""
    xor = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]).repeat(4, 1)
    target = torch.tensor([0.0, 1.0, 1.0, 0.0]).repeat(4).reshape(-1, 1)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
    report = diagnose(net, xor, target, nn.L1Loss(), optimizer=torch.optim.SGD(net.parameters(), lr=0.05))
    assert report.finding("loss-stalls-fit").severity == "error", str(report)
    assert report.finding("cannot-overfit").severity == "consequence"
    assert "the same probe under mean squared error memorised it" in str(report)
    # MAE on a model that memorises the batch anyway: nothing to blame
    x, y = data(32, 6)
    fits = diagnose(mlp(6, 32, 1), x, y.float().reshape(-1, 1), nn.L1Loss())
    assert "loss-stalls-fit" not in fits.codes and "cannot-overfit" not in fits.codes


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_regression_targets_too_large_to_reach_are_named_when_standardised_ones_are_memorised(framework):
    """Targets around 20000 (house prices, say): the probe's Adam cannot carry an untrained output there in its
    steps; the same probe on (y - mean) / std memorises the batch."""
    x, _ = data(64, 5)
    rng = np.random.default_rng(1)
    y = (20000 + 3000 * np.tanh(x.numpy() @ rng.normal(size=5))).astype("float32")[:, None]
    if framework == "torch":
        def model():
            torch.manual_seed(0)
            return mlp(5, 32, 1)
        loss = nn.MSELoss()
    else:
        keras = pytest.importorskip("keras")

        def model():
            keras.utils.set_random_seed(0)
            return keras.Sequential([keras.Input((5,)), keras.layers.Dense(32, activation="relu"),
                                     keras.layers.Dense(1)])
        x, loss = x.numpy(), "mse"
    report = diagnose(model(), x, y, loss, steps=100)
    assert "unscaled-targets" in report.codes, str(report)
    assert report.finding("cannot-overfit").severity == "consequence"
    assert "the same probe on (y - mean) / std memorised the batch" in str(report)
    standardised = diagnose(model(), x, (y - y.mean()) / y.std(), loss, steps=100)
    assert "unscaled-targets" not in standardised.codes and "overfit-one-batch" in standardised.passed


def test_one_large_target_is_named_by_its_size():
    """One linear unit, a batch of one with target 42, MAE: Adam's steps of about 0.01 do not get there; with no
    spread to standardise by, the probe divides by 42."""
    x, _ = data(1, 5)
    torch.manual_seed(0)
    report = diagnose(nn.Linear(5, 1), x, torch.tensor([[42.0]]), nn.L1Loss(), steps=100)
    assert "unscaled-targets" in report.codes and "the same probe on y / 42.0 memorised the batch" in str(report), \
        str(report)


def test_units_the_probe_kills_are_a_note_when_the_probe_itself_did_not_fail():
    """Too few parameters for 3840 target values: the probe's plateau is the model's best fit (a note), and the
    units its own Adam at 1e-2 killed on the way there are no finding either."""
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(64, 5)) + 20).astype("float32")
    y = (5 * rng.normal(size=(64, 60))).astype("float32")
    torch.manual_seed(0)
    report = diagnose(nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 60)), x, y, nn.MSELoss(), steps=200)
    assert "dead-relu" not in report.codes and "cannot-overfit" not in report.codes, str(report)
    assert any("after the probe's 200 steps" in n and "the probe did not fail" in n for n in report.notes), str(report)


def test_a_small_model_whose_loss_never_moved_has_not_reached_its_best_fit():
    """Fewer parameters than target values excuse a plateau only once the loss has come down to it: a tanh layer
    saturated by inputs in the thousands, before a linear unit that the probe's Adam moves by about 1e-2 a step
    towards targets near 2e4, leaves the loss where it started (the first held-out set's fixed regression twin).
    That is no fit, and stays a finding; the same model on standardised data reaches its floor, a note."""
    rng = np.random.default_rng(0)
    x = (10000 * rng.uniform(size=(128, 3))).astype("float32")
    y = (x @ np.array([2.0, 1.0, 0.5]) + 3000 * rng.normal(size=128)).astype("float32")[:, None]  # with noise

    def small():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 1))  # 11 parameters for 128 targets

    stuck = diagnose(small(), x, y, nn.MSELoss(), steps=200)
    assert "cannot-overfit" in stuck.codes and "that is no fit at all" in str(stuck), str(stuck)
    assert not any("best fit" in n for n in stuck.notes), str(stuck)
    scaled = diagnose(small(), (x - x.mean(0)) / x.std(0), (y - y.mean()) / y.std(), nn.MSELoss(), steps=200)
    assert "cannot-overfit" not in scaled.codes, str(scaled)
    assert any("this floor is its best fit" in n for n in scaled.notes), str(scaled)


def test_a_loss_maximised_the_wrong_way_round_is_named_not_blamed_on_the_learning_rate():
    x, y = data(32, 6, 3)
    model = mlp(6, 16, 3)

    def log_likelihood(out, target):  # the quantity to maximise, handed to an optimizer that minimises
        return -nn.functional.cross_entropy(out, target)

    report = diagnose(model, x, y, log_likelihood, optimizer=torch.optim.Adam(model.parameters(), 1e-2))
    assert "loss-without-floor" in report.codes and "lr-too-high" not in report.codes, str(report)
    assert "below zero and still falling" in str(report)
    assert "overfit-one-batch" not in report.passed

    def negative_log_likelihood(out, target):
        return nn.functional.cross_entropy(out, target)

    fixed = diagnose(model, x, y, negative_log_likelihood, optimizer=torch.optim.Adam(model.parameters(), 1e-2))
    assert "loss-without-floor" not in fixed.codes



def test_a_cross_entropy_written_for_probabilities_and_given_raw_scores_has_no_floor_even_after_it_memorised():
    # the ninth held-out set's DBN: -mean(y log p + (1 - y) log(1 - p)) with p clipped only from below, on a linear
    # output. The probe's loss falls past a tenth of its start ("memorised") on its way below zero
    x, labels = data(64, 10, 4)
    y = nn.functional.one_hot(labels, 4).float()

    def hand_written(out, target):
        return -(target * torch.log(out.clamp(1e-10, 1e30))
                 + (1 - target) * torch.log((1 - out).clamp(1e-10, 1e30))).mean()

    def with_softmax(out, target):
        return hand_written(torch.softmax(out, 1), target)

    def negative_dice(out, target):  # bounded below by -1: scaling the outputs only brings it nearer
        p = torch.sigmoid(out)
        return -(2 * (p * target).sum() + 1) / (p.sum() + target.sum() + 1)

    def negative_cosine(out, target):  # blind to the outputs' scale
        return -nn.functional.cosine_similarity(out, target).mean()

    def report(loss):
        model = mlp(10, 32, 4)
        return diagnose(model, x, y, loss, optimizer=torch.optim.SGD(model.parameters(), 0.01))

    raw = report(hand_written)
    assert "loss-without-floor" in raw.codes and "overfit-one-batch" not in raw.passed, str(raw)
    assert "falling as the outputs grow" in str(raw) and "softmax" in raw.finding("loss-without-floor").fix
    for loss in (with_softmax, negative_dice, negative_cosine):
        assert "loss-without-floor" not in report(loss).codes, loss.__name__
    probabilities = mlp(10, 32, 4, nn.Softmax(dim=1))  # the same loss given what it was written for
    assert "loss-without-floor" not in diagnose(probabilities, x, y, hand_written).codes


# --- kinds met in the eighth held-out set (benchmarks/real_bugs/eighth_*_cases.py), tested on programs of our own ---

def test_whole_number_inputs_a_linear_layer_refuses_are_named_with_the_cast_that_runs():
    bits = torch.randint(0, 2, (48, 20))  # fingerprint bits as int64, as torch.tensor(list of 0/1) gives
    y = bits[:, :3].sum(1)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 4))
    report = diagnose(model, bits, y, CE, steps=0)
    assert report.codes == ["input-layout"] and "cast to float32, x.float()" in str(report), str(report)
    assert "input-layout" not in diagnose(model, bits.float(), y, CE, steps=0).codes


def test_integer_one_hot_masks_under_cross_entropy_are_named_with_the_argmax_fix():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 3, 1))
    x = torch.randn(16, 1, 6, 6)
    classes = torch.randint(0, 3, (16, 6, 6))
    masks = nn.functional.one_hot(classes, 3).permute(0, 3, 1, 2)  # int64 (n, 3, 6, 6): refused by CrossEntropyLoss
    report = diagnose(model, x, masks, CE, steps=0)
    assert report.codes == ["labels-not-class-indices"] and "y.argmax(dim=1)" in str(report), str(report)
    assert diagnose(model, x, classes, CE, steps=0).clean
    assert diagnose(model, x, masks.float(), CE, steps=0).clean  # float one-hot: class probabilities, taken


class TinyUNet(nn.Module):
    """Two poolings down, two upsamplings back, each joined to the map of its level: sides must divide by 4."""

    def __init__(self):
        super().__init__()
        self.down1, self.down2 = nn.Conv2d(1, 4, 3, padding=1), nn.Conv2d(4, 8, 3, padding=1)
        self.bottom = nn.Conv2d(8, 8, 3, padding=1)
        self.up2, self.up1 = nn.Conv2d(16, 4, 3, padding=1), nn.Conv2d(8, 1, 3, padding=1)

    def forward(self, x):
        first = torch.relu(self.down1(x))
        second = torch.relu(self.down2(nn.functional.max_pool2d(first, 2)))
        bottom = torch.relu(self.bottom(nn.functional.max_pool2d(second, 2)))
        up = nn.functional.interpolate(bottom, scale_factor=2)
        up = torch.relu(self.up2(torch.cat([up, second], 1)))
        return self.up1(torch.cat([nn.functional.interpolate(up, scale_factor=2), first], 1))


def test_images_whose_sides_the_skip_connections_cannot_join_are_named_with_the_multiple():
    torch.manual_seed(0)
    x = torch.rand(8, 1, 10, 10)  # 10 -> 5 -> 2, upsampled to 4: it cannot meet the map of side 5
    report = diagnose(TinyUNet(), x, (x > 0.5).float(), nn.BCEWithLogitsLoss(), steps=0)
    assert report.codes == ["input-layout"], str(report)
    assert "a multiple of 4 on each side" in str(report) and "cropped to 8 x 8" in str(report)
    good = torch.rand(8, 1, 12, 12)
    assert "input-layout" not in diagnose(TinyUNet(), good, (good > 0.5).float(), nn.BCEWithLogitsLoss(), steps=0).codes


def test_a_keras_unet_that_takes_any_side_is_named_with_the_multiple_too():
    """Keras words the refusal differently ("Dimension 1 in both shapes must be equal"); the same crop search."""
    keras = pytest.importorskip("keras")
    cu.setup(frameworks=("torch", "tensorflow"))
    keras.utils.set_random_seed(0)
    L = keras.layers
    images = keras.Input((None, None, 1))
    first = L.Conv2D(4, 3, padding="same", activation="relu")(images)
    bottom = L.Conv2D(4, 3, padding="same", activation="relu")(L.MaxPooling2D(2)(first))
    joined = L.Concatenate()([first, L.UpSampling2D(2)(bottom)])
    model = keras.Model(images, L.Conv2D(1, 1, activation="sigmoid")(joined))
    x = np.random.default_rng(0).random((8, 9, 9, 1)).astype("float32")  # 9 -> 4, upsampled to 8: not 9
    report = diagnose(model, x, (x > 0.5).astype("float32"), "binary_crossentropy", steps=0)
    assert report.codes == ["input-layout"], str(report)
    assert "a multiple of 2 on each side" in str(report) and "cropped to 8 x 8" in str(report)
    good = x[:, :8, :8]
    assert diagnose(model, good, (good > 0.5).astype("float32"), "binary_crossentropy", steps=0).clean


def test_a_loss_of_ones_own_that_broadcasts_a_column_against_a_row_is_named():
    """A contrastive loss written elementwise: distances of shape (n,) against labels (n, 1) make an (n, n) grid."""
    def contrastive(distance, label, margin=2.0):
        return torch.mean((1 - label) * distance ** 2 + label * torch.clamp(margin - distance, min=0) ** 2)

    class PairDistance(nn.Module):
        def __init__(self, keepdim):
            super().__init__()
            self.keepdim, self.embed = keepdim, nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 4))

        def forward(self, pairs):
            return nn.functional.pairwise_distance(self.embed(pairs[:, 0]), self.embed(pairs[:, 1]),
                                                   keepdim=self.keepdim)

    pairs, labels = torch.randn(40, 2, 6), torch.randint(0, 2, (40, 1)).float()
    torch.manual_seed(0)
    report = diagnose(PairDistance(keepdim=False), pairs, labels, contrastive, steps=0)
    assert "target-shape-broadcast" in report.codes and "(shape (40, 40))" in str(report), str(report)
    torch.manual_seed(0)
    fixed = diagnose(PairDistance(keepdim=True), pairs, labels, contrastive, steps=0)
    assert "target-shape-broadcast" not in fixed.codes, str(fixed)


class WordsThenLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed, self.lstm, self.head = nn.Embedding(30, 8), nn.LSTM(8, 8, batch_first=True), nn.Linear(8, 2)

    def forward(self, tokens):
        return self.head(self.lstm(self.embed(tokens))[0][:, -1])


@pytest.mark.parametrize("padding", ["post", "pre"])
def test_words_padded_after_them_that_the_gradient_never_reaches_are_named(padding):
    g = torch.Generator().manual_seed(0)
    tokens = torch.zeros(32, 300, dtype=torch.long)
    words = torch.randint(1, 30, (32, 12), generator=g)
    if padding == "post":
        tokens[:, :12] = words  # 288 steps of 0 after the words, and no mask
    else:
        tokens[:, -12:] = words
    torch.manual_seed(0)
    model = WordsThenLSTM()
    with torch.no_grad():  # a forget gate that lets the gradient die out well before the first steps
        model.lstm.bias_hh_l0[8:16] = -1.0
    report = diagnose(model, tokens, words[:, 0] % 2, CE, steps=0)
    if padding == "post":
        assert "rnn-too-many-steps" in report.codes and "padded after their words" in str(report), str(report)
        assert "mask_zero=True" in str(report)
    else:
        assert "rnn-too-many-steps" not in report.codes, str(report)


def test_a_loss_built_with_weights_of_the_wrong_form_is_named_not_blamed_on_the_targets():
    x, y = data(40, 6, 4)
    model = mlp(6, 16, 4)
    row = torch.ones(1, 4)  # class weights kept as a (1, C) row, e.g. from np.expand_dims
    report = diagnose(model, x, y, nn.CrossEntropyLoss(weight=row), steps=0)
    assert report.codes == ["loss-arguments"], str(report)
    assert "weight = a tensor of shape (1, 4)" in str(report) and "as a flat float tensor of 4 values" in str(report)
    assert diagnose(model, x, y, nn.CrossEntropyLoss(weight=row[0]), steps=0).clean

    class WeightedBCE(nn.Module):  # pos_weight computed with NumPy and handed to the functional loss as it is
        def __init__(self, pos_weight):
            super().__init__()
            self.pos_weight = pos_weight

        def forward(self, out, target):
            return nn.functional.binary_cross_entropy_with_logits(out, target, pos_weight=self.pos_weight)

    binary = (y[:, None] % 2).float()
    report = diagnose(mlp(6, 16, 1), x, binary, WeightedBCE(np.float64(3.0)), steps=0)
    assert report.codes == ["loss-arguments"] and "a NumPy float64 scalar" in str(report), str(report)
    assert diagnose(mlp(6, 16, 1), x, binary, WeightedBCE(torch.tensor([3.0])), steps=0).clean


def test_a_loss_not_finite_before_any_step_blames_the_batch_not_the_learning_rate():
    """NaN in x: the untrained loss is NaN, so no training probe can judge the step size or memorisation; the
    report says where the NaN sits and does not read NaN outputs as samples mixing with each other."""
    torch.manual_seed(0)
    x, y = torch.randn(64, 5), torch.randn(64, 1)
    x[3, 2] = x[7, 0] = float("nan")
    model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1))
    report = diagnose(model, x, y, nn.MSELoss(), optimizer=torch.optim.SGD(model.parameters(), 0.01))
    assert "non-finite-loss" in report.codes and "x holds 2 NaN or infinite value(s) of 320" in str(report)
    assert not {"lr-too-high", "samples-mixed", "cannot-overfit"} & set(report.codes), str(report)
    skipped = dict(report.skipped)
    assert "before any step" in skipped["lr-too-high"] and "before any step" in skipped["overfit-one-batch"]
    clean_x = torch.nan_to_num(x)
    assert "non-finite-loss" not in diagnose(model, clean_x, y, nn.MSELoss(),
                                             optimizer=torch.optim.SGD(model.parameters(), 0.01)).codes


def test_a_step_that_is_nan_at_any_rate_is_not_blamed_on_the_learning_rate():
    """Adam's epsilon 1e-8 is 0 in float16, so a weight whose gradient is 0 gets 0/0: the loss is NaN after one
    step at the student's rate, a tenth of it and 1e-4 of it. That is not lr-too-high; the report names the
    epsilon. With an epsilon float16 holds, the step-size probe and the overfit probe (its own Adam) stay finite."""
    torch.manual_seed(0)
    x, y = torch.rand(16, 8).half(), torch.randint(0, 3, (16,))
    codes, texts = {}, {}
    for eps in (1e-8, 1e-4):
        model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3)).half()
        report = diagnose(model, x, y, CE, optimizer=torch.optim.Adam(model.parameters(), 1e-3, eps=eps))
        codes[eps], texts[eps] = set(report.codes), str(report)
    assert "non-finite-loss" in codes[1e-8] and "lr-too-high" not in codes[1e-8], texts[1e-8]
    assert "epsilon 1e-08 is 0 in float16" in texts[1e-8] and "not the cause" in texts[1e-8]
    assert not {"non-finite-loss", "lr-too-high"} & codes[1e-4], texts[1e-4]


def test_float16_softmax_rows_are_probabilities_within_float16_rounding():
    """A float16 softmax over 10 classes sums to 1 only within about 1e-3: not rows-not-probabilities."""
    keras = pytest.importorskip("keras")
    cu.setup(frameworks=("torch", "tensorflow"))
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((64, 12)).astype(np.float16)
    y = np.arange(64) % 10
    model = keras.Sequential([keras.Input((12,), dtype="float16"), keras.layers.Dense(10, dtype="float16"),
                              keras.layers.Softmax(dtype="float16")])
    sums = np.asarray(model(x), dtype=np.float64).sum(axis=1)
    assert np.abs(sums - 1).max() > 1e-4  # float16 rounding: the old fixed tolerance called these rows broken
    report = diagnose(model, x, y, "sparse_categorical_crossentropy", steps=0)
    assert "rows-not-probabilities" not in report.codes, str(report)
    as_sigmoids = keras.Sequential([keras.Input((12,), dtype="float16"),
                                    keras.layers.Dense(10, activation="sigmoid", dtype="float16")])
    assert "rows-not-probabilities" in diagnose(as_sigmoids, x, y, "sparse_categorical_crossentropy", steps=0).codes


def test_the_overfit_probes_take_rows_spread_over_a_batch_too_costly_to_train_whole(monkeypatch):
    """A batch whose forward pass costs more than PROBE_MULTIPLY_ADDS: the overfit probe trains on rows spread
    evenly over it and a note says how many, while the learning-rate probe keeps the whole batch (the tenth set's
    SGD at 0.1 diverged on its 32 images and not on the first 2); Keras counts the same multiply-adds for the same
    network. The batch is sorted by class, as a batch built by concatenating classes is: the first rows alone
    would hold one class, and a probe memorising one class learns a constant. A small model keeps its batch."""
    from course_utils.diagnosis.adapters import TorchAdapter
    from course_utils.diagnosis.checklist import PROBE_MULTIPLY_ADDS

    torch.manual_seed(0)
    x, y = torch.randn(16, 3, 48, 48), torch.arange(16) // 4  # four classes, four images each, in order
    per_sample = 48 * 48 * 32 * (3 * 9 + 32 * 9) + 32 * 4  # two 3x3 convolutions on every pixel, one Linear
    rows = int(PROBE_MULTIPLY_ADDS // per_sample)
    assert 4 <= rows < 16 and len(set(y[:rows].tolist())) < 4  # the first rows miss a class
    model = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 4))
    trained = []  # (steps, rows, classes) of every training run of a probe
    train = TorchAdapter.train
    monkeypatch.setattr(TorchAdapter, "train", lambda self, m, opt, steps: trained.append(
        (steps, self.n, len(set(self.y.tolist())))) or train(self, m, opt, steps))
    report = diagnose(model, x, y, CE, optimizer=torch.optim.SGD(model.parameters(), 0.01), steps=40, lr_steps=20)
    note = f"the overfit probes used {rows} of the 16 samples, spread evenly over the batch"
    assert any(note in n for n in report.notes) and report.clean, str(report)  # the spread rows memorised
    assert {n for steps, n, _ in trained if steps == 20} == {16}
    assert {(n, classes) for steps, n, classes in trained if steps == 40} == {(rows, 4)}  # every class
    assert not any("overfit probes used" in n for n in diagnose(mlp(), *data(32, 10, 3), CE, steps=40).notes)
    assert not any("overfit probes used" in n for n in diagnose(model, x, y, CE, steps=0).notes)  # none ran
    keras = pytest.importorskip("keras")
    cu.setup(frameworks=("torch", "tensorflow"))
    L = keras.layers
    twin = keras.Sequential([keras.Input((48, 48, 3)), L.Conv2D(32, 3, padding="same", activation="relu"),
                             L.Conv2D(32, 3, padding="same", activation="relu"), L.GlobalAveragePooling2D(),
                             L.Dense(4)])
    keras_report = diagnose(twin, x.permute(0, 2, 3, 1).numpy(), y.numpy(),
                            keras.losses.SparseCategoricalCrossentropy(from_logits=True), steps=1)
    assert any(note in n for n in keras_report.notes), str(keras_report)


def test_a_keras_probe_run_that_diverges_stops_within_a_quarter_of_its_steps():
    """The Keras loop checks for divergence between its compiled calls: a probe run in one call of 200 steps ran
    all of them after the loss was NaN (the eleventh set's ReLU LSTM: a minute a rate). In quarters it stops at the
    end of the quarter where the loss went bad, with the same losses up to there."""
    keras = pytest.importorskip("keras")
    cu.setup(frameworks=("torch", "tensorflow"))
    from course_utils.diagnosis.adapters import KerasAdapter

    cu.seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    x = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    ad = KerasAdapter(model, x, x.sum(axis=1, keepdims=True), "mse", None)
    blowing_up = keras.optimizers.SGD(1e3)
    run = ad.train(ad.copy(), blowing_up, 200)
    assert run.diverged and run.diverged_at < 50, run.diverged_at
    assert int(blowing_up.iterations.numpy()) == 50  # one quarter ran, not 200 steps
    calm = ad.copy()
    whole = ad.train(calm, keras.optimizers.SGD(1e-2), 200).losses  # no divergence: every step, as before
    assert len(whole) == 200 and np.all(np.isfinite(whole))


def test_a_keras_strided_conv3d_counts_as_the_time_it_takes_so_its_probes_take_fewer_rows():
    """TensorFlow trains a strided Conv3D tens of times slower per multiply-add than its other layers
    (benchmarks/diagnose_cost.py): the tenth set's bags of volumes, under the cap by the plain count, took minutes.
    A strided Conv3D and an unstrided one with the same multiply-adds: only the strided one's probes take fewer
    rows, and the note names the layer and its weight."""
    keras = pytest.importorskip("keras")
    cu.setup(frameworks=("torch", "tensorflow"))
    from course_utils.diagnosis.checklist import PROBE_MULTIPLY_ADDS
    from course_utils.diagnosis.adapters import STRIDED_CONV3D_SLOWDOWN

    L = keras.layers
    x = np.random.default_rng(0).random((16, 8, 8, 8, 3), dtype=np.float32)
    y = np.arange(16) % 2
    per_sample = 4 ** 3 * 3 * 64 * 4 ** 3  # 64 filters of 4x4x4x3 at 4^3 output positions (stride 2)
    assert 16 * per_sample < PROBE_MULTIPLY_ADDS < 16 * per_sample * STRIDED_CONV3D_SLOWDOWN
    rows = int(PROBE_MULTIPLY_ADDS // (per_sample * STRIDED_CONV3D_SLOWDOWN))

    def report(conv):
        cu.seed(0)
        model = keras.Sequential([keras.Input((8, 8, 8, 3)), conv, L.GlobalAveragePooling3D(), L.Dense(2)])
        return diagnose(model, x, y, keras.losses.SparseCategoricalCrossentropy(from_logits=True), steps=1)

    strided = report(L.Conv3D(64, 4, strides=2, padding="same", name="strided"))
    note, weight = (f"the overfit probes used {rows} of the 16 samples",
                    f"the strided Conv3D layer strided counted {STRIDED_CONV3D_SLOWDOWN} times over")
    assert any(note in n and weight in n for n in strided.notes), str(strided)
    unstrided = report(L.Conv3D(8, 4, padding="same"))  # 8 filters at all 8^3 positions: the same count
    assert not any("overfit probes used" in n for n in unstrided.notes), str(unstrided)


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_a_convolution_with_few_channels_counts_its_windows_so_its_probes_take_fewer_rows(framework):
    """A convolution gathers each output position's window whatever its channels, so one with a single filter
    trains many times slower per multiply-add than a wide one (benchmarks/diagnose_cost.py): the fourteenth set's
    one-filter Conv3D repair spent minutes in probes its plain count put under the cap. One 3x3x3 filter over 16
    volumes of 32^3: 14 million multiply-adds, under PROBE_MULTIPLY_ADDS; with its windows counted, 5 rows."""
    from course_utils.diagnosis.adapters import CONV_WINDOW_COST
    from course_utils.diagnosis.checklist import PROBE_MULTIPLY_ADDS

    cu.setup(frameworks=("torch", "tensorflow"))
    positions, window = 32 ** 3, 27
    assert 16 * positions * window < PROBE_MULTIPLY_ADDS < 16 * positions * window * (1 + CONV_WINDOW_COST)
    rows = int(PROBE_MULTIPLY_ADDS // (positions * window * (1 + CONV_WINDOW_COST)))
    volumes = np.random.default_rng(0).random((16, 32, 32, 32, 1), dtype=np.float32)
    labels = np.arange(16) % 2
    cu.seed(0)
    if framework == "torch":
        model = nn.Sequential(nn.Conv3d(1, 1, 3, padding=1), nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(1, 2))
        report = diagnose(model, torch.from_numpy(volumes.transpose(0, 4, 1, 2, 3).copy()), torch.from_numpy(labels),
                          nn.CrossEntropyLoss(), steps=1)
    else:
        keras = pytest.importorskip("keras")
        L = keras.layers
        model = keras.Sequential([keras.Input((32, 32, 32, 1)), L.Conv3D(1, 3, padding="same"),
                                  L.GlobalAveragePooling3D(), L.Dense(2)])
        report = diagnose(model, volumes, labels, keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                          steps=1)
    assert rows == 5 and any(f"the overfit probes used {rows} of the 16 samples" in n for n in report.notes), str(report)


def test_a_keras_rnn_with_a_cell_of_ones_own_that_is_not_registered_is_copied_not_refused():
    """keras.models.clone_model rebuilds an RNN's cell from its config by class name: a cell class the student
    never registered (no @register_keras_serializable) made diagnose raise on a model that fit trains."""
    keras = pytest.importorskip("keras")
    cu.setup(frameworks=("torch", "tensorflow"))
    keras.utils.set_random_seed(0)

    class LeakyCell(keras.layers.Layer):  # a minimal recurrent cell: h = tanh(x W + 0.5 h)
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform")

        def call(self, inputs, states):
            h = keras.ops.tanh(keras.ops.matmul(inputs, self.kernel) + 0.5 * states[0])
            return h, [h]

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    model = keras.Sequential([keras.Input((12, 3)), keras.layers.RNN(LeakyCell(8)), keras.layers.Dense(1)])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 12, 3)).astype("float32")
    y = x.sum(axis=(1, 2))[:, None] / 6
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1, verbose=0)  # the framework trains it
    weights = [w.copy() for w in model.get_weights()]
    report = diagnose(model, x, y, "mse", steps=50)  # raised TypeError ("could not copy this model") before
    assert "overfit-one-batch" in report.passed or "cannot-overfit" in report.codes, str(report)  # the probe ran
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))  # on a copy


class ViewNet(nn.Module):
    """Two convolutions without padding then x.view(-1, features): right for 8x8 maps, wrong for 10x10 ones."""

    def __init__(self, features, keep_batch=False):
        super().__init__()
        self.features, self.keep_batch = features, keep_batch
        self.conv = nn.Conv2d(1, 4, 3)
        self.head = nn.Linear(features, 3)

    def forward(self, x):
        maps = torch.relu(self.conv(x))
        return self.head(maps.view(x.size(0), -1) if self.keep_batch else maps.view(-1, self.features))


@pytest.mark.parametrize("features, words", [
    (60, "a reshape to (-1, 60) met 4096 values for a batch of 16: 256 per sample, not 60"),  # PyTorch refuses
    (64, "the model returned 64 output rows for a batch of 16 (4 per sample)"),  # runs, on 4 rows per sample
])
def test_a_reshape_that_folds_samples_into_the_batch_is_a_layer_size_mismatch_not_a_raise(features, words):
    torch.manual_seed(0)
    x, y = torch.rand(16, 1, 10, 10), torch.randint(0, 3, (16,))  # 8x8 maps of 4 channels: 256 per sample
    report = diagnose(ViewNet(features), x, y, CE, steps=0)
    assert report.codes == ["layer-size-mismatch"] and words in str(report), str(report)
    assert "x.view(x.size(0), -1)" in str(report)
    assert diagnose(ViewNet(256, keep_batch=True), x, y, CE, steps=0).clean


class FixedNoiseNet(nn.Module):
    """Adds noise drawn for a batch of 32 rows (the bug) or for the batch it is given (the fix)."""

    def __init__(self, rows=None):
        super().__init__()
        self.rows = rows
        self.layers = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))

    def forward(self, x):
        noise = torch.randn(self.rows, x.shape[1]) if self.rows else torch.randn_like(x)
        return self.layers(x + 0.01 * noise)


def test_a_batch_size_written_into_the_model_is_named_not_raised():
    """The model runs on 32 rows and refuses 20: the size 32 in the error is tried, and the report says that
    32 is written into the model, with the fix to take the size from the input."""
    torch.manual_seed(0)
    x, y = torch.randn(20, 6), torch.randint(0, 3, (20,))
    report = diagnose(FixedNoiseNet(32), x, y, CE, steps=0)
    assert report.codes == ["layer-size-mismatch"], str(report)
    assert "a batch size of 32 is written into the model, and this batch has 20" in str(report)
    assert "x.size(0)" in str(report)
    assert "layer-size-mismatch" not in diagnose(FixedNoiseNet(), x, y, CE, steps=0).codes


def test_a_softmax_over_a_vector_of_values_cannot_reach_targets_whose_rows_do_not_sum_to_one():
    """A regression of 16 values per sample through a softmax (deepmufl's post 56774954): the row sums to 1, the
    targets' rows to several units."""
    torch.manual_seed(0)
    x = torch.randn(64, 10)
    y = 1 - torch.exp(-torch.rand(64, 1) * 3 * torch.linspace(0, 1, 16))  # rising curves in [0, 1)
    softmax = nn.Sequential(nn.Linear(10, 32), nn.Sigmoid(), nn.Linear(32, 16), nn.Softmax(dim=1))
    finding = diagnose(softmax, x, y, nn.MSELoss(), steps=0).finding("output-cannot-reach-target")
    assert "row sums to 1" in finding.evidence[0] and "100% of the target rows do not" in finding.evidence[1]
    assert "Replace the softmax" in finding.fix
    sigmoid = nn.Sequential(nn.Linear(10, 32), nn.Sigmoid(), nn.Linear(32, 16), nn.Sigmoid())
    assert "output-cannot-reach-target" not in diagnose(sigmoid, x, y, nn.MSELoss(), steps=0).codes
    one_hot = torch.eye(16)[torch.randint(0, 16, (64,))]  # rows that do sum to 1: a softmax can reach them
    assert "output-cannot-reach-target" not in diagnose(softmax, x, one_hot, nn.MSELoss(), steps=0).codes


def test_a_loss_whose_floor_is_above_zero_is_memorised_down_to_that_floor():
    """Binary cross-entropy on soft targets cannot fall below their entropy, however well the model fits: the
    overfit test measures the way down to the loss of outputs equal to the targets, not to 0."""
    torch.manual_seed(0)
    x = torch.randn(64, 8)
    soft = torch.sigmoid(x @ torch.randn(8, 4))
    model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 4), nn.Sigmoid())
    report = diagnose(model, x, soft, nn.BCELoss())
    assert "cannot-overfit" not in report.codes and "overfit-one-batch" in report.passed, str(report)
    assert any("its value at outputs equal to the targets" in note for note in report.notes), str(report)
    stuck = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 4), nn.Sigmoid())
    for p in stuck.parameters():
        p.requires_grad_(False)
    assert "overfit-one-batch" not in diagnose(stuck, x, soft, nn.BCELoss()).passed


def _relabelled_repeats(classes=3):
    """48 different inputs, then 16 of them again with another label: 32 samples no model can all get right."""
    torch.manual_seed(0)
    x = torch.randn(48, 8)
    labels = torch.randint(0, classes, (48,))
    x = torch.cat([x, x[:16]])
    labels = torch.cat([labels, (labels[:16] + 1) % classes])
    return x, labels


def test_inputs_repeated_with_other_labels_set_the_overfit_tests_floor_for_logits_and_class_indices():
    """The same input with two labels costs at least log 2 for each of them, whatever the model: the overfit test
    measures the way down to that floor, or a healthy model on relabelled duplicates is told it cannot overfit."""
    x, labels = _relabelled_repeats()
    model = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 3))
    report = diagnose(model, x, labels, nn.CrossEntropyLoss())
    assert "cannot-overfit" not in report.codes and "overfit-one-batch" in report.passed, str(report)
    floor = math.log(2) * 32 / 64  # half the samples at log 2, the rest at 0
    assert any(f"cannot go below {floor:.3g}" in note and "32 of the 64 samples share their input" in note
               for note in report.notes), str(report)
    stuck = nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Linear(64, 3))
    stuck[0].requires_grad_(False)
    with torch.no_grad():
        stuck[0].weight.zero_()  # every sample gets the same hidden features: the floor is out of its reach
    assert "cannot-overfit" in diagnose(stuck, x, labels, nn.CrossEntropyLoss()).codes


def test_the_floor_of_relabelled_repeats_is_the_same_in_keras_and_for_one_hot_rows():
    keras = pytest.importorskip("keras")
    x, labels = _relabelled_repeats()
    floor = math.log(2) * 32 / 64
    for y, loss in ((labels.numpy(), "sparse_categorical_crossentropy"),
                    (np.eye(3, dtype=np.float32)[labels.numpy()], "categorical_crossentropy")):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(64, activation="relu"),
                                  keras.layers.Dense(3, activation="softmax")])
        report = diagnose(model, x.numpy(), y, loss)
        assert "overfit-one-batch" in report.passed, str(report)
        assert any(f"cannot go below {floor:.3g}" in note for note in report.notes), str(report)


def test_most_samples_sharing_their_input_with_another_target_is_named_and_a_few_are_not():
    """Images cast to integers before they were scaled back up: most become all zeros, whatever their label. No
    model can fit those; relabelled repeats of a third of the batch (noisy labels) are left to the overfit test."""
    torch.manual_seed(0)
    x, labels = torch.rand(60, 12), torch.randint(0, 3, (60,))
    truncated = x.clone()
    truncated[:45] = 0  # 45 of 60 samples, of all three labels, read as the same all-zero input
    report = diagnose(mlp(12, 16, 3), truncated, labels, CE, steps=0)
    assert "constant-inputs" in report.codes and "45 of the 60 samples share their input" in str(report)
    noisy_x, noisy_labels = torch.cat([x[:50], x[:10]]), torch.cat([labels[:50], (labels[:10] + 1) % 3])
    assert "constant-inputs" in diagnose(mlp(12, 16, 3), noisy_x, noisy_labels, CE, steps=0).passed  # 20 of 60


class LastStepLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm, self.head = nn.LSTM(1, 8, batch_first=True), nn.Linear(8, 1)

    def forward(self, x):
        return self.head(self.lstm(x)[0][:, -1])


def test_a_sequence_cut_into_samples_of_one_step_is_the_inputs_layout():
    """A stream 1, 0, 0, 1, 0, 0, ... whose target is how long ago the last 1 came, fed one step per sample: the
    recurrent layer never sees the steps before, and the 0s come with two targets."""
    stream = torch.tensor([1.0, 0.0, 0.0] * 20)
    since_one = torch.tensor([0.0, 1.0, 2.0] * 20)
    report = diagnose(LastStepLSTM(), stream.reshape(60, 1, 1), since_one.reshape(60, 1), nn.MSELoss(), steps=0)
    finding = report.finding("input-layout")
    assert finding is not None and "each sample is a single time step, so lstm never sees" in str(finding), report
    assert "whole sequences" in finding.fix and "constant-inputs" not in report.codes
    windows = torch.stack([stream[i:i + 3] for i in range(57)]).unsqueeze(-1)  # the last 3 steps each
    assert "input-layout" not in diagnose(LastStepLSTM(), windows, since_one[2:59].reshape(57, 1), nn.MSELoss(),
                                          steps=0).codes


class GeneratorStep(nn.Module):
    """A GAN's generator step: noise of its own through a generator, scored by a frozen discriminator; every
    sample's target is 'real' by design."""

    def __init__(self):
        super().__init__()
        self.generator = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 6))
        self.discriminator = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 1))
        self.discriminator.requires_grad_(False)

    def forward(self, x):
        return self.discriminator(self.generator(torch.randn(x.shape[0], 4)) + 0 * x)


def test_the_same_target_for_every_sample_is_a_gans_label_when_the_model_draws_its_own_noise():
    torch.manual_seed(0)
    x, real = torch.randn(32, 6), torch.ones(32, 1)
    report = diagnose(GeneratorStep(), x, real, nn.BCEWithLogitsLoss(), steps=0)
    assert "constant-targets" not in report.codes, str(report)
    assert any("draws noise of its own" in note for note in report.notes), str(report)
    classifier = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 1))  # the same labels, no noise: a bug
    assert "constant-targets" in diagnose(classifier, x, real, nn.BCEWithLogitsLoss(), steps=0).codes


def _keras_net_class(keras):
    class Net(keras.Model):  # the tutorials' subclassed model: layers made in __init__, which takes no argument
        def __init__(self):
            super().__init__()
            self.hidden = keras.layers.Dense(32, activation="relu")
            self.out = keras.layers.Dense(3, activation="softmax")

        def call(self, inputs):
            return self.out(self.hidden(inputs))

    return Net


def test_a_subclassed_keras_model_whose_init_takes_no_argument_is_diagnosed_on_a_copy():
    """clone_model cannot rebuild such a model from its config; fit trains it, so diagnose must not raise (SFData's
    LeNet-300-100, the thirteenth held-out set, raised on its fixed twin)."""
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 8)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)
    model = _keras_net_class(keras)()
    model(x[:1])
    before = [w.numpy().copy() for w in model.weights]
    report = diagnose(model, x, labels, "sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam(1e-2))
    assert "overfit-one-batch" in report.passed, str(report)
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, model.weights)), "the student's model changed"

    class Shared(keras.Model):  # its layers are handed in: a new instance would train the student's own weights
        def __init__(self, layers=model.layers):
            super().__init__()
            self.body = list(layers)

        def call(self, inputs):
            for layer in self.body:
                inputs = layer(inputs)
            return inputs

    with pytest.raises(TypeError, match="could not copy this model"):
        diagnose(Shared(), x, labels, "sparse_categorical_crossentropy")


def test_one_hot_rows_given_to_a_keras_sparse_cross_entropy_are_named_not_raised():
    keras = pytest.importorskip("keras")
    x = np.random.default_rng(0).normal(size=(32, 6)).astype(np.float32)
    one_hot = np.eye(4, dtype=np.float32)[np.arange(32) % 4]
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="softmax")])
    report = diagnose(model, x, one_hot, "sparse_categorical_crossentropy")
    finding = report.finding("labels-not-class-indices")
    assert "one-hot rows of the output's shape (32, 4)" in finding.evidence[0] and "argmax" in finding.fix


def _line_fit(lr, seed=0):
    """A one-unit linear regression of y = 3x - 1 with SGD at ``lr``: the overfit probe's Adam memorises it."""
    torch.manual_seed(seed)
    x = torch.linspace(-1, 1, 48).reshape(-1, 1)
    model = nn.Linear(1, 1)
    return model, x, 3 * x - 1, torch.optim.SGD(model.parameters(), lr=lr)


@pytest.mark.parametrize("lr,train_steps,outcome", [(1e-5, 150, "finding"), (1e-5, 400, "finding"),
                                                      (1e-3, 150, "note"), (0.3, 150, "passed")])
def test_settings_that_leave_the_loss_where_it_was_for_the_whole_program_are_too_few_steps(lr, train_steps, outcome):
    """Given how many steps the program takes, the student's own settings are run that long. SGD at 1e-5 moves the
    loss of a line less than 1% in 150 or 400 steps where the probe's Adam memorises it: a finding. SGD at 1e-3
    lowers it by a third without memorising it, as many working programs do: a note with the numbers. SGD at 0.3
    memorises it within 150 steps."""
    model, x, y, opt = _line_fit(lr)
    report = diagnose(model, x, y, nn.MSELoss(), optimizer=opt, train_steps=train_steps)
    assert ("too-few-steps" in report.codes) == (outcome == "finding"), str(report)
    assert ("program-length" in report.passed) == (outcome == "passed"), str(report)
    notes = [note for note in report.notes if note.startswith("program-length:")]
    assert bool(notes) == (outcome == "note"), str(report)
    if outcome == "finding":
        evidence = " ".join(report.finding("too-few-steps").evidence)
        assert f"in all the {train_steps} steps your program takes, the loss moves" in evidence
        assert "memorised it in" in evidence
    if outcome == "passed":
        assert any(f"of your program's {train_steps} steps" in note for note in report.notes), str(report)
    without = diagnose(model, x, y, nn.MSELoss(), optimizer=opt)  # not told the program's length: not judged
    assert "too-few-steps" not in without.codes and "program-length" not in without.passed


def test_the_program_length_check_needs_an_optimizer_and_a_batch_the_probe_memorised():
    model, x, y, _ = _line_fit(1e-3)
    report = diagnose(model, x, y, nn.MSELoss(), train_steps=100)
    assert dict(report.skipped)["program-length"].startswith("no optimizer given"), str(report)
    torch.manual_seed(0)
    wide = torch.randn(64, 2)  # 64 random targets for a one-unit line: nothing memorises them
    line = nn.Linear(2, 1)
    report = diagnose(line, wide, torch.randn(64, 1), nn.MSELoss(), optimizer=torch.optim.SGD(line.parameters(), 1e-3),
                      train_steps=100)
    assert "did not memorise" in dict(report.skipped)["program-length"] and "too-few-steps" not in report.codes


def test_a_program_longer_than_the_check_runs_is_not_judged(monkeypatch):
    from course_utils.diagnosis import checks

    monkeypatch.setattr(checks, "PROGRAM_STEPS_CAP", 100)
    model, x, y, opt = _line_fit(1e-5)
    report = diagnose(model, x, y, nn.MSELoss(), optimizer=opt, train_steps=5000)
    assert "too-few-steps" not in report.codes, str(report)
    assert any("your program takes 5000 steps" in note and "not judged" in note for note in report.notes), str(report)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "100"])
def test_train_steps_must_be_a_positive_whole_number(bad):
    model, x, y, opt = _line_fit(0.1)
    with pytest.raises(ValueError, match="train_steps must be a whole number of optimizer steps"):
        diagnose(model, x, y, nn.MSELoss(), optimizer=opt, train_steps=bad)
