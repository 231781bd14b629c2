"""Training: the course's fast loops and what lets a live panel retrain in a second.

    torch_loop    train_torch(): the textbook PyTorch loop, instruments sampled every k steps
    keras_loop    train_keras(): many Keras optimizer steps inside one compiled call
    cached_keras  CachedTrainer: one compiled Keras model per architecture, reset between runs
    retrain       MLPRetrainer and train_side_by_side(): many small Keras MLPs, several seeds at once

Nothing here imports a framework until one of these modules is imported:
``cu.train_torch`` and ``cu.train_keras`` load their loop on first use.
"""
