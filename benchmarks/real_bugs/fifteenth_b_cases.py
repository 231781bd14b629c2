"""Fifteenth held-out set, part b: real faults from Humbatova et al.'s taxonomy of real faults in deep learning
systems (Stack Overflow posts and GitHub commits or issues), each rebuilt as (buggy, fixed) twins, for one
measurement.

The entries were taken in a fixed shuffled order (`fifteenth_frame.txt`, entries 8-14) by someone who read only
diagnose's catalogue and never ran the detectors; the rule and the record are in the README, "Fifteenth held-out
set".

Every builder returns (model, x, y, loss, optimizer). ``expected`` was written from the catalogue's codes, titles
and fix sentences only, before any diagnose run.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import case
from .fresh_cases import _rng


# --- entry 10: ParlAI's seq2seq local attention sized for the embedding, fed the RNN's output (commit 1780c9f7) ------

class _LocalAttention(nn.Module):
    """ParlAI's AttentionLayer for attention type 'local' at attention time 'post': the scores over a fixed number of
    encoder positions come from one linear map of the decoder RNN's output joined with the last layer's hidden state;
    the weighted encoder outputs are then joined with the RNN's output and mapped back to the RNN's width."""

    def __init__(self, buggy, hidden_size, emb_size, attn_length):
        super().__init__()
        input_dim = hidden_size  # attention time 'post': the attention works on the RNN's output, not the embedding
        self.attn_combine = nn.Linear(hidden_size + input_dim, input_dim, bias=False)
        self.max_length = attn_length
        # the bug: the score layer is sized for the hidden state joined with the embedding (hsz + emb_size) although
        # at attention time 'post' it receives the hidden state joined with the RNN's output (hsz + hsz); the commit
        # sizes it hsz + input_dim
        width = hidden_size + (emb_size if buggy else input_dim)
        self.attn = nn.Linear(width, attn_length, bias=False)

    def forward(self, xes, hidden, enc_out):
        last_hidden = hidden[0][-1]  # an LSTM's hidden state (not its cell), last layer: (batch, hsz)
        if enc_out.size(1) > self.max_length:
            enc_out = enc_out.narrow(1, enc_out.size(1) - self.max_length, self.max_length)
        h_merged = torch.cat((xes.squeeze(1), last_hidden), 1)
        attn_weights = F.softmax(self.attn(h_merged), dim=1)
        if attn_weights.size(1) > enc_out.size(1):
            attn_weights = attn_weights.narrow(1, 0, enc_out.size(1))
        attn_applied = torch.bmm(attn_weights.unsqueeze(1), enc_out)
        merged = torch.cat((xes.squeeze(1), attn_applied.squeeze(1)), 1)
        return torch.tanh(self.attn_combine(merged).unsqueeze(1))


class _LocalAttentionSeq2seq(nn.Module):
    """ParlAI's Seq2seq at the time of the commit, small: an LSTM encoder, an LSTM decoder fed one token per step
    (teacher forcing from a start token), local attention after the decoder RNN, then a projection from the hidden
    size to the embedding size and one to the vocabulary. ``x`` holds each sample's source tokens followed by its
    target tokens (ParlAI's model(xs, ys)); the output is (batch, vocabulary, target steps) scores."""

    def __init__(self, buggy, vocab, source_len, emb_size=16, hidden_size=32, num_layers=2, dropout=0.1,
                 attn_length=48, start_idx=1):
        super().__init__()
        self.source_len, self.start_idx = source_len, start_idx
        self.dropout = nn.Dropout(dropout)
        self.enc_lt = nn.Embedding(vocab, emb_size, padding_idx=0)
        self.enc_rnn = nn.LSTM(emb_size, hidden_size, num_layers, dropout=dropout, batch_first=True)
        self.dec_lt = nn.Embedding(vocab, emb_size, padding_idx=0)
        self.dec_rnn = nn.LSTM(emb_size, hidden_size, num_layers, dropout=dropout, batch_first=True)
        self.attention = _LocalAttention(buggy, hidden_size, emb_size, attn_length)
        self.o2e = nn.Linear(hidden_size, emb_size, bias=False)  # hidden size differs from the embedding size
        self.e2s = nn.Linear(emb_size, vocab, bias=False)

    def forward(self, x):
        xs, ys = x[:, :self.source_len], x[:, self.source_len:]
        enc_out, hidden = self.enc_rnn(self.dropout(self.enc_lt(xs)))
        starts = torch.full((x.size(0), 1), self.start_idx, dtype=x.dtype)
        dec_in = torch.cat([starts, ys[:, :-1]], 1)
        scores = []
        for i in range(ys.size(1)):  # with attention, ParlAI decodes one step at a time
            xes = self.dropout(self.dec_lt(dec_in[:, i:i + 1]))
            output, hidden = self.dec_rnn(xes, hidden)
            output = self.attention(output, hidden, enc_out)
            scores.append(self.dropout(self.e2s(self.o2e(output))))
        return torch.cat(scores, 1).transpose(1, 2)  # (batch, vocab, steps) for the per-token cross-entropy


def _build_torch_parlai_local_attention_post_size(buggy):
    torch.manual_seed(0)
    vocab, source_len, n = 12, 6, 128  # 0 = padding, 1 = start, 2 = end, tokens 3..11
    source = _rng().integers(3, vocab, (n, source_len))
    target = np.concatenate([source[:, ::-1], np.full((n, 1), 2)], axis=1)  # the source reversed, then the end token
    x = torch.as_tensor(np.concatenate([source, target], axis=1), dtype=torch.long)
    y = torch.as_tensor(target.copy(), dtype=torch.long)
    model = _LocalAttentionSeq2seq(buggy, vocab, source_len)
    # ParlAI's criterion: cross-entropy over the target tokens, ignoring padding, averaged per token; its default
    # optimizer: plain SGD at learning rate 1, no gradient clipping
    return model, x, y, nn.CrossEntropyLoss(ignore_index=0), torch.optim.SGD(model.parameters(), lr=1.0)


CASES = [
    case("fifteenth_torch_parlai_local_attention_post_size", "torch", "layer sizing",
         "https://github.com/facebookresearch/ParlAI/commit/1780c9f7",
         "A seq2seq decoder's local attention, applied after the decoder RNN, scores positions with a linear layer "
         "sized for the hidden state joined with the word embedding, but it is given the hidden state joined with "
         "the RNN's output, so the first decoding step fails with a size mismatch whenever the embedding and hidden "
         "sizes differ.",
         "Size the attention's score layer from what it receives: the hidden size plus the width of the attended "
         "input (the RNN's output at attention time 'post').",
         {"layer-size-mismatch"}, _build_torch_parlai_local_attention_post_size,
         note="Read from the commit's diff and its parent (fetch github:facebookresearch/ParlAI; git show 1780c9f7, "
              "parlai/agents/seq2seq/modules.py and seq2seq.py at 1780c9f7^), 'Fixed Seq2Seq local attention "
              "size-mismatch bug'; taxonomy tag 'wrong input sample size for linear layer' (1.2.2 Model). In "
              "AttentionLayer, input_dim is the embedding size at attention time 'pre' and the hidden size at "
              "'post' (the agent's default), but the local attention's nn.Linear took hsz + emb_size inputs; the "
              "commit makes it hsz + input_dim. Large project, taken because the bug sits in the model and the "
              "mechanism rebuilds at small scale. Kept: the AttentionLayer's local branch as written (the narrowing "
              "to attention_length 48 and to the encoder's length, softmax over positions, bmm with the encoder "
              "outputs, attn_combine and tanh), attention after the RNN, LSTM encoder and decoder of 2 layers with "
              "dropout 0.1, teacher forcing one step at a time from a start token, o2e (hidden -> embedding) and "
              "e2s (embedding -> vocabulary) without biases, cross-entropy ignoring index 0 averaged per token, "
              "plain SGD at learning rate 1 (the agent's defaults). Changed: embedding size 16 and hidden size 32 "
              "instead of the defaults 128 and 128 (the bug needs them to differ, as in the fixing author's "
              "settings; with equal sizes both layers agree); 128 synthetic pairs whose target is the 6-token "
              "source reversed plus an end token, over a 12-token vocabulary, instead of a ParlAI dialogue task; no "
              "padding, so no packed sequences and no attention mask (the local branch ignores the mask anyway); "
              "the source and target tokens travel together in x because the model takes ys for teacher forcing "
              "(ParlAI's model(xs, ys)); the scores are returned as (batch, vocab, steps) for the loss instead of "
              "ParlAI's view(-1, vocab), the same per-token average; separate encoder and decoder embeddings "
              "(lookuptable 'unique', the default). The buggy model is constructed without error and raises at "
              "the attention's linear layer in the first forward pass. layer-size-mismatch's fix (size the layer "
              "from the shape it really receives) is the commit's change."),
]
