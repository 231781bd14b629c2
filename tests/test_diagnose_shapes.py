"""diagnose never raises on a model and batch that its framework trains without error (issue 15).

Each case is a shape real users pass: rank-1 targets, integer labels, one-hot
rows, channels-first images, sequences, several inputs at once. The test first
proves the framework trains it (Keras' ``fit``, a PyTorch step), then that
``diagnose`` returns a report, and what that report must or must not say.
"""
import numpy as np
import pytest

import course_utils as cu

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

cu.setup(frameworks=("torch", "tensorflow"))
import keras  # noqa: E402

from course_utils.diagnosis import diagnose  # noqa: E402

N = 24
RNG = np.random.default_rng(7)
X = RNG.normal(size=(N, 5)).astype("float32")
X_EXTRA = RNG.normal(size=(N, 3)).astype("float32")
VALUES = RNG.normal(size=(N,)).astype("float32")
LABELS = RNG.integers(0, 3, size=N)
BINARY = RNG.integers(0, 2, size=N).astype("float32")
IMAGES = RNG.normal(size=(N, 8, 8, 1)).astype("float32")
SEQUENCES = RNG.normal(size=(N, 6, 4)).astype("float32")


def keras_mlp(units, activation=None, inputs=5):
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((inputs,)), keras.layers.Dense(12, activation="relu"),
                             keras.layers.Dense(units, activation=activation)])


def keras_two_inputs(as_dict):
    keras.utils.set_random_seed(0)
    a, b = keras.Input((5,), name="a"), keras.Input((3,), name="b")
    hidden = keras.layers.Dense(8, activation="relu")(keras.layers.Concatenate()([a, b]))
    inputs = {"a": a, "b": b} if as_dict else [a, b]
    return keras.Model(inputs, keras.layers.Dense(1)(hidden))


KERAS_CASES = {
    # name: (model builder, x, y, loss, codes it must not report)
    "Dense(1), mse, targets (n,)": (lambda: keras_mlp(1), X, VALUES, "mse", {"target-shape-broadcast"}),
    "Dense(1), mae, targets (n,)": (lambda: keras_mlp(1), X, VALUES, "mae", {"target-shape-broadcast"}),
    "sigmoid, binary cross-entropy, targets (n,)": (lambda: keras_mlp(1, "sigmoid"), X, BINARY,
                                                    "binary_crossentropy", {"target-shape-broadcast"}),
    "softmax, integer labels (n,)": (lambda: keras_mlp(3, "softmax"), X, LABELS,
                                     "sparse_categorical_crossentropy", set()),
    "softmax, integer labels (n, 1)": (lambda: keras_mlp(3, "softmax"), X, LABELS[:, None],
                                       "sparse_categorical_crossentropy", set()),
    "softmax, one-hot rows": (lambda: keras_mlp(3, "softmax"), X, np.eye(3, dtype="float32")[LABELS],
                              "categorical_crossentropy", set()),
    "a Lambda layer": (lambda: keras.Sequential([keras.Input((5,)), keras.layers.Lambda(lambda t: t * 0.5),
                                                 keras.layers.Dense(12, activation="relu"), keras.layers.Dense(3)]),
                       X, LABELS, keras.losses.SparseCategoricalCrossentropy(from_logits=True), set()),
    "images (n, 8, 8, 1)": (lambda: keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                                                      keras.layers.Flatten(), keras.layers.Dense(3)]),
                            IMAGES, LABELS, keras.losses.SparseCategoricalCrossentropy(from_logits=True), set()),
    "sequences (n, 6, 4)": (lambda: keras.Sequential([keras.Input((6, 4)), keras.layers.LSTM(6), keras.layers.Dense(1)]),
                            SEQUENCES, VALUES, "mse", {"target-shape-broadcast"}),
    "token indices into an Embedding": (lambda: keras.Sequential([keras.Input((6,)), keras.layers.Embedding(10, 4),
                                                                 keras.layers.Flatten(), keras.layers.Dense(3)]),
                                        RNG.integers(0, 10, size=(N, 6)), LABELS,
                                        keras.losses.SparseCategoricalCrossentropy(from_logits=True), set()),
    "two inputs in a dict": (lambda: keras_two_inputs(True), {"a": X, "b": X_EXTRA}, VALUES, "mse", set()),
    "two inputs in a list": (lambda: keras_two_inputs(False), [X, X_EXTRA], VALUES, "mse", set()),
}


@pytest.mark.parametrize("name", KERAS_CASES)
def test_diagnose_takes_what_keras_fit_takes(name):
    build, x, y, loss, never = KERAS_CASES[name]
    model = build()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    model.fit(x, y, epochs=1, batch_size=N, verbose=0)  # the framework accepts it
    report = diagnose(model, x, y, loss, optimizer=keras.optimizers.Adam(1e-3), steps=30, lr_steps=5)
    assert not set(report.codes) & never, report.codes
    assert "gradient-flow" not in dict(report.skipped), report.skipped  # (an Embedding's gradient is sparse)


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.head = nn.Linear(5, 8), nn.Linear(3, 8), nn.Linear(8, 1)

    def forward(self, inputs):
        first, second = inputs
        return self.head(torch.relu(self.a(first) + self.b(second)))


class LastStep(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm, self.head = nn.LSTM(4, 6, batch_first=True), nn.Linear(6, 1)

    def forward(self, x):
        return self.head(self.lstm(x)[0][:, -1])


def torch_mlp(outputs, *tail):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 12), nn.ReLU(), nn.Linear(12, outputs), *tail)


def t(array):
    return torch.as_tensor(array)


TORCH_CASES = {
    "integer labels": (lambda: torch_mlp(3), t(X), t(LABELS), nn.CrossEntropyLoss()),
    "class probabilities as targets": (lambda: torch_mlp(3), t(X), t(np.eye(3, dtype="float32")[LABELS]),
                                       nn.CrossEntropyLoss()),
    "logits (n,) with BCEWithLogitsLoss": (lambda: torch_mlp(1, nn.Flatten(0)), t(X), t(BINARY), nn.BCEWithLogitsLoss()),
    "channels-first images": (lambda: nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(144, 3)),
                              t(IMAGES).permute(0, 3, 1, 2).contiguous(), t(LABELS), nn.CrossEntropyLoss()),
    "sequences": (LastStep, t(SEQUENCES), t(VALUES)[:, None], nn.MSELoss()),
    "a label per time step (n, classes, steps)": (lambda: nn.Sequential(nn.Conv1d(4, 3, 1)),
                                                  t(SEQUENCES).permute(0, 2, 1).contiguous(),
                                                  t(RNG.integers(0, 3, size=(N, 6))), nn.CrossEntropyLoss()),
    "two inputs in a tuple": (TwoInputs, (t(X), t(X_EXTRA)), t(VALUES)[:, None], nn.MSELoss()),
    "token ids into an embedding": (lambda: nn.Sequential(nn.Embedding(20, 4), nn.Flatten(), nn.Linear(24, 3)),
                                    t(RNG.integers(0, 20, size=(N, 6))), t(LABELS), nn.CrossEntropyLoss()),
}


@pytest.mark.parametrize("name", TORCH_CASES)
def test_diagnose_takes_what_a_torch_loop_takes(name):
    build, x, y, loss = TORCH_CASES[name]
    model = build()
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    loss(model(x), y).backward()  # the framework accepts it
    optimizer.zero_grad()
    diagnose(model, x, y, loss, optimizer=optimizer, steps=30, lr_steps=5)


def test_a_check_that_cannot_run_on_several_inputs_says_why():
    build, x, y, loss = TORCH_CASES["two inputs in a tuple"]
    model = build()
    report = diagnose(model, x, y, loss, optimizer=torch.optim.Adam(model.parameters(), 1e-3), steps=30, lr_steps=5)
    reasons = dict(report.skipped)
    assert "several" in reasons["overfit-one-batch"] and "cu.watch" in reasons["overfit-one-batch"]
    assert "several inputs" in reasons["unscaled-inputs"]


def test_inputs_of_different_lengths_are_refused_with_a_message():
    model = TwoInputs()
    with pytest.raises(ValueError, match=r"different numbers of samples: \[24, 10\]"):
        diagnose(model, (t(X), t(X_EXTRA[:10])), t(VALUES)[:, None], nn.MSELoss())


@pytest.mark.parametrize("framework", ["keras", "torch"])
def test_broadcasting_is_judged_by_what_the_loss_computes(framework):
    """(n, 1) outputs against (n,) targets: Keras lines them up as fit does; PyTorch's MSELoss compares n x n."""
    if framework == "keras":
        model, loss = keras_mlp(1), "mse"
    else:
        model, loss = torch_mlp(1), nn.MSELoss()
    y = VALUES if framework == "keras" else t(VALUES)
    x = X if framework == "keras" else t(X)
    report = diagnose(model, x, y, loss, steps=0)
    assert ("target-shape-broadcast" in report.codes) == (framework == "torch")
    lined_up = VALUES[:, None] if framework == "keras" else t(VALUES)[:, None]
    assert "target-shape-broadcast" not in diagnose(model, x, lined_up, loss, steps=0).codes


def test_diagnose_on_a_keras_model_writes_nothing_to_stderr():
    """In a fresh interpreter where cu.setup() was never called: TensorFlow's notices belong to the student's import."""
    import subprocess
    import sys
    from pathlib import Path

    script = "\n".join([
        "import sys", "import numpy as np", "import keras",
        "model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation='relu'), keras.layers.Dense(1)])",
        "x = np.random.default_rng(0).normal(size=(32, 4)).astype('float32')",
        "print('DIAGNOSE STARTS', file=sys.stderr, flush=True)",
        "import course_utils as cu",
        "report = cu.diagnose(model, x, x.sum(1), 'mse', optimizer=keras.optimizers.SGD(0.01), steps=10, lr_steps=3)",
        "print(report.codes)",
    ])
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                            cwd=Path(__file__).resolve().parents[1])
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.split("DIAGNOSE STARTS", 1)[1].strip() == ""


@pytest.mark.parametrize("labels", [LABELS - 1, LABELS + 1])
def test_keras_labels_outside_the_classes_are_named_as_fit_refuses_them(labels):
    model = keras_mlp(3)
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.raises(Exception, match="is not in \\[0, 3\\)"):
        model.fit(X, labels, epochs=1, verbose=0)
    report = diagnose(keras_mlp(3), X, labels, keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert "labels-not-class-indices" in report and "but the output has 3 classes" in str(report)
    fine = diagnose(keras_mlp(3), X, LABELS.astype("float32"), "sparse_categorical_crossentropy", steps=0)
    assert "labels-not-class-indices" in fine.passed  # Keras takes whole-number floats as indices


@pytest.mark.parametrize("activation,named", [("softmax", False), ("sigmoid", True)])
def test_rows_of_classes_per_pixel_are_read_on_the_last_axis(activation, named):
    """A segmentation head: each pixel's softmax sums to 1 along the last axis of a (n, h, w, classes) output."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(6, 3, padding="same", activation="relu"),
                              keras.layers.Conv2D(3, 1, activation=activation)])
    masks = np.eye(3, dtype="float32")[RNG.integers(0, 3, size=(N, 8, 8))]
    report = diagnose(model, IMAGES, masks, "categorical_crossentropy", steps=0)
    assert ("rows-not-probabilities" in report) is named


def test_a_loss_name_keras_does_not_know_is_refused_with_the_names_it_does():
    with pytest.raises(ValueError, match="no loss called 'spare_categorical_crossentropy'.*did you mean "
                                         "'sparse_categorical_crossentropy'"):
        diagnose(keras_mlp(3), X, LABELS, "spare_categorical_crossentropy", steps=0)


def _torch_conv(channels=3):
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(channels, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_inputs_the_model_takes_only_rearranged_are_named_and_the_checks_run_on_that(framework):
    rgb_last = RNG.normal(size=(N, 8, 8, 3)).astype("float32")
    if framework == "torch":  # channels last into a PyTorch convolution
        model, x, fixed = _torch_conv(), rgb_last, rgb_last.transpose(0, 3, 1, 2).copy()
        loss, words = nn.CrossEntropyLoss(), "x with channels moved first, axes (0, 3, 1, 2), of shape (24, 3, 8, 8)"
    else:  # rank-1 inputs into Dense layers built on their first call
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
        x, fixed = VALUES, VALUES[:, None]
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        words = "x given a feature axis, x.reshape(-1, 1), of shape (24, 1)"
    report = diagnose(model, x, LABELS, loss, steps=20)
    assert "input-layout" in report.codes and words in str(report), str(report)
    assert "overfit-one-batch" in report.passed or "cannot-overfit" in report.codes  # the probes ran on it
    assert "input-layout" not in diagnose(model, fixed, LABELS, loss, steps=0).codes


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_images_kept_with_an_extra_axis_of_length_one_are_named_with_the_squeeze(framework):
    """Images stacked as (n, 1, h, w, c) (SFData's post 35673874): the model takes them once axis 1 is dropped."""
    images = RNG.normal(size=(N, 1, 8, 8, 3)).astype("float32")
    if framework == "torch":
        model, x, loss = _torch_conv(), images.transpose(0, 1, 4, 2, 3).copy(), nn.CrossEntropyLoss()
    else:
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3), keras.layers.Flatten(),
                                  keras.layers.Dense(3)])
        x, loss = images, keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    report = diagnose(model, x, LABELS, loss, steps=0)
    assert "input-layout" in report.codes and "np.squeeze(x, axis=1)" in str(report), str(report)
    assert "input-layout" not in diagnose(model, x[:, 0], LABELS, loss, steps=0).codes


@pytest.mark.parametrize("sample", ["row", "image"])
def test_one_sample_without_its_batch_axis_is_named_not_raised(sample):
    """A Keras model fed one sample as it is, (19,) or (10, 10, 3), with no batch axis (SFData's posts 42560193
    and 41652296): x's first axis is not the samples. With a one-hot target of another length diagnose raised
    "x has 19 samples but y has 2"; with one of the same length the model refused and diagnose named a layer."""
    keras.utils.set_random_seed(0)
    shape = (19,) if sample == "row" else (10, 10, 3)
    model = keras.Sequential([keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")])
    one = RNG.normal(size=shape).astype("float32")
    for target in (np.eye(2, dtype="float32")[1], np.eye(shape[0], dtype="float32")[1]):
        report = diagnose(model, one, target, "categorical_crossentropy", steps=0)
        assert report.codes == ["input-layout"], str(report)
        assert f"x has shape {shape}, the shape the model was declared to take for one sample" in str(report)
        assert "np.expand_dims(x, 0)" in report.finding("input-layout").fix
    batch = np.stack([one, one])
    assert "input-layout" not in diagnose(model, batch, np.eye(2, dtype="float32"), "categorical_crossentropy",
                                          steps=0).codes


def test_samples_with_another_number_of_axes_than_declared_are_named_not_raised():
    """keras-adversarial's channels-last fix transposed the axes tuple, np.transpose((0, 2, 3, 1)), not the images, so
    x was [0, 2, 3, 1] (the ninth held-out set's GAN). No reshape of four values runs a model declared for 8x8x1
    images, and diagnose raised "the model could not run on x"; x's samples are named as what is wrong."""
    keras.utils.set_random_seed(0)
    images = keras.Input((8, 8, 1))  # a functional model checks x against its Input before any layer sees it
    flat = keras.layers.Flatten()(keras.layers.Conv2D(4, 3)(images))
    model = keras.Model(images, keras.layers.Dense(1, activation="sigmoid")(flat))
    axes = np.transpose((0, 2, 3, 1)).astype("float32")
    report = diagnose(model, axes, np.ones((4, 1), dtype="float32"), "binary_crossentropy", steps=0)
    assert report.codes == ["input-layout"], str(report)
    assert ("each of its 4 samples has shape (), with 0 axes; the model was declared to take samples of shape "
            "(8, 8, 1), with 3") in str(report)
    assert "input-layout" not in diagnose(model, IMAGES[:4], np.ones((4, 1), dtype="float32"), "binary_crossentropy",
                                          steps=0).codes


def test_images_read_as_flat_rows_for_a_model_declared_for_images_are_named_with_the_reshape():
    """A CNN declared with input_shape=(28, 28, 1) fitted on the flat rows of 784 pixels a data reader gives (SFData's
    post 63141076): no axis added or moved runs the model, the reshape to its declared sample shape does. Before,
    the first convolution was named (layer-size-mismatch), as if the model were wrong."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                              keras.layers.Flatten(), keras.layers.Dense(3)])
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    report = diagnose(model, IMAGES.reshape(N, -1), LABELS, loss, steps=0)
    assert report.codes == ["input-layout"], str(report)
    assert "x reshaped to the sample shape the model was declared for, x.reshape(-1, 8, 8, 1)" in str(report)
    assert "input-layout" not in diagnose(model, IMAGES, LABELS, loss, steps=0).codes


def test_one_cell_object_given_to_every_layer_of_a_stack_is_named_although_the_copy_runs():
    """[cell] * 3 in a stacked RNN (SFData's post 44615147): the one cell is built for the first layer's 4 features
    and fails at the second layer's 5. diagnose copies a model never built from its config, which makes three
    cells, so the copy ran and diagnose reported nothing wrong with a model fit refuses."""
    L = keras.layers

    def stack(shared):
        keras.utils.set_random_seed(0)
        cells = [L.LSTMCell(5)] * 3 if shared else [L.LSTMCell(5) for _ in range(3)]
        return keras.Sequential([L.RNN(L.StackedRNNCells(cells)), L.Dense(3)])

    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    refused = stack(True)
    refused.compile(loss=loss, optimizer="adam")
    with pytest.raises(Exception):
        refused.fit(SEQUENCES, LABELS, epochs=1, verbose=0)
    report = diagnose(stack(True), SEQUENCES, LABELS, loss, steps=0)
    assert report.codes == ["layer-size-mismatch"], str(report)
    assert "with a new object in each place where yours uses one object twice, runs" in str(report)
    assert report.finding("layer-size-mismatch").fix.startswith("Give each place its own layer or cell")
    assert "layer-size-mismatch" not in diagnose(stack(False), SEQUENCES, LABELS, loss, steps=0).codes


def test_stacked_recurrent_layers_without_return_sequences_are_named_not_raised():
    """The second LSTM gets the first one's last step only, (n, units), where it needs (n, steps, units). Keras
    refuses such a model when it declares its input; built by the data, it fails at its first call."""
    def stacked(return_sequences):
        keras.utils.set_random_seed(0)
        return keras.Sequential([keras.layers.LSTM(5, return_sequences=return_sequences), keras.layers.LSTM(5),
                                 keras.layers.Dense(3)])

    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    report = diagnose(stacked(False), SEQUENCES, LABELS, loss, steps=0)  # raised "could not run on x" before
    finding = report.finding("layer-size-mismatch")
    assert "needs sequences, (samples, steps, features), and receives one vector per sample" in finding.evidence[0]
    assert "returns only its last step" in finding.evidence[1] and "return_sequences=True" in finding.fix
    assert "layer-size-mismatch" not in diagnose(stacked(True), SEQUENCES, LABELS, loss, steps=0).codes


def test_a_keras_reshape_to_a_fixed_width_that_meets_larger_maps_is_a_layer_size_mismatch_not_a_raise():
    """A TensorFlow 1 tutorial's reshape(-1, 7*7*8) kept for 8x12 images (SFData's post 33974231): TensorFlow's
    words do not say how many samples ran, so one sample is run alone to count its values."""
    def net(width):
        keras.utils.set_random_seed(0)
        return keras.Sequential([keras.layers.Conv2D(8, 3, padding="same"), keras.layers.MaxPool2D(),
                                 keras.layers.Lambda(lambda t: keras.ops.reshape(t, (-1, width)),
                                                     output_shape=(width,)),
                                 keras.layers.Dense(3)])

    wide = RNG.normal(size=(N, 8, 12, 1)).astype("float32")  # 4 x 6 maps of 8 channels: 192 values per sample
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    report = diagnose(net(7 * 7 * 8), wide, LABELS, loss, steps=0)
    assert report.codes == ["layer-size-mismatch"], str(report)
    assert "a reshape to (-1, 392) met 192 values for one sample, not 392" in str(report)
    assert "layer-size-mismatch" not in diagnose(net(192), wide, LABELS, loss, steps=0).codes


def test_a_keras_convolution_of_the_wrong_rank_for_the_data_is_named_not_raised():
    """Conv1D layers on (n, h, w, c) images (SFData's post 65047573): the first convolution is built for three
    axes and meets four. Conv2D takes them."""
    def net(conv):
        keras.utils.set_random_seed(0)
        return keras.Sequential([conv(4, 3), keras.layers.Flatten(), keras.layers.Dense(3)])

    images = RNG.normal(size=(N, 8, 8, 3)).astype("float32")
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    report = diagnose(net(keras.layers.Conv1D), images, LABELS, loss, steps=0)  # raised before
    finding = report.finding("layer-size-mismatch")
    assert "takes inputs of 3 axes, (samples, steps, channels), and receives 4" in finding.evidence[0], str(report)
    assert "Conv2D for images" in finding.fix
    assert "layer-size-mismatch" not in diagnose(net(keras.layers.Conv2D), images, LABELS, loss, steps=0).codes


class LastOutputLSTM(nn.Module):
    """A batch-first LSTM whose output row is outputs[-1] (the last sample at every step, the bug) or
    outputs[:, -1] (every sample's last step)."""

    def __init__(self, last_sample):
        super().__init__()
        torch.manual_seed(0)
        self.last_sample = last_sample
        self.lstm, self.head = nn.LSTM(4, 8, batch_first=True), nn.Linear(8, 3)

    def forward(self, x):
        outputs, _ = self.lstm(x)
        return self.head(outputs[-1] if self.last_sample else outputs[:, -1])


def test_outputs_with_one_row_per_step_instead_of_per_sample_are_samples_mixed_not_a_raise():
    """outputs[-1] on a batch-first LSTM's output (SFData's post 54806450): 6 rows, x's steps, for 24 samples."""
    x, y = torch.as_tensor(SEQUENCES), torch.as_tensor(LABELS)
    report = diagnose(LastOutputLSTM(True), x, y, nn.CrossEntropyLoss(), steps=0)  # raised before
    assert report.codes == ["samples-mixed"], str(report)
    assert "returned 6 output rows for a batch of 24 samples, and 6 is the length of x's axis 1" in str(report)
    assert "samples-mixed" not in diagnose(LastOutputLSTM(False), x, y, nn.CrossEntropyLoss(), steps=0).codes


class PerStepDense(nn.Module):
    """A dense layer applied at every step of each sample in turn, the per-sample results joined along axis 0 with
    torch.cat (the bug: one row per sample and step) or torch.stack (one (steps, units) block per sample)."""

    def __init__(self, joined_by):
        super().__init__()
        torch.manual_seed(0)
        self.joined_by, self.dense = joined_by, nn.Linear(4, 2)

    def forward(self, x):
        return self.joined_by([self.dense(sample) for sample in x], 0)


def test_outputs_with_a_row_per_sample_and_step_are_samples_mixed():
    """kur's per-step layer (commit 04ca948): 24 samples of 6 steps come back as 144 rows."""
    x = torch.as_tensor(SEQUENCES)
    per_step = torch.as_tensor(np.random.default_rng(0).normal(size=(24, 6, 2)), dtype=torch.float32)
    report = diagnose(PerStepDense(torch.cat), x, per_step, nn.MSELoss(), steps=0)
    assert report.codes == ["samples-mixed"], str(report)
    assert "returned 144 output rows for a batch of 24 samples: 24 x 6" in str(report)
    assert "torch.stack keeps the batch axis" in str(report)
    assert "samples-mixed" not in diagnose(PerStepDense(torch.stack), x, per_step, nn.MSELoss(), steps=0).codes


def test_a_loss_that_refuses_the_shapes_is_explained_by_the_shapes_even_after_a_reading_of_the_values():
    """16 sigmoid units for 3 one-hot classes under categorical cross-entropy (SFData's post 64577667): the rows
    do not sum to 1, and that does not say why the loss refused (n, 3) targets against (n, 16) outputs."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="elu"),
                              keras.layers.Dense(16, activation="sigmoid")])
    report = diagnose(model, X, np.eye(3)[LABELS], "categorical_crossentropy", steps=0)
    assert {"rows-not-probabilities", "output-width-mismatch"} <= set(report.codes), str(report)


def test_a_float64_tensor_a_torch_model_refuses_is_named_although_diagnose_can_cast_it():
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))
    report = diagnose(model, torch.as_tensor(X, dtype=torch.float64), LABELS, nn.CrossEntropyLoss(), steps=0)
    assert "input-layout" in report.codes and "x is float64 and the model's weights are float32" in str(report)
    assert "x.float()" in report.finding("input-layout").fix
    assert "input-layout" not in diagnose(model, torch.as_tensor(X), LABELS, nn.CrossEntropyLoss(), steps=0).codes
    # a NumPy float64 array (NumPy's default) may be converted any way: not judged
    assert "input-layout" not in diagnose(model, X.astype("float64"), LABELS, nn.CrossEntropyLoss(), steps=0).codes


def test_integer_targets_a_binary_loss_refuses_are_named():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 1))
    labels = torch.as_tensor(BINARY).long().reshape(-1, 1)
    report = diagnose(model, X, labels, nn.BCEWithLogitsLoss(), steps=0)
    assert report.codes == ["targets-wrong-dtype"], str(report)
    assert "the targets are int64 and BCEWithLogitsLoss refuses them" in str(report)
    assert "targets-wrong-dtype" not in diagnose(model, X, labels.float(), nn.BCEWithLogitsLoss(), steps=0).codes


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_token_indices_beyond_the_embedding_table_are_named(framework):
    tokens = RNG.integers(1, 11, size=(N, 6))  # indices 1..10: a table of 10 rows has no row 10
    if framework == "torch":
        def model(rows):
            torch.manual_seed(0)
            return nn.Sequential(nn.Embedding(rows, 4), nn.Flatten(), nn.Linear(24, 3))
        loss, tokens = nn.CrossEntropyLoss(), torch.as_tensor(tokens)
    else:
        def model(rows):
            keras.utils.set_random_seed(0)
            return keras.Sequential([keras.Input((6,), dtype="int32"), keras.layers.Embedding(rows, 4),
                                     keras.layers.Flatten(), keras.layers.Dense(3)])
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    report = diagnose(model(10), tokens, LABELS, loss, steps=0)
    assert report.codes == ["embedding-too-small"], str(report)
    assert "x holds token indices up to 10, but the embedding" in str(report) and "has 10 rows (indices 0..9)" in str(report)
    assert "embedding-too-small" not in diagnose(model(11), tokens, LABELS, loss, steps=0).codes
