"""Lab 06 (mystery bugs): the check must tell a fixed script from plausible wrong answers.

Each answer below is one script as a student might write it in its exercise
cell. The check runs it alone (the other scripts are "not given"), and the
test reads that script's verdict line and the hint.
"""
import re
import time

import numpy as np
import pytest

import course_utils as cu

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

cu.setup(frameworks=("torch", "tensorflow"))
import keras  # noqa: E402

from course_utils.checks import mystery_bugs as mb  # noqa: E402
from course_utils.diagnosis import diagnose  # noqa: E402

SHORT_LIMIT_S = 2  # for answers that never return (only those): the verdict is the same as with the lab's 60 s


# --- script builders: the lab's scripts with one thing changed --------------------------------

def script_a(head=(nn.Softmax(dim=1),), loss=nn.CrossEntropyLoss(), numpy=False):
    def mystery_a():
        x, y = mb.data("mystery_a")
        cu.seed(0)
        model = nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 4), *head)
        if not numpy:
            x, y = torch.from_numpy(x), torch.from_numpy(y).long()
        return dict(model=model, x=x, y=y, loss=loss, optimizer=torch.optim.Adam(model.parameters(), lr=1e-3))
    return mystery_a


class OneHotLookup(nn.Module):
    """A 'model' that knows the batch's labels: one-hot targets stored in it, plus a bias to train."""

    def __init__(self, y):
        super().__init__()
        self.register_buffer("answers", 10.0 * nn.functional.one_hot(torch.as_tensor(y).long(), 4).float())
        self.bias = nn.Parameter(torch.zeros(4))

    def forward(self, x):
        return self.answers[: len(x)] + self.bias


def a_lookup_model():
    x, y = mb.data("mystery_a")
    model = OneHotLookup(y)
    return dict(model=model, x=torch.from_numpy(x), y=torch.from_numpy(y).long(), loss=nn.CrossEntropyLoss(),
                optimizer=torch.optim.Adam(model.parameters(), lr=1e-3))


def a_returns_a_tuple():
    return tuple(script_a(head=())().values())


def loop_b(zero="before", record=lambda loss: loss.item(), returns=True):
    """The lab's loop; zero: where .grad is cleared ("before", "between" backward and step, "end", "none")."""
    def mystery_b(model, optimizer, x, y, steps):
        losses = []
        for _ in range(steps):
            if zero == "before":
                optimizer.zero_grad()
            elif zero == "none-grads":
                for p in model.parameters():
                    p.grad = None
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            if zero == "between":
                optimizer.zero_grad()
            optimizer.step()
            if zero == "end":
                model.zero_grad()
            losses.append(record(loss))
        return losses if returns else None
    return mystery_b


def b_closure(model, optimizer, x, y, steps):
    def closure():
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        return loss
    return [optimizer.step(closure).item() for _ in range(steps)]


def b_hard_coded(model, optimizer, x, y, steps):
    return list(np.linspace(1.4, 0.05, steps))


def b_made_up_numbers(model, optimizer, x, y, steps):
    losses = loop_b()(model, optimizer, x, y, steps)
    return [loss / 10 for loss in losses]  # "looks better"


def b_own_optimizer(model, optimizer, x, y, steps):
    return loop_b()(model, torch.optim.SGD(model.parameters(), lr=0.5), x, y, steps)


def b_relabels_y(model, optimizer, x, y, steps):
    with torch.no_grad():
        y[:] = model(x).argmax(dim=1)  # "the labels the model already likes"
    return loop_b()(model, optimizer, x, y, steps)


def b_until_small(model, optimizer, x, y, steps):
    losses = [float("inf")]
    while losses[-1] > 1e-9:  # "train until it has learnt"
        losses.append(loop_b()(model, optimizer, x, y, 1)[0])
    return losses[1:]


def b_no_backward(model, optimizer, x, y, steps):
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        optimizer.step()
        losses.append(loss.item())
    return losses


def b_lower_lr(model, optimizer, x, y, steps):
    for group in optimizer.param_groups:
        group["lr"] = 1e-4  # "it learnt suspiciously fast: slow it down"
    return loop_b()(model, optimizer, x, y, steps)


def b_spins(model, optimizer, x, y, steps):
    while True:
        pass


def b_typo(model, optimizer, x, y, steps):
    optimizer.zero_grad()
    return lossses  # noqa: F821


def a_never_returns():
    while True:  # "wait until the data is ready"
        time.sleep(0.1)


def script_c(layers=("relu", "relu"), scale="standardise", smuggle=False, normalization=None):
    def mystery_c():
        x, y = mb.data("mystery_c")
        if scale == "standardise":
            x = (x - x.mean(axis=0)) / x.std(axis=0)
        elif scale == "minmax":
            x = 2 * (x - x.min(axis=0)) / (x.max(axis=0) - x.min(axis=0)) - 1
        elif scale == "divide":
            x = x / 300.0
        if smuggle:
            x = x.copy()
            x[:, 4] = y  # the label as a feature
        cu.seed(0)
        front = []
        if normalization is not None:
            norm = keras.layers.Normalization()
            if normalization == "adapted":
                norm.adapt(x)
            front = [norm]
        model = keras.Sequential([keras.Input((5,)), *front, keras.layers.Dense(32, activation=layers[0]),
                                  keras.layers.Dense(32, activation=layers[1]), keras.layers.Dense(3)])
        return dict(model=model, x=x, y=y, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                    optimizer=keras.optimizers.Adam(1e-3))
    return mystery_c


def script_d(norm="batch", rows=slice(None), repeat_first=False, momentum=0.99):
    def mystery_d():
        x, y = mb.data("mystery_d")
        x, y = x[rows], y[rows]
        if repeat_first:
            x, y = np.repeat(x[:1], 24, axis=0), np.repeat(y[:1], 24, axis=0)
        cu.seed(0)
        middle = {"batch": [keras.layers.BatchNormalization(momentum=momentum)],
                  "layer": [keras.layers.LayerNormalization()], "none": []}[norm]
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16), *middle, keras.layers.ReLU(),
                                  keras.layers.Dense(2)])
        return dict(model=model, x=x, y=y, loss="mse", optimizer=keras.optimizers.Adam(1e-3))
    return mystery_d


class Scaled(nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, h):
        return self.factor * h


class Slow(nn.Module):
    def forward(self, h):
        time.sleep(3600)
        return h


def script_e(head=(nn.ReLU(),), rows=None, targets=lambda y: y, numpy64=False, flat_y=False):
    def mystery_e():
        x, y = mb.data("mystery_e")
        if rows is not None:
            keep = rows(y)
            x, y = x[keep], y[keep]
        y = targets(y)
        if flat_y:
            y = y[:, 0]
        cu.seed(0)
        model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 1), *head)
        if numpy64:
            x, y = x.astype(np.float64), y.astype(np.float64)
        else:
            x, y = torch.from_numpy(x), torch.from_numpy(y)
        return dict(model=model, x=x, y=y, loss=nn.MSELoss(), optimizer=torch.optim.Adam(model.parameters(), lr=1e-3))
    return mystery_e


# --- answers a student might give ---
# (id, kind, script name, answer, passes, words that the verdict line and its hint must hold; "!words": must not)
ANSWERS = [
    # A: softmax before a cross-entropy that applies its own
    ("a-log-softmax-nll", "valid", "mystery_a", script_a((nn.LogSoftmax(dim=1),), nn.NLLLoss()), True,
     ["diagnose: clean"]),
    ("a-log-softmax-cross-entropy", "valid", "mystery_a", script_a((nn.LogSoftmax(dim=1),)), True,
     ["diagnose: clean"]),  # the softmax of log-probabilities gives the probabilities back
    ("a-numpy-arrays", "valid", "mystery_a", script_a((), numpy=True), True, ["diagnose: clean"]),
    ("a-sigmoid-instead", "wrong", "mystery_a", script_a((nn.Sigmoid(),)), False,
     ["still reports softmax-before-crossentropy", "what does the loss do to the model's output"]),
    ("a-nll-of-probabilities", "partial", "mystery_a", script_a(loss=nn.NLLLoss()), False,
     ["the bug is gone but diagnose now reports", "logits-into-probability-loss", "read the evidence of"]),
    ("a-lookup-model", "cheat", "mystery_a", a_lookup_model, False, ["now reports", "init-loss-off"]),
    ("a-script-never-returns", "never returns", "mystery_a", a_never_returns, False,
     [f"mystery_a() ran for more than {SHORT_LIMIT_S} s", "should return within a second"]),
    ("a-returns-a-tuple", "wrong type", "mystery_a", a_returns_a_tuple, False,
     ["returned tuple, not a dict", "return dict(model=..."]),
    # B: gradients accumulate in a hand-written loop
    ("b-zero-grad-at-the-end", "valid", "mystery_b", loop_b("end"), True, ["reset between all 60 optimizer steps"]),
    ("b-grads-set-to-none", "valid", "mystery_b", loop_b("none-grads"), True, ["fell by more than 30%"]),
    ("b-closure", "valid", "mystery_b", b_closure, True, ["fell by more than 30%"]),
    ("b-tensor-losses", "valid", "mystery_b", loop_b(record=lambda loss: loss.detach()), True, ["fell by more"]),
    ("b-as-shipped", "wrong", "mystery_b", loop_b("none"), False,
     ["still holds the previous step's gradient", "what happens to .grad between two optimizer steps"]),
    ("b-hard-coded-curve", "cheat", "mystery_b", b_hard_coded, False,
     ["stepped the optimizer it was given 0 times", "train with the model and optimizer the function receives"]),
    ("b-made-up-numbers", "cheat", "mystery_b", b_made_up_numbers, False,
     ["are not the model's", "its loss was 1.40 before the loop", "return each step's loss as the loop computed it"]),
    ("b-own-optimizer", "different optimizer", "mystery_b", b_own_optimizer, False,
     ["stepped the optimizer it was given 0 times"]),
    ("b-relabels-y", "cheat", "mystery_b", b_relabels_y, False, ["are not the model's", "1.40 before the loop"]),
    ("b-lower-lr", "partial", "mystery_b", b_lower_lr, False,
     ["the model's loss went from 1.40 to", "should fall by at least 30%", "the optimizer and its settings"]),
    ("b-zero-grad-between", "wrong", "mystery_b", loop_b("between"), False,
     ["was exactly 0 whenever optimizer.step() ran", "clear .grad before backward()", "!between two optimizer steps"]),
    ("b-no-backward", "wrong", "mystery_b", b_no_backward, False,
     ["never called backward()", "needs the gradient of its loss", "!clear .grad"]),
    ("b-no-return", "wrong type", "mystery_b", loop_b(returns=False), False,
     ["returned NoneType, not its list of losses", "return the list"]),
    ("b-typo", "crash", "mystery_b", b_typo, False, ["raised NameError", "lossses", "read the error"]),
    ("b-until-small", "never returns", "mystery_b", b_until_small, False,
     ["called optimizer.step() more than 240 times", "must stop after 60 optimizer steps"]),
    ("b-spins", "never returns", "mystery_b", b_spins, False,
     [f"ran for more than {SHORT_LIMIT_S} s", "must stop after 60 optimizer steps"]),
    # C: a linear stack on unscaled inputs (two bugs)
    ("c-normalization-layer", "valid", "mystery_c", script_c(scale=None, normalization="adapted"), True,
     ["diagnose: clean"]),
    ("c-minmax-tanh", "valid", "mystery_c", script_c(("tanh", "tanh"), scale="minmax"), True, ["diagnose: clean"]),
    ("c-activations-only", "partial", "mystery_c", script_c(scale=None), False,
     ["still reports unscaled-inputs", "at what scale are the values the first layer receives", "!what sits between"]),
    ("c-scaled-only", "partial", "mystery_c", script_c((None, None)), False,
     ["still reports linear-stack", "what sits between the layers with weights", "!at what scale"]),
    ("c-divide-by-300", "partial", "mystery_c", script_c(scale="divide"), False, ["still reports unscaled-inputs"]),
    ("c-normalization-not-adapted", "wrong", "mystery_c", script_c(scale=None, normalization="not adapted"), False,
     ["still reports unscaled-inputs"]),
    ("c-label-as-feature", "cheat", "mystery_c", script_c(smuggle=True), False,
     ["x feature 4 is not the script's feature 4", "keep the script's data", "rescale each feature"]),
    # D: BatchNorm over a batch of one
    ("d-no-batchnorm", "valid", "mystery_d", script_d("none"), True, ["diagnose: clean"]),
    ("d-layernorm", "valid", "mystery_d", script_d("layer"), True, ["diagnose: clean"]),
    ("d-one-row-repeated", "hides the symptom", "mystery_d", script_d(rows=slice(0, 1), repeat_first=True), False,
     ["still reports degenerate-batchnorm", "how many values does the BatchNorm normalise over"]),
    ("d-momentum", "hides the symptom", "mystery_d", script_d(rows=slice(0, 1), momentum=0.5), False,
     ["still reports degenerate-batchnorm"]),
    ("d-two-rows", "drops rows", "mystery_d", script_d(rows=slice(0, 2)), False,
     ["has 2 rows, the script's data has 24", "every row of data(\"mystery_d\")"]),
    # E: a ReLU output for targets that go negative
    ("e-scaled-tanh", "valid", "mystery_e", script_e((nn.Tanh(), Scaled(4.0))), True, ["diagnose: clean"]),
    ("e-float64-numpy", "valid", "mystery_e", script_e((), numpy64=True), True, ["diagnose: clean"]),
    ("e-drop-negative-targets", "drops rows", "mystery_e", script_e(rows=lambda y: y[:, 0] >= 0), False,
     ["has 13 rows, the script's data has 36", "the bug is in the model", "!activation's range"]),
    ("e-clip-targets", "hides the symptom", "mystery_e", script_e(targets=lambda y: y.clip(0, None)), False,
     ["y differs from the script's own y in 23 of 36 rows", "targets unchanged"]),
    ("e-shift-targets", "hides the symptom", "mystery_e", script_e(targets=lambda y: y + 5), False,
     ["y differs from the script's own y in 36 of 36 rows"]),
    ("e-softplus", "wrong", "mystery_e", script_e((nn.Softplus(),)), False,
     ["still reports output-cannot-reach-target", "compare the output activation's range"]),
    ("e-flat-targets", "wrong shape", "mystery_e", script_e((), flat_y=True), False,
     ["the bug is gone but diagnose now reports", "target-shape-broadcast"]),
    ("e-model-never-returns", "never returns", "mystery_e", script_e((Slow(),)), False,
     [f"diagnose(**mystery_e()) ran for more than {SHORT_LIMIT_S} s", "forward pass does not finish"]),
]


def verdict(name, answer, limit_s=mb.TIME_LIMIT_S):
    """(passed, this script's evidence line + its hint) from the lab's check run on this one answer."""
    result = mb.check_mysteries(time_limit_s=limit_s, **{name: answer})
    line = next(line for line in result.evidence if line.startswith(f"{name}: "))
    hint = re.search(rf"{name}: (.*?)(; mystery_[a-e]: |$)", result.hint)
    return line.startswith(f"{name}: fixed"), f"{line}\nhint: {hint.group(1) if hint else ''}"


@pytest.mark.parametrize("kind,name,answer,passes,words", [a[1:] for a in ANSWERS], ids=[a[0] for a in ANSWERS])
def test_answers_a_student_might_give(kind, name, answer, passes, words):
    passed, text = verdict(name, answer, SHORT_LIMIT_S if kind == "never returns" else mb.TIME_LIMIT_S)
    assert passed is passes, text
    for word in words:
        assert (word[1:] not in text) if word.startswith("!") else (word in text), text


def test_every_kind_of_answer_is_covered():
    kinds = {a[1] for a in ANSWERS}
    assert {"valid", "wrong", "partial", "cheat", "crash", "wrong type", "never returns", "drops rows",
            "hides the symptom"} <= kinds
    for name in mb.MYSTERIES:
        assert sum(a[2] == name and a[4] for a in ANSWERS) >= 2, f"two valid alternatives for {name}"
        assert sum(a[2] == name and not a[4] for a in ANSWERS) >= 3, f"wrong answers for {name}"


def test_the_check_never_raises_and_names_the_reason():
    def raises():
        raise RuntimeError("boom")

    result = mb.check_mysteries(mystery_a=raises, mystery_b=42, mystery_c=lambda: "setup", mystery_d=None)
    assert not result.passed
    text = "\n".join(result.evidence)
    assert "0 of 5" in text
    assert "mystery_a: not fixed yet - mystery_a() raised RuntimeError: boom" in text
    assert "mystery_b: not fixed yet - no function given" in text
    assert "mystery_c: not fixed yet - mystery_c() returned str, not a dict" in text
    assert "mystery_d: not fixed yet - no function given" in text
    assert "check_mysteries(mystery_d=mystery_d" in result.hint


def test_the_data_rule_accepts_any_container_and_dtype_of_the_same_rows():
    x, y = mb.data("mystery_e")
    for same in (x, x.astype(np.float16), x.astype(np.float64), torch.from_numpy(x), x.tolist(),
                 keras.ops.convert_to_tensor(x)):
        assert mb.data_changed("mystery_e", same, y.reshape(-1)) is None
    assert "every row must stay" in mb.data_changed("mystery_e", x[::-1][:35], y)
    assert "differs from the script's own x in 36 of 36 rows" in mb.data_changed("mystery_e", x[::-1], y)
    xc, yc = mb.data("mystery_c")
    assert mb.data_changed("mystery_c", (xc - 300) / 40, yc) is None
    assert "feature 0" in mb.data_changed("mystery_c", np.zeros_like(xc), yc)
    assert "not an array of numbers" in mb.data_changed("mystery_c", "x", yc)


def test_diagnose_judges_the_scale_the_first_layer_receives():
    x, y = mb.data("mystery_c")
    xt, yt = torch.from_numpy(x), torch.from_numpy(y).long()

    class Standardise(nn.Module):  # a fixed (x - mean) / std inside the model
        def __init__(self):
            super().__init__()
            self.register_buffer("mean", xt.mean(dim=0))
            self.register_buffer("std", xt.std(dim=0))

        def forward(self, v):
            return (v - self.mean) / self.std

    def net(*front):
        torch.manual_seed(0)
        return nn.Sequential(*front, nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 3))

    ce = nn.CrossEntropyLoss()
    assert "unscaled-inputs" not in diagnose(net(Standardise()), xt, yt, ce, steps=0)
    raw = diagnose(net(), xt, yt, ce, steps=0).finding("unscaled-inputs")
    assert raw is not None and not any("first layer" in e for e in raw.evidence)  # x itself: the words as before
    flat = diagnose(net(nn.Flatten()), xt[:, None, :], yt, ce, steps=0)  # a reshape is not a preprocessing
    assert "unscaled-inputs" in flat
    shifted = diagnose(net(Scaled(0.01)), xt, yt, ce, steps=0).finding("unscaled-inputs")  # still 3 std from 0...
    assert shifted is not None and any("first layer with weights receives" in e for e in shifted.evidence)

    for front in ([keras.Input((5,))], []):  # also as the TensorFlow tutorials write it: no Input, never called
        norm = keras.layers.Normalization()
        norm.adapt(x)
        cu.seed(0)
        model = keras.Sequential([*front, norm, keras.layers.Dense(16, activation="relu"), keras.layers.Dense(3)])
        report = diagnose(model, x, y, keras.losses.SparseCategoricalCrossentropy(from_logits=True), steps=0)
        assert report.codes == []  # the copy keeps the adapted mean and variance: the loss starts near chance
