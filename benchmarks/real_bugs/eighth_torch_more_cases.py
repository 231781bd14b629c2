"""Eighth held-out set, PyTorch part (torch_more): public threads rebuilt as (buggy, fixed) twins, for one final measurement.

Built apart from the other parts by the same rule, by someone who read only diagnose's catalogue and never
ran the detectors; how the threads were chosen is in the README, "Eighth held-out set".
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import case
from .fresh_cases import GH, OUTSIDE, _rng, _tensors

# --- per-point classification with class weights kept as a (1, C) row ----------------------------

POINT_CLASSES = 4  # ground, building, vegetation, pole: counts as uneven as in a LiDAR scan


def _labelled_points(n=256):
    """A small synthetic scene: per point x, y, z, intensity and a colour channel, labelled by where it lies
    (ground low down, building on one side, a few thin poles, vegetation elsewhere), so the classes are uneven."""
    rng = _rng()
    xyz = rng.uniform(0.0, 1.0, (n, 3))
    labels = np.full(n, 2)                                          # vegetation
    labels[xyz[:, 0] > 0.65] = 1                                    # building
    labels[(np.abs(xyz[:, 0] - 0.3) < 0.06) & (np.abs(xyz[:, 1] - 0.5) < 0.2)] = 3  # pole
    labels[xyz[:, 2] < 0.25] = 0                                    # ground
    intensity = 0.2 * labels + rng.normal(0.0, 0.1, n)
    colour = np.where(labels == 2, 0.8, 0.3) + rng.normal(0.0, 0.1, n)
    features = np.column_stack([xyz, intensity, colour]).astype(np.float32)
    return (features - features.mean(0)) / features.std(0), labels.astype(np.int64)


def _class_weights(labels, classes):
    """Open3D-ML's DataProcessing.get_class_weights: 1 / (frequency + 0.02) per class."""
    counts = np.bincount(labels, minlength=classes).astype(np.float32)
    return 1.0 / (counts / counts.sum() + 0.02)


def _build_class_weights_2d(buggy):
    torch.manual_seed(0)
    features, labels = _labelled_points()
    weights = _class_weights(labels, POINT_CLASSES)
    if buggy:  # the pipeline returned the weights with np.expand_dims(..., axis=0): shape (1, C)
        weights = np.expand_dims(weights, axis=0)
    # a shared per-point MLP, as in the first layers of the point-cloud segmentation networks
    model = nn.Sequential(nn.Linear(5, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, POINT_CLASSES))
    x, y = _tensors(features, labels, torch.long)
    loss = nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32))
    return model, x, y, loss, torch.optim.Adam(model.parameters(), lr=1e-3)


CASES = [
    case("eighth_torch_class_weights_2d", "torch", "loss",
         GH + "isl-org/Open3D-ML/pull/601",
         "Open3D-ML's semantic-segmentation pipeline builds CrossEntropyLoss with class weights computed as "
         "1 / (frequency + 0.02) and returned by np.expand_dims as a (1, C) row, so from PyTorch 1.13 on training "
         "stops at the first loss with 'weight tensor should be defined either for all C classes or no classes but "
         "got weight tensor of shape: [1, C]'.",
         "Return the class weights as a flat vector of C values (the maintainer's merged fix drops the "
         "expand_dims).",
         set(), _build_class_weights_2d,
         note=OUTSIDE + "no catalogue code names a loss argument of the wrong shape (the class-weight vector); "
              "target-shape-broadcast and output-width-mismatch are about the targets and the output layer. "
              "RandLA-Net on SemanticKITTI (19 classes, 45,056 points per cloud) is rebuilt as a shared per-point "
              "MLP (5-32-32-4) on a synthetic scene of 256 points (x, y, z, intensity, colour, standardised) in 4 "
              "uneven classes (ground, building, vegetation, pole), with the pipeline's class-weight formula and "
              "Adam at 1e-3 (the pipeline's optimizer and rate); the network's neighbourhood aggregation and "
              "sub-sampling are left out, since the failure is raised by the loss before any of them matters. The "
              "weights come from the library's data-processing code, but the mechanism is the construction of the "
              "loss that build() returns (a judgement call on the rule that the bug lives in what build() returns)."),
]


# ==================================================================================================
# Added by a second person, who continued this part after reading the first person's record
# (/work/helpers/out_eighth_torch_more.md); how these threads were chosen is in their own record.
# ==================================================================================================

from . import data  # noqa: E402  (the second person's cases use the bundled data sets too)

# --- a Cox proportional-hazards network trained on a batch of one patient -------------------------

SURVIVAL_COVARIATES = 9


def _survival_rows(n=128):
    """Synthetic right-censored survival data of DeepSurv's kind: 9 standardised covariates, a log-risk that
    is a non-linear function of two of them, event times drawn from an exponential with that hazard, and
    about a third of the rows censored. Returns (covariates, [event, time] per row)."""
    rng = _rng()
    x = rng.normal(0.0, 1.0, (n, SURVIVAL_COVARIATES)).astype(np.float32)
    log_risk = 1.5 * np.tanh(x[:, 0]) + 0.8 * x[:, 1] ** 2 - 0.8
    event_time = rng.exponential(1.0, n) / np.exp(log_risk)
    censor_time = rng.exponential(2.0, n)
    time = np.minimum(event_time, censor_time)
    event = (event_time <= censor_time).astype(np.float32)
    return x, np.column_stack([event, time]).astype(np.float32)


class _CoxNegPartialLogLikelihood(nn.Module):
    """The negative Cox partial log-likelihood (no ties), as torchsurv's cox.neg_partial_log_likelihood
    computes it: sort by time, descending; each event's term is its log-hazard minus the log-sum-exp of the
    log-hazards of everyone still at risk; the loss is minus the mean over events. Target: [event, time]."""

    def forward(self, log_hz, target):
        event, time = target[:, 0], target[:, 1]
        order = torch.argsort(time, descending=True)
        log_hz_sorted, event_sorted = log_hz.reshape(-1)[order], event[order].bool()
        log_denominator = torch.logcumsumexp(log_hz_sorted, dim=0)
        return -(log_hz_sorted - log_denominator)[event_sorted].mean()


def _build_cox_batch_of_one(buggy):
    torch.manual_seed(0)
    covariates, target = _survival_rows()
    if buggy:  # one patient per batch (the poster's GPU limit): the first row with an observed event
        first_event = int(np.flatnonzero(target[:, 0] == 1)[0])
        covariates, target = covariates[first_event:first_event + 1], target[first_event:first_event + 1]
    model = nn.Sequential(nn.Linear(SURVIVAL_COVARIATES, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                          nn.Linear(32, 1))  # one unrestricted log-hazard per patient
    x, y = _tensors(covariates, target)
    return model, x, y, _CoxNegPartialLogLikelihood(), torch.optim.Adam(model.parameters(), lr=1e-3)


CASES += [
    case("eighth_torch_cox_batch_of_one", "torch", "loss",
         GH + "Novartis/torchsurv/issues/35",
         "A Cox proportional-hazards network is trained with torchsurv's negative partial log-likelihood on "
         "batches of one patient, where each event's risk set holds only itself, so the loss is exactly 0 at every "
         "step and no gradient reaches the weights.",
         "Train on batches of many patients (the maintainer: increase the sample size per batch, the partial "
         "likelihood needs others at risk to compare with).",
         set(), _build_cox_batch_of_one,
         note=OUTSIDE + "no catalogue code names a loss that needs several samples per batch; degenerate-batchnorm's "
              "fix (batches of several different samples) names the remedy but its title is about BatchNorm, which "
              "this model has not, and zero-gradients' fix walks back through the layers, not to the batch size (a "
              "judgement call). The poster's model is not shown (a GPU-memory limit suggests a large one); it is "
              "rebuilt as a DeepSurv-style MLP (9-32-32-1, ReLU, Adam 1e-3) on 128 synthetic censored survival rows "
              "(the buggy twin keeps one row with an observed event, the fixed twin all 128), with torchsurv's Cox "
              "loss (Efron ties by default) rewritten without ties in a few lines, since the times have none."),
]


# --- a discrete-time survival (churn) model fed covariates with missing values --------------------

CHURN_FEATURES, CHURN_INTERVALS = 40, 3


def _churn_rows(n=256):
    """Synthetic customer-churn survival data: 40 standardised covariates, a churn hazard driven by a few
    of them, durations 0..60 months cut into 3 intervals (pycox's LabTransDiscreteTime with 3 cuts), about
    five censored rows to every churn; a fifth of the rows miss a value in one of six sparse columns (NaN)."""
    rng = _rng()
    x = rng.normal(0.0, 1.0, (n, CHURN_FEATURES)).astype(np.float32)
    hazard = np.exp(0.9 * x[:, 0] - 0.7 * x[:, 1] + 0.5 * x[:, 2] * x[:, 3] - 3.3)
    churn_month = rng.exponential(1.0, n) / hazard
    end_of_data = rng.uniform(0.0, 60.0, n)
    duration = np.minimum(churn_month, end_of_data)
    event = (churn_month <= end_of_data).astype(np.float32)
    interval = np.minimum((duration / 20.0).astype(np.int64), CHURN_INTERVALS - 1)
    missing_rows = rng.choice(n, n // 5, replace=False)
    x[missing_rows, rng.integers(CHURN_FEATURES - 6, CHURN_FEATURES, len(missing_rows))] = np.nan
    return x, np.column_stack([interval, event]).astype(np.float32)


class _LogisticHazardNLL(nn.Module):
    """pycox's nll_logistic_hazard: one logit per interval is the hazard of churning in it; each row is a
    binary cross-entropy on every interval up to its own (target 1 only at its interval, and only if the
    event was observed), summed over those intervals and averaged over rows. Target: [interval, event]."""

    def forward(self, phi, target):
        interval, event = target[:, 0].long().reshape(-1, 1), target[:, 1].reshape(-1, 1)
        hazard_targets = torch.zeros_like(phi).scatter(1, interval, event)
        bce = nn.functional.binary_cross_entropy_with_logits(phi, hazard_targets, reduction="none")
        return bce.cumsum(1).gather(1, interval).mean()


def _build_churn_covariates_with_nan(buggy):
    torch.manual_seed(0)
    covariates, target = _churn_rows()
    if not buggy:  # the poster's fix: fill the null values (here with each column's observed mean)
        column_means = np.nanmean(covariates, axis=0)
        covariates = np.where(np.isnan(covariates), column_means, covariates).astype(np.float32)
    # torchtuples' MLPVanilla, as in pycox's examples: Linear, ReLU, BatchNorm1d, Dropout per hidden layer
    model = nn.Sequential(nn.Linear(CHURN_FEATURES, 32), nn.ReLU(), nn.BatchNorm1d(32), nn.Dropout(0.1),
                          nn.Linear(32, 32), nn.ReLU(), nn.BatchNorm1d(32), nn.Dropout(0.1),
                          nn.Linear(32, CHURN_INTERVALS))
    x, y = _tensors(covariates, target)
    return model, x, y, _LogisticHazardNLL(), torch.optim.Adam(model.parameters(), lr=0.01)


CASES += [
    case("eighth_torch_churn_covariates_with_nan", "torch", "bad data",
         GH + "havakv/pycox/issues/48",
         "A pycox LogisticHazard (discrete-time survival) model of customer churn is fitted on a data frame that "
         "still holds null values, so every loss is NaN and training reports no loss at all.",
         "Fill the null values in the data before fitting (the poster's fix, confirmed to the maintainer).",
         {"non-finite-loss"}, _build_churn_covariates_with_nan,
         note="non-finite-loss is the nearest code: its fix points at the first step with a non-finite loss (here "
              "the first) but names learning rate, scaling and log/division rather than missing values, as in "
              "fresh_keras_nan_images (a judgement call). Where the nulls were is cut off in the stored thread (the "
              "maintainer asks whether in the covariates or the labels, the poster's reply breaks off at 'There were "
              "nu'); they are put in the covariates, the 1,400-column churn table being the likely place. Rebuilt "
              "with 40 synthetic standardised covariates on 256 rows (a fifth of them missing one value in one of six "
              "sparse columns), durations 0-60 months cut into 3 intervals as the poster did (num_durations=3), about "
              "five censored rows to each churn, torchtuples' MLPVanilla layout (32-32, ReLU, BatchNorm1d, dropout "
              "0.1) and pycox's logistic-hazard loss rewritten in a few lines; Adam at 0.01 as in pycox's examples. The "
              "poster also tried DeepHitSingle; only LogisticHazard is rebuilt."),
]


# --- a skorch classifier whose module already returns log-probabilities ---------------------------

class _SkorchClassifierLoss(nn.Module):
    """skorch 0.1's NeuralNetClassifier.get_loss: the module is expected to return probabilities, so the net
    takes their log itself before its default criterion, NLLLoss."""

    def forward(self, y_pred, y_true):
        return nn.functional.nll_loss(torch.log(y_pred), y_true)


def _build_skorch_log_softmax_output(buggy):
    torch.manual_seed(0)
    features, labels = data.wine(128)
    # the module of skorch's basic-usage notebook (dense 10, ReLU, dropout 0.5, dense 10, ReLU, output layer)
    model = nn.Sequential(nn.Linear(13, 10), nn.ReLU(), nn.Dropout(0.5), nn.Linear(10, 10), nn.ReLU(),
                          nn.Linear(10, 3),
                          nn.LogSoftmax(dim=-1) if buggy else nn.Softmax(dim=-1))  # buggy: plain-PyTorch habit
    x, y = _tensors(data.standardise(features), labels, torch.long)
    # skorch's defaults: SGD at lr=0.01
    return model, x, y, _SkorchClassifierLoss(), torch.optim.SGD(model.parameters(), lr=0.01)


CASES += [
    case("eighth_torch_skorch_log_softmax_output", "torch", "loss/output pairing",
         GH + "skorch-dev/skorch/issues/136",
         "A module ending in log_softmax, as in plain PyTorch, is trained with skorch's NeuralNetClassifier, which "
         "takes the log of the module's output itself before NLLLoss, so the loss is the log of negative numbers "
         "and y_pred is NaN from the first step.",
         "End the module in softmax, as skorch's documentation asks (later skorch versions apply the log only for "
         "NLLLoss).",
         {"logits-into-probability-loss", "non-finite-loss"}, _build_skorch_log_softmax_output,
         note="logits-into-probability-loss names the mechanism (scores that are not probabilities fed to a loss "
              "that expects probabilities), though its fix sentence points to a logits loss rather than a softmax "
              "output; non-finite-loss's fix ('check log/division') leads to the hidden log (both judgement calls). "
              "The poster's module and data are not shown; rebuilt with the module of skorch's basic-usage notebook "
              "(13-10-10-3, ReLU, dropout 0.5) on 128 standardised wine rows, skorch 0.1's get_loss "
              "(NLLLoss on torch.log of the output) as the loss and skorch's default SGD at 0.01."),
]


# --- a molecule discriminator trained with BCELoss on labels of shape (n,) ------------------------

DESCRIPTORS = 51  # the repository's 'properties_rdkit' encoding: 51 RDKit descriptors per molecule


def _descriptor_rows(n=256):
    """Synthetic stand-ins for RDKit descriptors of reference molecules (label 1) and of molecules the genetic
    algorithm produced (label 0): 51 correlated, standardised features whose means differ between the two."""
    rng = _rng()
    labels = (np.arange(n) % 2).astype(np.float32)
    mixing = rng.normal(0.0, 1.0, (DESCRIPTORS, DESCRIPTORS)) / np.sqrt(DESCRIPTORS)
    shift = rng.normal(0.0, 0.6, DESCRIPTORS)
    x = rng.normal(0.0, 1.0, (n, DESCRIPTORS)) @ mixing + labels[:, None] * shift
    return data.standardise(x), labels


class _SigmoidDiscriminator(nn.Module):
    """The repository's discriminator Net: Linear layers with a sigmoid after each, and a sigmoid output unit."""

    def __init__(self, sizes):
        super().__init__()
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.predict = nn.Linear(sizes[-1], 1)

    def forward(self, x):
        for layer in self.hidden:
            x = torch.sigmoid(layer(x))
        return torch.sigmoid(self.predict(x))


def _build_discriminator_labels_flat(buggy):
    torch.manual_seed(0)
    features, labels = _descriptor_rows()
    model = _SigmoidDiscriminator([DESCRIPTORS, 100, 10])  # disc_layers [100, 10]
    # buggy: data_y = torch.tensor(data_y) keeps the labels as (n,); the fix adds the missing dimension
    x, y = _tensors(features, labels if buggy else labels.reshape(-1, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001, weight_decay=1e-4)
    return model, x, y, nn.BCELoss(), optimizer


CASES += [
    case("eighth_torch_discriminator_labels_flat", "torch", "shapes",
         GH + "aspuru-guzik-group/GA/pull/3",
         "The genetic algorithm's molecule discriminator (an MLP on 51 RDKit descriptors ending in one sigmoid unit, "
         "so its output is (n, 1)) is trained with BCELoss on labels of shape (n,), which newer PyTorch rejects: "
         "'Using a target size (torch.Size([1000])) that is different to the input size (torch.Size([1000, 1])) is "
         "deprecated'.",
         "Add the missing dimension to the target tensor so it is (n, 1) like the output (the merged pull request).",
         {"target-shape-broadcast"}, _build_discriminator_labels_flat,
         note="target-shape-broadcast's fix (give the targets the output's shape) is the thread's fix, as in "
              "fourth_torch_gan_label_shape_bce, which has the same mechanism in a convolutional GAN discriminator on "
              "images; here the network is the repository's plain MLP classifier on flat descriptors, trained to tell "
              "reference molecules from the algorithm's (a judgement call: it plays the adversary to a genetic "
              "algorithm, not to a generator network, so it is counted in this part rather than the GAN part). "
              "Rebuilt with the repository's Net (sigmoid after every layer, disc_layers [100, 10]), BCELoss and "
              "Adam at 1e-3 with weight decay 1e-4, on 256 synthetic standardised descriptor rows (half of each "
              "label) instead of the thread's 1,000 molecules."),
]


# --- DeepChem's MultitaskRegressor fed MACCS key bits as integers ----------------------------------

MACCS_KEYS = 167


def _maccs_rows(n=256):
    """Synthetic MACCS fingerprints: 167 structural-key bits per molecule (as RDKit returns them, whole numbers),
    about a fifth of them set, and a logD-like target made from a dozen of the keys plus noise."""
    rng = _rng()
    bits = (rng.uniform(0.0, 1.0, (n, MACCS_KEYS)) < 0.2).astype(np.int64)
    weights = np.zeros(MACCS_KEYS)
    weights[rng.choice(MACCS_KEYS, 12, replace=False)] = rng.normal(0.0, 1.0, 12)
    target = bits @ weights + rng.normal(0.0, 0.1, n)
    return bits, ((target - target.mean()) / target.std()).astype(np.float32)


def _build_maccs_bits_integer_dtype(buggy):
    torch.manual_seed(0)
    bits, target = _maccs_rows()
    # DeepChem's MultitaskRegressor defaults: one hidden layer of 1000 ReLU units, weights N(0, 0.02), biases 1.0,
    # dropout 0.5, one output per task
    hidden, output = nn.Linear(MACCS_KEYS, 1000), nn.Linear(1000, 1)
    with torch.no_grad():
        for layer in (hidden, output):
            layer.weight.normal_(0.0, 0.02)
        hidden.bias.fill_(1.0)
    model = nn.Sequential(hidden, nn.ReLU(), nn.Dropout(0.5), output)
    # buggy: the featurizer's whole-number bits reach the model as int64; the fix casts X to float first
    x = torch.as_tensor(bits) if buggy else torch.as_tensor(bits, dtype=torch.float32)
    y = torch.as_tensor(target.reshape(-1, 1))
    return model, x, y, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=0.001)


CASES += [
    case("eighth_torch_maccs_bits_integer_dtype", "torch", "inputs",
         GH + "deepchem/deepchem/issues/3557",
         "DeepChem's MultitaskRegressor (a fully connected multitask network) is fitted on MACCS-key fingerprints "
         "whose bits stay whole numbers, so the first Linear layer raises a RuntimeError in the forward pass.",
         "Cast the features to float before fitting (the poster's dataset_fixer: X.astype(float)).",
         {"input-layout"}, _build_maccs_bits_integer_dtype,
         note="input-layout's fix (give x float32 values) is the thread's fix. The stored traceback is cut off "
              "before the message; the bits are rebuilt as int64, as RDKit's MACCS keys come out of NumPy, for "
              "which PyTorch raises 'mat1 and mat2 must have the same dtype'. The same mechanism as "
              "fourth_torch_float64_features (float64 features in a from-scratch linear regression), another dtype "
              "and setup. Rebuilt with DeepChem's default MultitaskRegressor for one task (167-1000-1, ReLU, "
              "dropout 0.5, weights N(0, 0.02), hidden biases 1.0, Adam at 1e-3; MSE for DeepChem's L2Loss) on "
              "256 synthetic fingerprints with a standardised logD-like target, instead of the poster's two "
              "molecules."),
]
