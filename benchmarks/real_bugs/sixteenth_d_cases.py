"""Sixteenth held-out set, part d: real faults from Humbatova et al.'s taxonomy of real faults in deep learning
systems (Stack Overflow posts and GitHub commits or issues), each rebuilt as (buggy, fixed) twins, for one
measurement.

The entries were taken in a fixed shuffled order (`fifteenth_frame.txt`, entries 78-84) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Sixteenth held-out
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


# --- entry 82: empty sentences from runs of blank lines reach a packed BiLSTM tagger (flair issue 33) -------------

class _PackedBiLSTMTagger(nn.Module):
    """The shape of flair's SequenceTagger (mid-2018) without the CRF: word vectors, a relearning Linear
    (``embedding2nn``), a bidirectional LSTM run over a packed batch built from each sentence's length, and a Linear to
    tag scores. Token id 0 is padding, so a sentence's length is its count of non-zero ids."""

    def __init__(self, vocab, tags, dim=32, hidden=32):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim, padding_idx=0)
        self.embedding2nn = nn.Linear(dim, dim)
        self.rnn = nn.LSTM(dim, hidden, bidirectional=True, batch_first=True)
        self.linear = nn.Linear(2 * hidden, tags)

    def forward(self, x):
        steps = x.shape[1]
        lengths = (x != 0).sum(dim=1).cpu()  # flair: lengths.append(len(sentence.tokens))
        h = self.embedding2nn(self.embed(x))
        # an empty sentence has length 0, and packing refuses it: the error of the issue, in the forward pass
        packed = nn.utils.rnn.pack_padded_sequence(h, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=steps)
        return self.linear(out).transpose(1, 2)  # (batch, tags, time) for a per-token cross-entropy


def _tagged_sentences(n=128, vocab=60, longest=12, entity_words=10):
    """``n`` sentences of 3..``longest`` token ids (1..vocab-1; 0 pads) with BIO-style tags: ids below
    ``entity_words`` are entity words, tagged 1 (begin) after a non-entity word and 2 (inside) after an entity word,
    other words 0. Padding positions carry the target -100, which the loss ignores."""
    rng = _rng()
    x = np.zeros((n, longest), dtype=np.int64)
    y = np.full((n, longest), -100, dtype=np.int64)
    for i in range(n):
        length = int(rng.integers(3, longest + 1))
        words = rng.integers(1, vocab, length)
        words[rng.random(length) < 0.3] = rng.integers(1, entity_words, 1)[0]
        x[i, :length] = words
        entity = words < entity_words
        y[i, :length] = np.where(entity, np.where(np.r_[False, entity[:-1]], 2, 1), 0)
    return x, y


def _build_torch_flair_empty_sentences_packed_lstm(buggy):
    torch.manual_seed(0)
    x, y = _tagged_sentences()
    if buggy:
        # the reader appended a Sentence at every blank line, so each run of blank lines in the CoNLL file left an
        # empty sentence (length 0) in the training data; here four such runs, at fixed places in the corpus
        for at in (100, 64, 31, 7):
            x = np.insert(x, at, 0, axis=0)
            y = np.insert(y, at, -100, axis=0)
    model = _PackedBiLSTMTagger(vocab=60, tags=3)
    return (model, torch.as_tensor(x), torch.as_tensor(y), nn.CrossEntropyLoss(ignore_index=-100),
            torch.optim.SGD(model.parameters(), lr=0.1))


CASES = [
    case("sixteenth_torch_flair_empty_sentences_packed_lstm", "torch", "data / empty samples",
         "https://github.com/zalandoresearch/flair/issues/33",
         "The CoNLL reader starts a new sentence at every blank line, so runs of blank lines put sentences with no "
         "tokens into the training data, and the tagger's forward pass, which packs its batch by sentence lengths "
         "for the bidirectional LSTM, fails on a length of zero.",
         "Skip empty sentences when reading the corpus (append a sentence only when it has tokens), so every "
         "training sample has at least one token.",
         set(), _build_torch_flair_empty_sentences_packed_lstm,
         note="Outside what diagnose can see as a catalogued fault: no code's fix leads to dropping samples of length "
              "zero (input-layout's fix is about a reshape, transpose or cast of x, which would not make these samples "
              "valid); the error itself is in plain sight at the first forward pass. "
              "Source: the issue thread (search, corpus issues: flairNLP/flair#33, 'Length of all samples has to be "
              "greater than 0' raised by pack_padded_sequence in the tagger's forward during trainer.train, on a user's "
              "NER files) and its fix in the zalandoresearch/flair mirror, commit 41816378 ('GH-33: fixed data fetcher "
              "to check for empty sentences'), which appends a sentence at a blank line only when it has tokens in "
              "every CoNLL reader and adds three extra blank lines to a test corpus (a later commit, ce6b417f, adds a "
              "filter for empty sentences to Corpus). The model read from the parent's "
              "flair/models/sequence_tagger_model.py. Taxonomy tag: missing preprocessing step (empty lines not "
              "removed), 5.4.1 Training. Judgement call on rule 1: the fix sits in the corpus reader, but what it "
              "changes is the data as the model gets it (a sample with no tokens), and the failure is in the model's "
              "forward pass during training, so the entry is taken; flair is a large NLP library, but the bug sits in "
              "its tagger's data and is rebuilt with the same mechanism (pack_padded_sequence on per-sentence lengths). "
              "Kept: word vectors, the relearning Linear embedding2nn, a one-layer bidirectional LSTM over a batch "
              "packed by sentence lengths and unpacked again, a Linear to tag scores, plain SGD at lr 0.1 (the "
              "trainer's default), several empty sentences in the corpus. Changed: 128 synthetic sentences of 3-12 "
              "token ids (a vocabulary of 60, 0 for padding) with three BIO-style tags instead of CoNLL NER files with "
              "GloVe vectors; a trainable nn.Embedding instead of fixed GloVe embeddings; the softmax path "
              "(use_crf=False, per-token cross-entropy with padding ignored) instead of the CRF; no locked dropout; "
              "batch-first tensors and enforce_sorted=False instead of sorting the batch by length and time-major "
              "tensors; the length is counted from the padding id rather than from the Sentence objects; four empty "
              "sentences among 132 rows in the buggy twin. In current PyTorch the error is a RuntimeError with the "
              "same message (a ValueError in the PyTorch 0.4 of the issue)."),
]
