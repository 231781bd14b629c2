"""How many optimizer steps each twin's original program takes, where it is known.

``python -m benchmarks.real_bugs --program-steps`` gives these to diagnose as ``train_steps``. The first six were
read from the records as they stood before diagnose had a ``train_steps`` (bug, fix and note sentences, builder
comments, the README's entries), by readers who did not see the detectors, under one rule: steps = epochs x
ceil(rows / batch size), or the steps the record gives; the original program's rows, not the rebuild's; Keras's
default batch of 32 for a ``fit`` with none stated. A fixed twin has the buggy twin's number when its fix, as
recorded, changes neither the epochs, the batch size nor the rows. The held-out set's were read from its
programs (below). Every case not listed has no known length. The readers' notes are in the README, "The
program's length".
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

# The held-out set's programs are kept in DeepLocalize's benchmark (Benchmark/StackOverflow/<post id>/, buggy and
# fixed), so their lengths were read from the programs themselves, for every case, by a reader who did not see
# the detectors (the README, "The program's length"): epochs x ceil(training rows / batch size) of each twin's own
# program, the rows counted from its data or its data set's training split. so_45337371 is left out: neither of
# its programs trains.
PROGRAM_STEPS |= {
    "so_31556268_xor_mae_slow_sgd": (1000, 10000),
    "so_31627380_titanic_two_unit_softmax": (1780, 1780),
    "so_31880720_one_unit_softmax_constant_rows": (60000, 60000),
    "so_33969059_one_unit_softmax_regression": (62500, 62500),
    "so_34311586_xor_one_unit_softmax": (20, 20000),
    "so_34673164_county_features_softmax_mse": (20, 20),
    "so_38648195_multilabel_softmax_mse": (48000, 48000),
    "so_39217567_sigmoid_stack_mse_bits": (6000, 256000),
    "so_39525358_unscaled_offset_features": (1950, 300),
    "so_44066044_ip_address_features_relu_output": (500, 500),
    "so_44164749_mnist_softmax_to_sigmoid": (150, 150),
    "so_45442843_unscaled_feature_one_unit_softmax": (400, 400),
    "so_47352366_relu_output_categorical_cnn": (600, 600),
    "so_47724077_adult_adam_vs_sgd": (16300, 16300),
    "so_48221692_sigmoid_output_regression": (1000, 1000),
    "so_48251943_relu_output_negative_target": (100, 1000),
    "so_48385830_linear_stack_mse_lr3": (180000, 180000),
    "so_48594888_unscaled_cifar_pixels": (500, 500),
    "so_48934338_sgd_lr_0_1_regression": (2000, 2000),
    "so_50079585_three_classes_one_sigmoid": (610, 610),
    "so_50306988_two_unit_softmax_few_epochs": (35, 650),
    "so_50481178_sigmoid_to_two_unit_softmax": (3600, 3600),
    "so_51930566_iris_sigmoid_categorical": (750, 750),
    "so_52800582_unscaled_quartic": (1000, 100000),
    "so_55328966_raw_pixels_sigmoid_categorical": (1570, 1570),
    "so_58609115_multi_hot_softmax_huge_input": (36, 360),
    "so_59278771_iris_sigmoid_categorical": (6000, 10000),
    "so_59325381_labels_divided_by_255": (3750, 18750),
}
