"""The Batch Normalization family: Figure 1 (`batchnorm`) and the six studies of `bn-study`, sharing one
normalised-MLP network (`replab.nn.normalized_mlp`) and one study harness (`study`)."""
