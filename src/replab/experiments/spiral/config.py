"""The spiral experiment's settings, for the package's own modules: they live in replab.experiments.spiral_config,
outside this package, so that they load without the search engine and TensorFlow."""

from replab.experiments.spiral_config import (MAX_REPLICATES, MAX_SEEDS, N_POINTS, PAPER,  # noqa: F401
                                              PLAYGROUND_ACTIVATIONS, PLAYGROUND_MAX_BATCH, PLAYGROUND_MAX_LAYERS,
                                              PLAYGROUND_MAX_NEURONS, PLAYGROUND_URL, REGULARIZATIONS,
                                              REPLICATE_SEED_OFFSET, TRAIN_RATIO, Config, feature_keys,
                                              feature_label, has_sine, layers_text)
