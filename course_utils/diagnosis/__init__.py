"""The course's checklist as code: ``diagnose`` a model on one batch, ``watch`` a training loop.

    report = cu.diagnose(model, x, y, loss=nn.CrossEntropyLoss(), optimizer=opt)
    report                 # a table in a notebook; print(report) for plain text
    report.codes           # ['dead-relu', 'linear-stack'] - stable short codes
    report.findings[0]     # Finding(code, title, evidence, fix, lesson)
    report.skipped         # checks that could not run on this batch, and why

    with cu.watch(model, optimizer=opt, every=10) as w:     # PyTorch: your own loop
        for step in range(steps):
            ...; loss.backward(); opt.step(); w.step(loss)
    w.report()

    w = cu.watch(keras_model, x=x_sample)                   # Keras: a callback for fit
    keras_model.fit(x, y, callbacks=[w]); w.report()

Every check is built on the mechanism that breaks training, not on how a
model is named: a probability output is recognised by rows that sum to one,
a linear stack by two layers with weights whose outputs meet with nothing
non-linear between them (checked on the values that actually flow, for a
PyTorch module with its own ``forward``), a degenerate BatchNorm by the
number of values and the variance it normalises over, and so on.

A model that cannot run on ``x`` at all is tried on a few rearrangements of
it (an axis added, two axes swapped, channels moved); the one it runs on is
named and the other checks run on it. Where none works, the layer that refused is
found by running the layers one by one (a Dense/Linear layer given unflattened
feature maps, a layer built for another width); where no layer explains it,
``diagnose`` raises with the shape of ``x`` and the framework's own words, as
``fit`` would.

``diagnose`` never touches the student's model or optimizer: it works on a
copy (``copy.deepcopy`` for PyTorch; ``keras.models.clone_model`` and
``set_weights`` for Keras) and on a new optimizer built from the student's
settings. ``watch`` only reads (hooks and a callback); it changes nothing.

The package, by concern:
    findings   Finding, Report, the catalogue of codes (title, fix, lesson) and which findings follow from which
    losses     what a loss expects the model to output
    adapters   one interface over a PyTorch module or a Keras model
    checks     one function per mechanism, each adding findings to a Report
    inputs     inputs and targets the model or the loss refuses: a layout, a dtype, an embedding too small
    wiring     how the layers meet: no Flatten before a Dense layer, a layer sized for other inputs, in-place writes
    setup_checks  the student's set-up: frozen parameters, an optimizer over other tensors, steps too small
    linearity  where a network is silently linear (two layers with weights and nothing non-linear between)
    checklist  diagnose(): the checks in order, on a copy of the model
    monitor    watch(): instruments on the student's own training loop
"""
from .checklist import diagnose
from .findings import CATALOGUE, LESSONS, Finding, Report
from .losses import LossInfo, loss_info
from .monitor import watch

__all__ = ["diagnose", "watch", "Finding", "Report", "CATALOGUE", "LESSONS", "LossInfo", "loss_info"]
