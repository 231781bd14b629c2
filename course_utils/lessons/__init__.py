"""One module per lesson: that lesson's data and the plumbing its notebook would otherwise carry.

    missing_zero_grad       lessons/01_missing_zero_grad.ipynb: the run's record (Run), its figures, the panel wiring
    linear_convs            lessons/02_linear_convs.ipynb and its lab: windows of a slowly varying series
    dying_relu              lessons/03_dying_relu.ipynb and its lab: bump signals, pre-activations
    tiny_data               lessons/04_tiny_data.ipynb and its lab: the forum's 30 points
    batchnorm_batch_of_one  lessons/05_batchnorm_batch_of_one.ipynb and its lab: exactly-zero gradients, the decoder's
                            retrainer and its run record, the comparison table, the panel wiring
    loss_and_output_disagree  lessons/07_loss_and_output_disagree.ipynb and its lab: the forum's data, the family
                            of output/loss mismatches, their table, the panel wiring
    weights_never_move      lessons/08_weights_never_move.ipynb and its lab: made-up names, the asker's RNN, the
                            family of loops that never move the weights, the panel wiring

A lesson's module may use the engine (the rest of course_utils); the engine never imports
a lesson's module (tests/test_layout.py holds that rule), so changing one lesson's module
can break only that lesson, its lab and its check.
"""
