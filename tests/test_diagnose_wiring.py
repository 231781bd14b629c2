"""diagnose on how the layers meet (issue 15): a Dense/Linear layer fed unflattened feature maps, a layer sized
for other inputs, a tensor written in place after autograd saved it. Each bug is paired with its fix, on which
the finding must not appear."""
import numpy as np
import pytest

import course_utils as cu

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

cu.setup(frameworks=("torch", "tensorflow"))
import keras  # noqa: E402

from course_utils.diagnosis import diagnose  # noqa: E402

N = 24
RNG = np.random.default_rng(3)
LABELS = RNG.integers(0, 3, size=N)
IMAGES_LAST = RNG.normal(size=(N, 8, 8, 1)).astype("float32")  # Keras: channels last
IMAGES_FIRST = IMAGES_LAST.transpose(0, 3, 1, 2).copy()  # PyTorch: channels first
FEATURES = RNG.normal(size=(N, 5)).astype("float32")  # drawn once: a test's data must not depend on which ran first


def torch_cnn(flatten: bool, linear_in=4 * 6 * 6):
    torch.manual_seed(0)
    tail = [nn.Flatten()] if flatten else []
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), *tail, nn.Linear(linear_in, 3))


def keras_cnn(flatten: bool):
    keras.utils.set_random_seed(0)
    tail = [keras.layers.Flatten()] if flatten else []
    return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="relu"), *tail,
                             keras.layers.Dense(3, activation="softmax")])


def test_a_loss_of_ones_own_may_take_one_output_per_position():
    """CTC and other losses of the student's own score a sequence of outputs: a Linear on every step is no bug."""
    torch.manual_seed(0)
    sequences = torch.as_tensor(np.random.default_rng(11).normal(size=(N, 7, 4)).astype("float32"))
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 5))  # (N, 7, 5): a score per step and class

    def per_step(output, labels):  # every step scored against its sample's label
        return nn.functional.cross_entropy(output.transpose(1, 2), labels[:, None].expand(-1, output.shape[1]))

    report = diagnose(model, sequences, torch.as_tensor(LABELS), per_step, steps=0)
    assert "missing-flatten" not in report.codes, str(report)


def test_a_torch_linear_sized_for_the_flattened_maps_but_given_them_unflattened_is_named():
    report = diagnose(torch_cnn(flatten=False), IMAGES_FIRST, LABELS, nn.CrossEntropyLoss(), steps=0)
    assert report.codes == ["missing-flatten"], str(report)
    assert "built for 144 features, the flattened size of the feature maps of shape (4, 6, 6)" in str(report)
    assert "missing-flatten" not in diagnose(torch_cnn(flatten=True), IMAGES_FIRST, LABELS, nn.CrossEntropyLoss(),
                                             steps=0).codes


def test_a_keras_dense_on_feature_maps_that_the_loss_cannot_compare_is_named():
    """Keras' Dense takes feature maps (it works on the last axis): the output keeps the map's axes."""
    one_hot = np.eye(3, dtype="float32")[LABELS]
    report = diagnose(keras_cnn(flatten=False), IMAGES_LAST, one_hot, "categorical_crossentropy", steps=0)
    assert "missing-flatten" in report.codes, str(report)
    assert "receives input of shape (4, 6, 6, 4)" in str(report) and "would see 144 features per sample" in str(report)
    assert "missing-flatten" not in diagnose(keras_cnn(flatten=True), IMAGES_LAST, one_hot, "categorical_crossentropy",
                                             steps=0).codes


class UnsqueezedHead(nn.Module):
    """A sample's features given an extra axis of length 1 (x.unsqueeze(1), the bug) or not before the Linear head."""

    def __init__(self, unsqueeze: bool):
        super().__init__()
        torch.manual_seed(0)
        self.unsqueeze, self.head = unsqueeze, nn.Linear(5, 3)

    def forward(self, x):
        return self.head(x.unsqueeze(1) if self.unsqueeze else x)


def test_an_extra_axis_of_length_one_before_the_head_is_the_outputs_shape_not_a_missing_flatten():
    """flair's document classifier (commit 2469483): scores (n, 1, classes) for one class index per sample. There
    is no feature map to flatten; the axis of length 1 is dropped."""
    features, labels = torch.as_tensor(FEATURES), torch.as_tensor(LABELS)
    report = diagnose(UnsqueezedHead(True), features, labels, nn.CrossEntropyLoss(), steps=0)
    assert report.codes == ["target-shape-broadcast"], str(report)
    finding = report.finding("target-shape-broadcast")
    assert "an extra axis of length 1" in finding.evidence[0] and "output.squeeze(1)" in finding.fix
    assert not diagnose(UnsqueezedHead(False), features, labels, nn.CrossEntropyLoss(), steps=0).findings


def test_a_convolutions_maps_of_one_by_one_are_still_a_missing_flatten():
    """The last convolution leaves 1 x 1 maps: Dense keeps their two axes of length 1, and Flatten is the fix."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3, 3, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    report = diagnose(model, IMAGES_LAST[:, :3, :3], np.eye(3, dtype="float32")[LABELS], "categorical_crossentropy",
                      steps=0)
    assert "missing-flatten" in report.codes and "target-shape-broadcast" not in report.codes, str(report)


def test_a_dense_layer_on_every_time_step_is_fine_when_the_targets_have_one_value_per_step():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6, 4)), keras.layers.LSTM(5, return_sequences=True), keras.layers.Dense(1)])
    sequences = RNG.normal(size=(N, 6, 4)).astype("float32")
    report = diagnose(model, sequences, sequences.sum(-1, keepdims=True), "mse", steps=0)
    assert "missing-flatten" not in report.codes, str(report)
    # a tag per step, as float class indices (as read from a table): sparse cross-entropy wants one more axis
    keras.utils.set_random_seed(0)
    tagger = keras.Sequential([keras.Input((6, 4)), keras.layers.LSTM(5, return_sequences=True), keras.layers.Dense(3)])
    tags = RNG.integers(0, 3, size=(N, 6)).astype("float32")
    report = diagnose(tagger, sequences, tags, keras.losses.SparseCategoricalCrossentropy(from_logits=True), steps=0)
    assert "missing-flatten" not in report.codes, str(report)


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_a_layer_sized_for_other_inputs_is_named_with_what_it_gets(framework):
    """The first Dense/Linear layer was built for 5 features and x has 3: no rearrangement of x helps."""
    x = RNG.normal(size=(N, 3)).astype("float32")
    if framework == "torch":
        torch.manual_seed(0)
        model, loss = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3)), nn.CrossEntropyLoss()
        words = "0 was built for 5 input features and receives 3"
    else:
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        words = "the model was declared for inputs of shape (5,) per sample, and x has (3,)"
    report = diagnose(model, x, LABELS, loss, steps=0)
    assert report.codes == ["layer-size-mismatch"], str(report)
    assert words in str(report)


def test_a_convolution_built_for_other_channels_is_named():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(8, 4, 3), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    report = diagnose(model, IMAGES_FIRST, LABELS, nn.CrossEntropyLoss(), steps=0)
    assert report.codes == ["layer-size-mismatch"], str(report)
    assert "the convolution 2 was built for 8 input channels and receives 4" in str(report)


def test_a_model_no_layer_of_which_explains_the_refusal_still_raises_with_the_shape():
    class Refuses(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(5, 3)

        def forward(self, x):
            if x.shape[1] != 7:
                raise ValueError("this model wants seven features")
            return self.linear(x[:, :5])

    with pytest.raises(ValueError, match=r"could not run on x of shape \(24, 5\).*wants seven features"):
        diagnose(Refuses(), RNG.normal(size=(N, 5)).astype("float32"), LABELS, nn.CrossEntropyLoss(), steps=0)


class WritesIntoSaved(nn.Module):
    """A sigmoid saves its output for backward; the buggy block then adds to that output in place."""

    def __init__(self, copy_first: bool):
        super().__init__()
        self.copy_first = copy_first
        self.hidden, self.out = nn.Linear(5, 8), nn.Linear(8, 3)

    def forward(self, x):
        h = torch.sigmoid(self.hidden(x))
        if self.copy_first:
            h = h + 1.0
        else:
            h += 1.0
        return self.out(h)


def test_a_tensor_written_in_place_after_autograd_saved_it_is_named_with_the_line_that_saved_it():
    torch.manual_seed(0)
    x = FEATURES
    report = diagnose(WritesIntoSaved(copy_first=False), x, LABELS, nn.CrossEntropyLoss(), steps=50)
    assert report.codes == ["inplace-write"], str(report)
    assert "`h = torch.sigmoid(self.hidden(x))` (test_diagnose_wiring.py, line" in str(report)
    assert dict(report.skipped)["overfit-one-batch"] == "no gradient can be computed (inplace-write)"
    fixed = diagnose(WritesIntoSaved(copy_first=True), x, LABELS, nn.CrossEntropyLoss(), steps=50)
    assert "inplace-write" not in fixed.codes and "gradient-flow" not in dict(fixed.skipped), str(fixed)


def _torch_mlp_initialised(hidden_init, last_init=None):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3))
    with torch.no_grad():
        for layer in (model[0], model[2]):
            hidden_init(layer.weight)
        if last_init:
            last_init(model[4].weight)
    return model


def test_hidden_units_that_start_equal_are_named_in_both_frameworks():
    x = FEATURES
    report = diagnose(_torch_mlp_initialised(lambda w: w.fill_(0.1)), x, LABELS, nn.CrossEntropyLoss(), steps=0)
    assert "symmetric-weights" in report.codes, str(report)
    assert "0: all 16 units start with the same weights (every one 0.1); only their biases differ" in str(report)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(16, activation="tanh", kernel_initializer="zeros"),
                              keras.layers.Dense(3)])
    keras_report = diagnose(model, x, LABELS, keras.losses.SparseCategoricalCrossentropy(from_logits=True), steps=0)
    assert "symmetric-weights" in keras_report.codes, str(keras_report)


def test_units_that_start_equal_are_a_note_when_the_rest_memorises_the_batch():
    """A bilinear-upsampling layer starts with every unit equal on purpose; the model around it still fits."""
    x = np.random.default_rng(12).normal(size=(N, 5)).astype("float32")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 64), nn.Tanh(), nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 3))
    with torch.no_grad():
        model[2].weight.fill_(0.05)  # 16 equal units after 64 random ones
    report = diagnose(model, x, LABELS, nn.CrossEntropyLoss(), steps=300)
    assert "symmetric-weights" not in report.codes, str(report)
    assert any(note.startswith("symmetric-weights") and "memorised the batch anyway" in note
               for note in report.notes), str(report)


def test_a_random_start_or_a_zero_last_layer_is_not_symmetric():
    """Zeros in the last layer alone are fine: the random units before it give its rows different gradients."""
    x = FEATURES
    zero_last = _torch_mlp_initialised(lambda w: None, last_init=lambda w: w.zero_())
    report = diagnose(zero_last, x, LABELS, nn.CrossEntropyLoss(), steps=100)
    assert "symmetric-weights" not in report.codes and "symmetric-weights" in report.passed, str(report)


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_a_relu_in_front_of_the_output_sigmoid_is_named_as_unable_to_reach_class_zero(framework):
    x = FEATURES
    labels = (x[:, 0] > 0).astype("float32").reshape(-1, 1)
    if framework == "torch":
        def model(relu_last):
            torch.manual_seed(0)
            return nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 1), *([nn.ReLU()] if relu_last else []),
                                 nn.Sigmoid())
        loss = nn.BCELoss()
    else:
        def model(relu_last):
            keras.utils.set_random_seed(0)
            return keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"),
                                     keras.layers.Dense(1, activation="relu" if relu_last else None),
                                     keras.layers.Activation("sigmoid")])
        loss = "binary_crossentropy"
    report = diagnose(model(True), x, labels, loss, steps=0)
    finding = report.finding("output-cannot-reach-target")
    assert "(a ReLU) feeds the output's sigmoid" in str(report) and "Remove the ReLU" in finding.fix, str(report)
    assert "output-cannot-reach-target" not in diagnose(model(False), x, labels, loss, steps=0).codes


def test_keras_hands_a_loss_function_of_ones_own_the_shapes_fit_does():
    """fit gives (n,) targets a last axis against (n, 1) outputs before it calls any loss: a function that
    reads column 0 of both works there, and so must it here."""
    import tensorflow as tf

    def first_column_mse(y_true, y_pred):
        return tf.square(y_true[:, 0] - y_pred[:, 0])

    x = FEATURES
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss=first_column_mse)
    model.fit(x, x[:, 0], epochs=1, verbose=0)  # fit takes it
    report = diagnose(model, x, x[:, 0], first_column_mse, steps=20)
    assert not report.codes, str(report)


def test_a_loss_of_ones_own_that_levels_off_after_halving_is_a_note_not_a_failure():
    """diagnose does not know how low a loss of the student's own can go (a VAE's has a floor far above 0)."""
    x = FEATURES
    target = torch.as_tensor(x[:, :1])

    def with_a_floor(output, y):
        return nn.functional.mse_loss(output, y) + 1.0  # a constant the model cannot remove

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1))
    report = diagnose(model, x, target, with_a_floor, steps=100)
    assert "cannot-overfit" not in report.codes, str(report)
    assert any("cannot tell whether the batch is memorised" in note for note in report.notes), str(report)
    stuck = diagnose(nn.Sequential(nn.Linear(5, 1), nn.ReLU(), nn.Linear(1, 1)), x, target * 0 + 50.0, with_a_floor,
                     steps=100)
    assert "cannot-overfit" in stuck.codes or "too-few-steps" in stuck.codes, str(stuck)
