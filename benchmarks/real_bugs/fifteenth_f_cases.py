"""Fifteenth held-out set, part f: real faults from Humbatova et al.'s taxonomy of real faults in deep learning
systems (Stack Overflow posts and GitHub commits or issues), each rebuilt as (buggy, fixed) twins, for one
measurement.

The entries were taken in a fixed shuffled order (`fifteenth_frame.txt`, entries 36-42) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Fifteenth held-out
set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from . import case
from .fresh_cases import _rng


# --- entry 36: a document LSTM whose per-sentence embeddings gain an extra axis, so the classifier's scores are
# (n, 1, classes) against one class index per sentence (flair commit 2469483, PyTorch) -----------------------------

def _sentences(n=128, steps=12, width=100, classes=2):
    """``n`` sentences of ``steps`` token vectors of ``width`` values (the program's 100-wide GloVe word embeddings,
    as flair hands them to the document LSTM) and one class per sentence (the program's IMDB test: two classes).
    Every token is noise; three tokens of each sentence, at random places, are a word vector of the sentence's
    class (a "sentiment word"), plus noise."""
    rng = _rng()
    labels = rng.integers(0, classes, n)
    words = rng.normal(size=(classes, width))
    x = 0.5 * rng.normal(size=(n, steps, width))
    for i in range(n):
        places = rng.choice(steps, size=3, replace=False)
        x[i, places] += words[labels[i]]
    return x.astype(np.float32), labels.astype(np.int64)


class _DocumentRNNClassifier(nn.Module):
    """flair's TextClassifier over DocumentLSTMEmbeddings at the commit's parent (buggy) or the commit (fixed), in the
    configuration of its test: hidden_states=128, one layer, no word reprojection, not bidirectional, single label.
    The token embeddings are stacked time-major, as the embeddings class does, go through dropout 0.5, the RNN and
    dropout 0.5 again; each sentence's output at its last token is its embedding, and a linear decoder (Xavier
    initialised) gives the label scores."""

    def __init__(self, buggy, width=100, hidden=128, classes=2):
        super().__init__()
        self.buggy = buggy
        # the commit also swaps the document RNN from an LSTM to a GRU (the taxonomy's tag, "wrong selection of model")
        self.rnn = nn.LSTM(width, hidden) if buggy else nn.GRU(width, hidden)
        self.dropout = nn.Dropout(0.5)
        self.decoder = nn.Linear(hidden, classes)
        nn.init.xavier_uniform_(self.decoder.weight)

    def forward(self, x):
        sentence_tensor = self.dropout(x.transpose(0, 1))  # (steps, n, width): flair's time-major batch
        outputs, _ = self.rnn(sentence_tensor)
        outputs = self.dropout(outputs)
        # every sentence here has all its tokens, so its last representation is the last step's; flair stores it as
        # a (1, hidden) row per sentence (outputs[length - 1, sentence_no].unsqueeze(0))
        embeddings = outputs[-1].unsqueeze(1)  # (n, 1, hidden): one (1, hidden) row per sentence
        if self.buggy:
            # the bug: the classifier unsqueezes each (1, hidden) sentence embedding again before concatenating, so
            # the batch is (n, 1, hidden) and the scores (n, 1, classes)
            text_embedding_tensor = embeddings.unsqueeze(1).flatten(0, 1)  # cat of (1, 1, hidden) rows
        else:
            # the commit: concatenate the (1, hidden) rows as they are, giving (n, hidden)
            text_embedding_tensor = embeddings.flatten(0, 1)
        return self.decoder(text_embedding_tensor)


def _build_torch_flair_document_lstm_extra_axis(buggy):
    torch.manual_seed(0)
    x, labels = _sentences()
    model = _DocumentRNNClassifier(buggy)
    # single-label loss as in the program (CrossEntropyLoss on label indices); flair's trainer uses plain SGD at 0.1
    return (model, torch.as_tensor(x), torch.as_tensor(labels), nn.CrossEntropyLoss(),
            torch.optim.SGD(model.parameters(), lr=0.1))


CASES = [
    case("fifteenth_torch_flair_document_lstm_extra_axis", "torch", "output / target shape",
         "https://github.com/zalandoresearch/flair/commit/2469483",
         "A text classifier built on a document LSTM stores each sentence's embedding as a (1, hidden) row and then "
         "adds another axis to every row before concatenating them, so its label scores come out (n, 1, classes) "
         "and the single-label cross-entropy, given one class index per sentence, fails on the shapes.",
         "Concatenate the sentence embeddings without the extra unsqueeze so the scores are (n, classes); the same "
         "commit also replaces the document LSTM with a GRU.",
         {"target-shape-broadcast"}, _build_torch_flair_document_lstm_extra_axis,
         note="Read from the repository snapshot (fetch github:zalandoresearch/flair): git show 2469483 (\"GH20: Fix "
              "bug in single label training\") and its parent's flair/embeddings.py, "
              "flair/models/text_classification_model.py, flair/data.py and "
              "flair/trainers/text_classification_trainer.py; the extra axis came in with the parent commit "
              "853ce335 (first/last representation option). Taxonomy tag: wrong selection of model (1.1 Model), "
              "which names the commit's swap of torch.nn.LSTM for torch.nn.GRU; the failure the commit fixes in "
              "single-label training is the (n, 1, classes) scores against (n,) label indices in "
              "nn.CrossEntropyLoss. Both twins follow the commit as a whole: buggy = parent (LSTM, extra axis), "
              "fixed = commit (GRU, no extra axis). Kept: the test's configuration (hidden_states 128, one layer, "
              "no word reprojection, not bidirectional, single label, two classes as IMDB), 100-wide token "
              "vectors (GloVe's width), the time-major stacking, dropout 0.5 before and after the RNN, the last "
              "step's output as the sentence embedding, the Xavier-initialised linear decoder, CrossEntropyLoss "
              "on class indices, plain SGD at the trainer's default 0.1. Changed: 128 synthetic sentences of 12 "
              "token vectors (noise, with three tokens of each sentence set to a word vector of its class) instead "
              "of GloVe-embedded IMDB reviews; all sentences have the same length, so the packing "
              "(pack_padded_sequence / pad_packed_sequence) is left out and the last token's output is the last "
              "step's; the unused word-reprojection Linear (built but not called when reproject_words is False) is "
              "left out; the token embeddings are a batch-first tensor that forward() transposes to time-major, "
              "where flair's embed() stacks the sentences itself. expected is a judgement call: "
              "target-shape-broadcast's fix names output.squeeze(1), which is the repair (drop the extra axis of "
              "size 1 from the scores), though its title says the loss broadcasts where here the loss raises; no "
              "code's fix names choosing a GRU over an LSTM, so the tag's half of the commit has no code."),
]
