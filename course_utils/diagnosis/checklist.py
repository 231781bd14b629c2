"""diagnose(): the course's checklist, run in order on a copy of a model and one batch."""
from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np

from ..fmt import sig
from ..frameworks import batch_size, error_text, framework_of, input_shapes, is_structured, keras_layers, to_numpy
from .adapters import (STRIDED_CONV3D_SLOWDOWN, KerasAdapter, SharedObjectRefused, TorchAdapter, spread_rows,
                       strided_conv3d)
from .checks import (check_batchnorm, check_class_labels, check_dead, check_gradients, check_init_loss, check_inputs,
                     check_linear_stack, check_output, check_recurrent_steps, check_refused_shapes,
                     check_samples_independent, check_softmax_twice, check_varied_inputs, check_varied_targets,
                     first_layer_input, first_layer_normalises, keras_final_activation, probe_lr, probe_overfit,
                     probe_program_length, probe_scaled_targets, probe_without_mae, torch_final_activation)
from .findings import TRAINING_FAILED, Report, mark_consequences, readings_that_fit
from .setup_checks import (check_frozen, check_optimizer_holds_model, check_state_across_steps, check_symmetric_weights,
                           check_unregistered, judge_frozen_after_probe, judge_step_size, stalls)
from .inputs import (add_batch_folded_finding, add_batch_on_axis_one_finding, add_crop_finding, add_layout_finding,
                     batch_size_in_model, BATCH_SIZE_FIX, check_input_dtype, check_loss_arguments, check_target_dtype,
                     declared_rank_refused, embedding_too_small, one_sample_without_batch_axis, reshape_refused,
                     RESHAPE_FIX, runnable_crop, runnable_layout, UNBATCHED_FIX)
from .wiring import (check_dense_on_feature_maps, check_logits_activation, check_relu_before_sigmoid,
                     refusing_layer)


def diagnose(model, x, y, loss, optimizer=None, steps: int = 200, lr_steps: int = 20, overfit_target: float = 0.1,
             dead_threshold: float = 0.5, min_samples: int = 8, loss_kind: str | None = None,
             train_steps: int | None = None) -> Report:
    """Run the course's checklist on ``model`` and one batch ``(x, y)``; return a Report.

    loss: PyTorch: the loss you call as ``loss(output, target)`` (nn.CrossEntropyLoss(), F.mse_loss, ...);
        Keras: the loss you compile with ("mse", keras.losses.SparseCategoricalCrossentropy(from_logits=True)).
    optimizer: your optimizer (optional): its class and settings are reused on a copy for the
        overfit probe and the learning-rate probe (without one: Adam, lr 1e-2, and no lr probe).
    steps: optimizer steps of the overfit probe; it passes when the loss falls below
        ``overfit_target`` times its first value.
    dead_threshold: a ReLU layer with at least this fraction of dead units is reported.
    min_samples: checks that need a spread of samples (dead units, input scale) are skipped below it.
    loss_kind: "cross_entropy", "binary_cross_entropy", "mse" or "mae" for a loss we cannot recognise.
    train_steps: how many optimizer steps your program trains in all (epochs x batches per epoch). With it and
        your optimizer, your settings are run that long (up to 2000 steps or 20 s) on a copy: on a batch the
        overfit probe memorises, a loss they leave where it was (less than 1% lower) is ``too-few-steps``, and
        one they lower without memorising the batch is a note.
    The model (its weights, BatchNorm statistics, train/eval mode) and optimizer are never modified.
    """
    import logging

    if train_steps is not None and (isinstance(train_steps, bool) or not isinstance(train_steps, (int, np.integer))
                                    or train_steps < 1):
        raise ValueError(f"train_steps must be a whole number of optimizer steps, 1 or more (epochs x batches per "
                         f"epoch), got {train_steps!r}")
    tf_logger = logging.getLogger("tensorflow")
    level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)  # tf.function retracing notes: the probes train fresh copies on purpose
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. torch's broadcasting warning: reported as a finding instead
            return _diagnose(model, x, y, loss, optimizer, steps, lr_steps, overfit_target, dead_threshold, min_samples,
                             loss_kind, train_steps)
    finally:
        tf_logger.setLevel(level)


def _probe(rep, check, train):
    """Run a probe that trains a copy; if training fails, the check is skipped with the reason."""
    try:
        return train()
    except Exception as e:  # noqa: BLE001
        rep.skip(check, f"{TRAINING_FAILED}: {error_text(e)}")
        return None


def _first_pass(ad):
    """A copy of the model and its forward pass, in inference mode (training mode if there is BatchNorm: its
    statistics are fresh); (copy, training, leaf trace, output). A model that cannot run on x: ValueError."""
    work = ad.copy()
    training = ad.has_batchnorm(work)
    try:
        if ad.framework == "torch":
            trace, out_t = ad.leaf_trace(work, training)
        else:
            trace, out_t = [], ad.output(work, training)
    except Exception as e:  # noqa: BLE001
        if ad.framework == "torch" and training and "more than 1 value per channel" in str(e):
            training = False
            trace, out_t = ad.leaf_trace(work, False)
        else:
            raise ValueError(f"the model could not run on x of shape {input_shapes(ad.x)}: {error_text(e)}") from None
    return work, training, trace, out_t


# what can say why a loss refused the outputs and targets (missing-flatten is found before the loss is called)
REFUSAL_EXPLAINED = {"missing-flatten", "loss-arguments", "labels-not-class-indices", "targets-wrong-dtype",
                     "target-shape-broadcast", "output-width-mismatch", "logits-into-probability-loss"}

SHARED_OBJECT_RUNS = ("the same model rebuilt from its config, with a new object in each place where yours uses one "
                      "object twice, runs: the shared layer or cell is built for the first input it meets, and a "
                      "later place gives it another size")
SHARED_OBJECT_FIX = ("Give each place its own layer or cell (a new LSTMCell for each layer of a stack: "
                     "[LSTMCell(u) for _ in range(3)], not [cell] * 3); share one object only where the inputs have "
                     "the same size and the weights are meant to be shared.")

PROBE_MULTIPLY_ADDS = 1e8  # most a forward pass over the overfit probe's batch may cost: 600 steps in seconds


def _rows_for_probes(ad, rep, work, trace):
    """The adapter the overfit probes use: the whole batch, or rows spread over it when one forward pass over the
    batch would cost more than PROBE_MULTIPLY_ADDS (a 3-D convolution over 16 volumes of 29^3: minutes of
    probing). Memorising fewer samples of the batch is the same overfit test. The learning-rate probe (20 steps)
    keeps the whole batch: whether the student's settings diverge depends on it."""
    per_sample = ad.multiply_adds(work, trace)
    rows = max(2, int(PROBE_MULTIPLY_ADDS // per_sample)) if per_sample > 0 else ad.n
    if rows >= ad.n or is_structured(ad.x):
        return ad
    slow = [layer.name for layer in keras_layers(work) if strided_conv3d(layer)] if ad.framework == "keras" else []
    counted = (f" (the strided Conv3D layer{'s' if len(slow) > 1 else ''} {', '.join(slow)} counted "
               f"{STRIDED_CONV3D_SLOWDOWN} times over: TensorFlow trains {'them' if len(slow) > 1 else 'it'} that "
               "much slower per multiply-add)" if slow else "")
    rep.notes.append(f"the overfit probes used {rows} of the {ad.n} samples, spread evenly over the batch: a forward "
                     f"pass over all of them takes about {sig(per_sample * ad.n)} multiply-adds{counted}, and the "
                     "overfit probe makes hundreds")
    return spread_rows(ad, rows)


def _diagnose(model, x, y, loss, optimizer, steps, lr_steps, overfit_target, dead_threshold, min_samples, loss_kind,
              train_steps=None):
    framework = framework_of(model)
    rep = Report(source="diagnose", framework=framework)
    unbatched = one_sample_without_batch_axis(model, x, framework)

    def unbatched_report(refused=None):  # x is one sample: its length and y's count no samples
        said = [str(refused)] if refused else []
        rep.add("input-layout", said + unbatched + [f"y has shape {tuple(np.shape(to_numpy(y)))}"], fix=UNBATCHED_FIX)
        rep.skip("every other check", "x has the shape the model takes for one sample")
        return rep

    n_x, n_y = batch_size(x), len(y)
    if n_x != n_y and unbatched:
        return unbatched_report()
    if n_x != n_y:
        raise ValueError(f"x has {n_x} samples but y has {n_y}: they must describe the same batch")
    if n_x == 0:
        raise ValueError("the batch is empty")
    ad = (TorchAdapter if framework == "torch" else KerasAdapter)(model, x, y, loss, optimizer)
    if loss_kind is not None:
        ad.info = replace(ad.info, kind=loss_kind)
    if ad.info.kind is None:
        rep.skip("loss-recognition", f"loss {ad.info.name!r} not recognised: checks tied to the loss's kind are skipped "
                                     "(pass loss_kind=...)")

    try:
        work, training, trace, out_t = _first_pass(ad)
    except ValueError as refused:  # a layout the model cannot take: name the rearrangement it can, if one
        if unbatched:
            return unbatched_report(refused)
        if isinstance(refused, SharedObjectRefused):
            rep.add("layer-size-mismatch", [str(refused), SHARED_OBJECT_RUNS], fix=SHARED_OBJECT_FIX)
            rep.skip("every other check", "the model cannot run on these inputs")
            return rep
        beyond_table = embedding_too_small(ad, model)
        if beyond_table:
            rep.add("embedding-too-small", [str(refused)] + beyond_table)
            rep.skip("every other check", "the model cannot run on these inputs")
            return rep
        fixed_batch = batch_size_in_model(ad, refused)  # the same samples, more or fewer of them, run
        if fixed_batch:
            rep.add("layer-size-mismatch", fixed_batch, fix=BATCH_SIZE_FIX)
            rep.skip("every other check", "the model runs only on batches of the size written into it")
            return rep
        layout = runnable_layout(ad)
        crop = None if layout else runnable_crop(ad, refused)
        if crop:
            add_crop_finding(rep, refused, crop, ad)
            rep.skip("every other check", "the model cannot run on images of this size")
            return rep
        if not layout:
            code, evidence, fix = refusing_layer(ad, ad.copy_for_shapes())
            folded = [] if code else reshape_refused(ad, refused)
            other_rank = [] if code or folded else declared_rank_refused(ad)
            if code:
                rep.add(code, evidence, fix=fix or "")
            elif folded:
                rep.add("layer-size-mismatch", folded, fix=RESHAPE_FIX)
            elif other_rank:
                rep.add("input-layout", [str(refused)] + other_rank)
            else:
                raise
            rep.skip("every other check", "the model cannot run on these inputs")
            return rep
        add_layout_finding(rep, refused, layout, ad)
        work, training, trace, out_t = _first_pass(ad)
    check_input_dtype(ad, rep, work)
    out = np.asarray(to_numpy(out_t), dtype=np.float64)
    if len(out) != n_x:
        if add_batch_on_axis_one_finding(rep, ad, len(out)):
            rep.skip("every other check", "the model does not return one output row per sample")
            return rep
        if len(out) % n_x:
            raise ValueError(f"the model returned {len(out)} outputs for {n_x} inputs")
        add_batch_folded_finding(rep, len(out), n_x)
        rep.skip("every other check", "the model does not return one output row per sample")
        return rep
    activation = torch_final_activation(ad, trace, out_t) if framework == "torch" else keras_final_activation(work)
    check_class_labels(ad, rep, out)
    check_dense_on_feature_maps(ad, rep, work, out)
    try:
        init_loss = ad.loss_of(out_t)
    except Exception as e:  # noqa: BLE001
        problem = error_text(e)
        check_output(ad, rep, out, activation)

        def unexplained():  # nothing found yet says why the loss refused (a reading of the output's values,
            # such as sigmoid rows that do not sum to 1, says nothing about the shapes the loss was given)
            return not set(rep.codes) & REFUSAL_EXPLAINED

        if unexplained():
            check_loss_arguments(ad, rep, out_t, problem)
        if unexplained():
            check_target_dtype(ad, rep, out_t, problem)
        if unexplained():
            check_refused_shapes(ad, rep, out, problem)
        if set(rep.codes) <= {"input-layout"}:  # nothing found at all: say what the loss was given
            shapes = (f"outputs and targets of the same shape {tuple(out.shape)}, so not their shapes: check the "
                      "loss's own arguments and the targets' values" if tuple(out.shape) == np.shape(to_numpy(y)) else
                      f"outputs of shape {tuple(out.shape)} and targets of shape {tuple(np.shape(to_numpy(y)))}")
            raise ValueError(f"the loss raised on {shapes}: {problem}") from None
        rep.skip("every other check", f"the loss cannot be computed on these outputs ({problem})")
        mark_consequences(rep)
        return rep
    check_output(ad, rep, out, activation)
    check_logits_activation(ad, rep, out, activation)
    check_relu_before_sigmoid(ad, rep, work, trace, out)
    check_samples_independent(ad, rep, work)
    if activation == "softmax":
        check_softmax_twice(ad, rep, work, trace)
    check_init_loss(ad, rep, init_loss, out)
    if first_layer_normalises(ad, work, trace):
        rep.passed.append("unscaled-inputs")  # e.g. a BatchNormalization first: the model rescales its inputs
    else:
        check_inputs(ad, rep, min_samples, first_layer_input(ad, work, trace))
    check_linear_stack(ad, rep, work, trace)
    check_batchnorm(ad, rep, work)
    check_gradients(ad, rep, work)
    check_recurrent_steps(ad, rep, work)
    check_varied_inputs(ad, rep, work)
    check_varied_targets(ad, rep, min_samples, work)
    check_dead(ad, rep, work, dead_threshold, min_samples)
    partly_frozen = check_frozen(ad, rep, work)
    check_optimizer_holds_model(ad, rep, work)
    check_unregistered(ad, rep, work)
    check_symmetric_weights(ad, rep, work)
    lr_probe = None
    # a loss already NaN or infinite before any step: no training run can say anything about the step size or
    # whether the batch can be memorised, and blaming the learning rate would send the student the wrong way
    not_finite = None if np.isfinite(init_loss) else f"the untrained model's loss is already {init_loss}, before any step"
    for f in rep.findings if not_finite else []:
        if f.code == "exploding-gradients":  # the gradient of a non-finite loss is not finite either
            f.severity = "consequence"
            f.evidence.append(f"(a consequence of the loss being {init_loss} before any step)")
    if optimizer is None:
        rep.skip("lr-too-high", "no optimizer given")
    elif not_finite:
        rep.skip("lr-too-high", not_finite)
    elif "optimizer-not-on-model" in rep.codes:
        rep.skip("lr-too-high", "your optimizer does not hold this model's parameters")
    elif "inplace-write" in rep.codes:
        rep.skip("lr-too-high", "no gradient can be computed (inplace-write)")
    else:
        lr_probe = _probe(rep, "lr-too-high", lambda: probe_lr(ad, rep, lr_steps))
    probe_losses = None
    if not_finite:
        rep.skip("overfit-one-batch", not_finite)
    elif "frozen-parameters" in rep.codes:
        rep.skip("overfit-one-batch", "no parameter of the model can train")
    elif "no-gradient-path" in rep.codes:
        rep.skip("overfit-one-batch", "no gradient reaches the weights")
    elif "inplace-write" in rep.codes:
        rep.skip("overfit-one-batch", "no gradient can be computed (inplace-write)")
    elif "loss-without-floor" in rep.codes:
        rep.skip("overfit-one-batch", "a loss without a floor cannot show whether the batch is memorised")
    elif steps > 0:
        probe_ad = _rows_for_probes(ad, rep, work, trace)
        probe_losses = _probe(rep, "overfit-one-batch",
                              lambda: probe_overfit(probe_ad, rep, steps, overfit_target, dead_threshold, min_samples))
        _probe(rep, "loss-stalls-fit", lambda: probe_without_mae(probe_ad, rep, steps, overfit_target))
        _probe(rep, "unscaled-targets", lambda: probe_scaled_targets(probe_ad, rep, steps, overfit_target))
        if train_steps is not None and optimizer is None:
            rep.skip("program-length", "no optimizer given: pass yours to judge its settings against train_steps")
        elif train_steps is not None:
            _probe(rep, "program-length", lambda: probe_program_length(probe_ad, rep, int(train_steps), overfit_target,
                                                                      probe_losses))
    if lr_probe is not None:
        judge_step_size(ad, rep, *lr_probe, lr_steps, probe_losses)
    judge_frozen_after_probe(rep, partly_frozen)
    check_state_across_steps(ad, rep, work)
    readings_that_fit(rep, settings_move_loss=not stalls(lr_probe),  # stuck settings: a reading may be why
                      settings_losses=None if lr_probe is None else lr_probe[0].losses)
    mark_consequences(rep)
    return rep
