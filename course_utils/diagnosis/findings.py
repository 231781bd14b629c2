"""Findings and the report that diagnose() and watch() return: stable codes, evidence, fix, lesson."""
from __future__ import annotations

import html
from dataclasses import dataclass, field

from ..fmt import sig


LESSONS = {
    "00": "00 The overfit test",
    "01": "01 Missing zero_grad",
    "02": "02 Linear convs",
    "03": "03 Dying ReLU",
    "04": "04 Tiny data",
    "05": "05 BatchNorm with a batch of one",
    "07": "07 The loss and the output disagree",
    "08": "08 The weights never move",
}

# code -> (title, fix in one sentence, lessons that teach it: only lessons that show this very
# bug; none until one does)
CATALOGUE = {
    "gradients-accumulate": (
        "gradients are not reset between optimizer steps",
        "Call optimizer.zero_grad() once per step, before loss.backward().", ("01",)),
    "softmax-before-crossentropy": (
        "probabilities fed to a loss that expects logits",
        "Remove the final softmax/sigmoid (or use from_logits=False in Keras): the loss applies it itself.",
        ("01", "07")),
    "logits-into-probability-loss": (
        "raw scores fed to a loss that expects probabilities",
        "Pass from_logits=True (Keras) or use the logits version of the loss (CrossEntropyLoss, BCEWithLogitsLoss).",
        ("07",)),
    "one-unit-softmax": (
        "softmax over a single unit: the output is always 1",
        "Use one sigmoid unit with binary cross-entropy, or K >= 2 softmax units with categorical cross-entropy.",
        ("07",)),
    "output-cannot-reach-target": (
        "the output activation cannot produce the targets",
        "Use a linear output (no activation) for targets outside the activation's range, or rescale the targets.",
        ("05", "07")),
    "target-shape-broadcast": (
        "output and target shapes differ, so the loss broadcasts them",
        "Give the targets the output's shape (e.g. y.reshape(-1, 1) or output.squeeze(1)).", ("07",)),
    "init-loss-off": (
        "loss at initialisation is far from what an untrained model scores",
        "Check the output layer, the loss and the labels; initialise the last layer so the untrained model is unsure.",
        ("00",)),
    "non-finite-loss": (
        "the loss is NaN or infinite",
        "Find the first step with a non-finite loss: lower the learning rate, scale the inputs, check log/division.",
        ("00",)),
    "linear-stack": (
        "the model is linear: its layers with weights compose into one linear map",
        "Put an activation (e.g. ReLU) after each hidden Dense/Linear/Conv layer.", ("02",)),
    "unscaled-inputs": (
        "the inputs are badly scaled",
        "Standardise the inputs per feature with the training set's mean and standard deviation.", ("02", "04")),
    "degenerate-batchnorm": (
        "BatchNorm normalises over a single value (or identical values) per feature",
        "Train with batches of several different samples, or remove the BatchNorm / use LayerNorm there.", ("05",)),
    "cannot-overfit": (
        "the model cannot memorise this one batch",
        "Fix the other findings first; a model that cannot overfit one batch will not learn the dataset.", ("00",)),
    "too-few-steps": (
        "the batch is learnable but was not learned in the steps taken",
        "Train for more steps (or with a larger learning rate): this batch is learnable but not yet learned.",
        ("04", "00")),
    "zero-gradients": (
        "layers receive a gradient of exactly zero",
        "Walk back from the output to the first layer that passes no gradient (dead ReLU, degenerate BatchNorm, "
        "a layer not connected to the loss).", ("05",)),
    "vanishing-gradients": (
        "gradients shrink by orders of magnitude towards the input",
        "Use ReLU-family activations with He initialisation, normalisation layers or residual connections.", ()),
    "exploding-gradients": (
        "gradients grow by orders of magnitude towards the input (or are not finite)",
        "Scale the inputs and targets, lower the learning rate or clip gradients; check the initialisation.", ()),
    "dead-relu": (
        "ReLU units are dead (zero for every sample)",
        "Lower the learning rate, use LeakyReLU/ELU, and keep narrow layers alive (check biases and input offsets).",
        ("03",)),
    "lr-too-high": (
        "the learning rate makes the loss diverge",
        "Lower the learning rate (try 10x smaller) until the loss falls steadily.", ("03", "00")),
    "loss-not-decreasing": (
        "the loss is not going down",
        "Run diagnose() on one batch: a model that cannot overfit one batch has a bug, not too little data.",
        ("00",)),
    "update-ratio-high": (
        "each step changes the weights by a large fraction of their size",
        "Lower the learning rate: healthy steps change weights by about 1e-3 of their norm.", ("00",)),
    "frozen-parameters": (
        "parameters are frozen, so part of the model never changes",
        "Unfreeze the layers you mean to train (requires_grad=True in PyTorch, layer.trainable = True in Keras, "
        "then compile again), and build the optimizer over the model's parameters after that.", ("08",)),
    "optimizer-not-on-model": (
        "the optimizer does not hold the model's parameters",
        "Build the optimizer from the parameters of the model you train, after the model (and again whenever "
        "you rebuild the model).", ("08",)),
    "constant-inputs": (
        "the inputs do not tell the samples apart: every one is the same, or most repeat with another target",
        "Check the preprocessing: the inputs must differ between samples (a reshape or a normalisation over the "
        "wrong axis, a cast that truncates values to 0, or one row copied into all).", ()),
    "rows-not-probabilities": (
        "outputs in [0, 1] whose rows do not sum to 1, fed to a loss that expects one probability per class",
        "Use a softmax output for one class per sample, or sigmoid outputs with binary cross-entropy for several "
        "labels per sample; from_logits=True is not the fix.", ("07",)),
    "no-gradient-path": (
        "the loss is not connected to the weights: no gradient reaches them",
        "Keep one unbroken chain of framework tensors from the input to the loss: no .detach(), .item(), .numpy() "
        "or torch.tensor(...) re-wrapping in forward() or in the loss, and no argmax or rounding before the loss "
        "(take the loss on the scores).", ("08",)),
    "weights-unchanged": (
        "the weights did not change between steps",
        "Call optimizer.step() after loss.backward() in every step, with an optimizer built over this model's "
        "parameters, and check that gradients reach them.", ("08",)),
    "constant-targets": (
        "every sample in the batch has the same target",
        "Check the labels: scaled or cast by mistake (e.g. divided by 255, or floats read as class indices), or "
        "a batch drawn from data sorted by class (shuffle it).", ()),
    "unregistered-parameters": (
        "the model uses weights it does not register, so no optimizer trains them",
        "Keep layers in nn.ModuleList / nn.ModuleDict (not a Python list or dict) and wrap learned tensors in "
        "nn.Parameter; then build the optimizer from model.parameters(). In Keras, create a layer's weights with "
        "self.add_weight(...) in build(), not tf.Variable.", ()),
    "softmax-over-batch": (
        "the softmax normalises over the batch, not over the classes",
        "Apply the softmax (or log_softmax) over the class axis: dim=1 (or -1) in PyTorch, axis=-1 in Keras.",
        ("07",)),
    "labels-not-class-indices": (
        "the targets are not class indices the loss can use",
        "Give the loss one whole number per sample from 0 to the number of classes - 1 (int64 in PyTorch: y.long()): "
        "map labels such as -1/1 or 1..K onto 0..K-1, and make the output as wide as the number of classes.", ()),
    "samples-mixed": (
        "each sample's output depends on the other samples in the batch",
        "Keep the batch on axis 0 all the way through: batch_first=True for an RNN fed (batch, time, features), "
        "reshape, view and transpose calls that leave dim 0 alone, and reductions over the feature axis.", ()),
    "output-width-mismatch": (
        "the output layer's width does not match the targets",
        "Make the last layer as wide as the number of classes (labels 0..K-1) or the number of target columns, "
        "and give every target its own output unit.", ()),
    "binary-loss-on-one-class-rows": (
        "binary cross-entropy on targets that give each sample exactly one of several classes",
        "For one class per sample use K softmax units with categorical (or sparse categorical) cross-entropy; keep "
        "binary cross-entropy for two classes or for several independent labels per sample.", ()),
    "rnn-too-many-steps": (
        "the recurrent layer's gradient does not reach the early steps of a long sequence",
        "Feed fewer, wider time steps (an image's rows, not its pixels), or shorten the sequence first (pooling, a "
        "strided convolution, a shorter window) so the recurrent layer sees tens of steps, not hundreds.", ()),
    "input-layout": (
        "the model cannot take the inputs as they are laid out (shape, axis order or dtype)",
        "Give x the layout the model was built for: float32 values, (batch, features) for Dense/Linear layers, "
        "(batch, channels, height, width) for PyTorch convolutions and (batch, height, width, channels) for Keras "
        "ones, (batch, time, features) for recurrent layers; the evidence names the reshape, transpose or cast that "
        "made the model run.", ()),
    "targets-wrong-dtype": (
        "the targets' dtype is not one the loss takes",
        "Cast the targets to the output's floating-point dtype for binary and regression losses (y.float() in "
        "PyTorch); class indices for a cross-entropy stay whole numbers (int64 in PyTorch).", ()),
    "embedding-too-small": (
        "the inputs hold token indices beyond the embedding table",
        "Make the embedding's table one row larger than the largest index (input_dim / num_embeddings = "
        "vocabulary size + 1 when indices start at 1, or with padding index 0).", ()),
    "loss-stalls-fit": (
        "the loss, not the model, stops the fit: the same model memorises the batch under mean squared error",
        "Train with mean squared error (cross-entropy if the targets are classes): mean absolute error's gradient "
        "keeps its size however close the output is, so small models stall on it. Keep MAE as a metric if you "
        "need it.", ()),
    "loss-without-floor": (
        "the loss falls without end: it is being maximised, or has no lower bound",
        "Check the loss's sign: minimise a negative log-likelihood (not the log-likelihood), -ELBO (not the ELBO), "
        "a distance (not its negative); a loss to minimise must be bounded below.", ()),
    "unscaled-targets": (
        "regression targets on a large scale: the model cannot reach them in the steps it has",
        "Standardise the targets (y - mean) / std with the training set's figures, train on those, and undo the "
        "scaling on the predictions.", ()),
    "symmetric-weights": (
        "the units of a hidden layer start with identical weights, so they get identical gradients and stay copies",
        "Keep the framework's random initialisation (or use a random one: He for ReLU, Glorot for tanh/sigmoid); "
        "a constant or zero initialiser is fine only for biases.", ()),
    "inplace-write": (
        "a tensor the backward pass needs is overwritten in place, so no gradient can be computed",
        "Write results into new tensors: out = x.clone() before writing into out[...], y = y + 1 rather than "
        "y += 1, nn.ReLU() rather than nn.ReLU(inplace=True) where the input is needed again.", ()),
    "missing-flatten": (
        "a Dense/Linear layer receives feature maps (several axes per sample), not one vector per sample",
        "Put a Flatten layer (or global average pooling) between the last convolution or pooling layer and the "
        "first Dense/Linear layer, and size that layer from the flattened width.", ()),
    "layer-size-mismatch": (
        "a layer was sized for inputs other than the ones it receives",
        "Size the layer from the shape it really receives (print the shape that reaches it, or let the framework "
        "infer it: keras.Input with x's shape, nn.LazyLinear), or give x the size the model was built for.", ()),
    "state-across-steps": (
        "the model carries a tensor from one training step into the next, with the earlier step's graph",
        "Detach what the model keeps between batches (self.hidden = tuple(h.detach() for h in state)), or start "
        "every batch from a fresh state (call the LSTM without a stored state); backward must not reach into the "
        "step before.", ()),
    "loss-arguments": (
        "the loss was built with an argument it cannot use (its type or shape)",
        "Give the loss's arguments the form it takes: class weights as a 1-D float tensor with one value per class "
        "(weight=torch.tensor([...])), pos_weight as a tensor with one value per output column.", ()),
    "update-ratio-low": (
        "steps barely change the weights",
        "Raise the learning rate, or look for zero gradients: healthy steps change weights by about 1e-3 of "
        "their norm.", ("00",)),
}

TRAINING_FAILED = "training a copy on this batch failed"  # how a probe that could not train is skipped

SEVERITY_ORDER = {"error": 0, "warning": 1, "consequence": 2}


@dataclass
class Finding:
    """One thing wrong, with the numbers that show it."""

    code: str
    evidence: list = field(default_factory=list)
    title: str = ""
    fix: str = ""
    lesson: str = ""
    severity: str = "error"
    data: dict = field(default_factory=dict)

    def __post_init__(self):
        title, fix, lessons = CATALOGUE.get(self.code, ("", "", ()))
        self.title = self.title or title
        self.fix = self.fix or fix
        if not self.lesson:
            self.lesson = ", ".join(LESSONS[n] for n in lessons) if lessons else "not covered by a lesson yet"
        if isinstance(self.evidence, str):
            self.evidence = [self.evidence]

    def __str__(self) -> str:
        lines = [f"[{self.code}] {self.title}"]
        lines += [f"    evidence: {e}" for e in self.evidence]
        lines += [f"    fix: {self.fix}", f"    lesson: {self.lesson}"]
        return "\n".join(lines)


@dataclass
class Report:
    """What diagnose() or watch() found: findings, checks that ran, checks skipped (and why)."""

    findings: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # (check, reason)
    passed: list = field(default_factory=list)  # checks that ran and found nothing
    notes: list = field(default_factory=list)  # worth knowing, but not a cause of failure: the report stays clean
    source: str = "diagnose"
    framework: str = ""

    @property
    def codes(self) -> list:
        """The findings' codes, sorted: a stable summary to compare and test."""
        return sorted({f.code for f in self.findings})

    def mentions(self, code) -> bool:
        """``code`` is a finding, or a reading kept as a note (unusual, but the model fitted anyway)."""
        return code in self.codes or any(note.startswith(f"{code}: ") for note in self.notes)

    @property
    def clean(self) -> bool:
        return not self.findings

    def __contains__(self, code) -> bool:
        return code in self.codes

    def __len__(self) -> int:
        return len(self.findings)

    def finding(self, code: str) -> Finding:
        for f in self.findings:
            if f.code == code:
                return f
        raise KeyError(f"no finding {code!r}; found {self.codes}")

    def add(self, code, evidence, severity="error", fix="", **data):
        """A finding; ``fix`` replaces the catalogue's fix where this mechanism needs another one."""
        self.findings.append(Finding(code, evidence, fix=fix, severity=severity, data=data))

    def skip(self, check, reason):
        self.skipped.append((check, str(reason)))

    def _sorted(self):
        return sorted(self.findings, key=lambda f: SEVERITY_ORDER.get(f.severity, 2))

    def _clean_summary(self) -> tuple:
        """What a report with no finding says: (headline, detail, whether a training probe could not run)."""
        failed = [check for check, reason in self.skipped if reason.startswith(TRAINING_FAILED)]
        if not failed:
            return "no problems found", f"{len(self.passed)} checks passed", False
        return (f"no problems found by the {len(self.passed)} checks that ran, but training a copy failed",
                f"{', '.join(failed)}: see skipped", True)

    def __str__(self) -> str:
        head = f"{self.source} ({self.framework}): "
        if self.clean:
            headline, detail, _ = self._clean_summary()
            lines = [head + f"{headline} ({detail})"]
        else:
            lines = [head + f"{len(self.findings)} finding(s): {', '.join(self.codes)}"]
            lines += [str(f) for f in self._sorted()]
        if self.notes:
            lines.append("notes:")
            lines += [f"    {note}" for note in self.notes]
        if self.skipped:
            lines.append("skipped:")
            lines += [f"    {check}: {reason}" for check, reason in self.skipped]
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))

    def _repr_html_(self) -> str:
        esc = html.escape
        if self.clean:
            headline, detail, failed = self._clean_summary()
            colour = "#e65100" if failed else "#1b5e20"  # amber: a training probe did not run
            head = f"<b style='color:{colour}'>{esc(self.source)}: {esc(headline)}</b> ({esc(detail)})"
        else:
            head = f"<b style='color:#b71c1c'>{esc(self.source)}: {len(self.findings)} finding(s)</b>"
        rows = "".join(
            f"<tr><td><code>{esc(f.code)}</code></td><td>{esc(f.title)}</td>"
            f"<td>{'<br>'.join(esc(e) for e in f.evidence)}</td><td>{esc(f.fix)}</td><td>{esc(f.lesson)}</td></tr>"
            for f in self._sorted())
        table = ("<table><tr><th>code</th><th>problem</th><th>evidence</th><th>fix</th><th>lesson</th></tr>"
                 f"{rows}</table>") if rows else ""
        skipped = "".join(f"<li>{esc(c)}: {esc(r)}</li>" for c, r in self.skipped)
        skipped = f"<p>Skipped:</p><ul>{skipped}</ul>" if skipped else ""
        notes = "".join(f"<li>{esc(n)}</li>" for n in self.notes)
        notes = f"<p>Notes:</p><ul>{notes}</ul>" if notes else ""
        return f"<div class='course-diagnosis'>{head}{table}{notes}{skipped}</div>"



# findings that follow from another one: listed after their cause, and said so
CONSEQUENCES = {
    "degenerate-batchnorm": ("dead-relu", "zero-gradients", "vanishing-gradients", "cannot-overfit",
                             "output-cannot-reach-target"),
    "one-unit-softmax": ("zero-gradients", "cannot-overfit", "init-loss-off"),
    "linear-stack": ("cannot-overfit",),
    "softmax-before-crossentropy": ("cannot-overfit", "too-few-steps"),
    "output-cannot-reach-target": ("cannot-overfit", "dead-relu", "zero-gradients", "too-few-steps",
                                   "loss-without-floor"),  # e.g. binary cross-entropy on targets above 1
    "unscaled-inputs": ("init-loss-off", "cannot-overfit", "too-few-steps", "dead-relu", "exploding-gradients"),
    "dead-relu": ("zero-gradients", "cannot-overfit", "loss-not-decreasing", "update-ratio-low"),
    "zero-gradients": ("loss-not-decreasing", "update-ratio-low", "cannot-overfit"),
    "gradients-accumulate": ("lr-too-high", "update-ratio-high", "loss-not-decreasing", "non-finite-loss"),
    "target-shape-broadcast": ("cannot-overfit",),
    "frozen-parameters": ("cannot-overfit", "too-few-steps", "zero-gradients", "update-ratio-low",
                          "loss-not-decreasing", "vanishing-gradients"),
    "optimizer-not-on-model": ("update-ratio-low", "loss-not-decreasing"),
    "constant-inputs": ("dead-relu", "unscaled-inputs", "cannot-overfit", "zero-gradients", "init-loss-off",
                        "degenerate-batchnorm", "too-few-steps", "vanishing-gradients"),
    "rows-not-probabilities": ("cannot-overfit", "init-loss-off", "too-few-steps"),
    "no-gradient-path": ("cannot-overfit", "update-ratio-low", "too-few-steps", "init-loss-off"),
    "weights-unchanged": ("loss-not-decreasing", "zero-gradients"),
    "constant-targets": ("dead-relu", "zero-gradients", "vanishing-gradients", "init-loss-off"),
    "unregistered-parameters": ("cannot-overfit", "too-few-steps", "update-ratio-low", "loss-not-decreasing"),
    "softmax-over-batch": ("cannot-overfit", "init-loss-off", "too-few-steps"),
    "labels-not-class-indices": ("cannot-overfit", "init-loss-off", "target-shape-broadcast", "non-finite-loss",
                                 "loss-without-floor"),
    "samples-mixed": ("cannot-overfit", "init-loss-off", "too-few-steps", "dead-relu"),
    "logits-into-probability-loss": ("cannot-overfit", "init-loss-off"),
    "output-width-mismatch": ("cannot-overfit", "init-loss-off", "target-shape-broadcast", "labels-not-class-indices",
                              "non-finite-loss", "too-few-steps"),
    "binary-loss-on-one-class-rows": ("output-cannot-reach-target", "cannot-overfit", "init-loss-off", "too-few-steps",
                                      "loss-without-floor"),
    "loss-stalls-fit": ("cannot-overfit", "too-few-steps"),
    "rnn-too-many-steps": ("cannot-overfit", "vanishing-gradients", "too-few-steps", "loss-not-decreasing",
                           "update-ratio-low"),
    "unscaled-targets": ("cannot-overfit", "too-few-steps", "init-loss-off", "exploding-gradients", "lr-too-high",
                         "update-ratio-high", "non-finite-loss"),
    "symmetric-weights": ("dead-relu", "zero-gradients", "vanishing-gradients", "cannot-overfit", "too-few-steps",
                          "update-ratio-low", "loss-not-decreasing", "linear-stack"),
    "missing-flatten": ("target-shape-broadcast", "output-width-mismatch", "labels-not-class-indices",
                        "cannot-overfit", "init-loss-off"),  # the output keeps the feature maps' axes
}


# unusual readings of a model that still memorised its batch: worth a note, not a finding
READINGS = ("dead-relu", "init-loss-off", "vanishing-gradients", "exploding-gradients")
# an untrained model this many times worse than chance, on unscaled inputs: the scale already breaks the start, so
# scaling stays a finding even when the probe memorised one batch (raw 0-255 pixels into a CNN: about 300 times)
SCALE_BREAKS_START = 10


def readings_that_fit(rep, settings_move_loss, settings_losses=None):
    """Readings that did not stop the model fitting become notes.

    Where the overfit probe memorised the batch: units dead from the start (the probe fitted with them), early
    time steps the gradient does not reach (the last ones were enough), findings added as a ``reading``, and,
    when the student's own settings moved the loss (``settings_move_loss``; if not, a reading may be why), the
    other readings. A gradient large for its weights is a note when the student's learning rate trains the
    model without diverging; so are unscaled inputs when, besides, the batch was memorised, unless the untrained
    model's loss is SCALE_BREAKS_START times chance or more and the student's own settings (``settings_losses``,
    the learning-rate probe's losses) leave it above chance.
    """
    memorised = "overfit-one-batch" in rep.passed
    start = next((f for f in rep.findings if f.code == "init-loss-off"), None)
    scale_breaks_start = start is not None and start.data.get("ratio", 1) >= SCALE_BREAKS_START
    for f in list(rep.findings):
        if memorised and (f.code in ("dead-relu", "rnn-too-many-steps") or f.data.get("reading")
                          or (f.code in READINGS and settings_move_loss)):
            why = "the model memorised the batch anyway"
        elif f.data.get("large_step") and settings_move_loss and "lr-too-high" in rep.passed:
            why = "your learning rate trains it without diverging"
        elif f.code == "unscaled-inputs" and memorised and settings_move_loss and "lr-too-high" in rep.passed:
            why = "the model memorised the batch anyway, and your settings train it without diverging"
            if scale_breaks_start:
                ratio, chance = sig(start.data["ratio"], 2), start.data.get("chance")
                if not _below_chance(settings_losses, chance):
                    f.evidence.append(f"the untrained model's loss is {ratio} times the chance level on these inputs: "
                                      "it memorised this batch, but the scale already breaks the start")
                    continue
                why += (f"; the untrained model's loss is {ratio} times the chance level, and your settings bring it "
                        f"below chance ({sig(chance)}) in {len(settings_losses) - 1} steps: "
                        f"{sig(float(settings_losses[0]))} -> {sig(float(settings_losses[-1]))}")
        else:
            continue
        rep.findings.remove(f)
        rep.notes.append(f"{f.code}: {'; '.join(f.evidence)} ({why})")


def _below_chance(losses, chance) -> bool:
    """The student's settings ended their probe's steps below the chance level (a start the scale broke, recovered)."""
    return losses is not None and chance is not None and len(losses) > 1 and float(losses[-1]) < chance  # NaN: no


def mark_consequences(rep):
    codes = set(rep.codes)
    for f in rep.findings:
        if f.data.get("alternative"):  # another fix for the same mismatch, not something that follows from it
            continue
        causes = [c for c, follows in CONSEQUENCES.items() if c in codes and f.code in follows and c != f.code]
        if causes:
            f.severity = "consequence"
            f.evidence.append(f"(probably a consequence of {', '.join(causes)})")
