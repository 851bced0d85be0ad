"""Low-level TensorFlow building blocks, one module per idea (no Keras):

- `init`: initialisers; `layers`: dense layers and activations; `losses`; `mlp`: stacked-population MLPs;
- `norms`: batch, layer, group, RMS and weight normalisation, batch renormalisation;
- `normalized_mlp`: the BN study's network; `conv`: the ReLU MLP and CNN of bn-practice;
- `optim`: SGD, momentum, Adam over stacked parameters; `train`: the compiled population trainer;
- `playground`: TensorFlow Playground's network and training rule; `population`: member <-> cell bookkeeping;
- `jacobians`: layer Jacobians and gradient norms.

Import a name from the module that defines it, e.g. `from replab.nn.train import fit`.
"""

from replab.quiet import install_hook

install_hook()  # TensorFlow's start-up lines stay off the terminal and out of notebooks
