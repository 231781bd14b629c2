"""How many optimizer steps each twin's original program takes, where the case's record says so.

``python -m benchmarks.real_bugs --program-steps`` gives these to diagnose as ``train_steps``. They were read from
the records as they stood before diagnose had a ``train_steps`` (bug, fix and note sentences, builder comments,
the README's entries), by readers who did not see the detectors, under one rule: steps = epochs x
ceil(rows / batch size), or the steps the record gives; the original program's rows, not the rebuild's; Keras's
default batch of 32 for a ``fit`` with none stated. A fixed twin has the buggy twin's number when its fix, as
recorded, changes neither the epochs, the batch size nor the rows. Every case not listed states no length.
The readers' notes are in the README, "The program's length".
"""

PROGRAM_STEPS = {  # case: (buggy twin, fixed twin)
    # "Adam at 1e-2 instead of 1e-4 so that 300 steps do what the subject's 50,000 do"
    "ninth_torch_line_fit_target_broadcast": (50_000, 50_000),
    # "The program trains 200 epochs of three mini-batches (600 steps)"
    "tenth_keras_linear_fit_rmsprop_default_rate": (600, 600),
    # "130 training rows"; "The poster's fit ran one epoch (Keras's default)": 1 x ceil(130 / 32)
    "eleventh_keras_ecg_relu_output_categorical": (5, 5),
    # "MNIST's 60,000 28x28 images ... for 5 epochs": 5 x ceil(60000 / 32)
    "twelfth_keras_conv_dense_missing_flatten": (9375, 9375),
    # "the program ran 20 epochs of 210 batches (4200 steps)"
    "twelfth_keras_age_classifier_adam_lr_100": (4200, 4200),
    # "after 1000 epochs it predicts 1.009", on "the question's single sample"
    "sixth_keras_mae_rmsprop_far_target": (1000, 1000),
}
