"""Library code is low-level TensorFlow only: no Keras import or use anywhere under src/.

The word itself may appear (the MNIST loader looks in Keras' download cache), so the scan
looks for use. (A runtime check cannot help: `import tensorflow` itself loads the keras package.)
"""

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
KERAS_USE = re.compile(r"\b(import\s+keras|from\s+keras|tf\.keras|tensorflow\.keras|import\s+tf_keras|from\s+tf_keras)\b")


def test_no_keras_use_under_src():
    uses = [
        f"{path.relative_to(SRC)}:{number}: {line.strip()}"
        for path in sorted(SRC.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if KERAS_USE.search(line)
    ]
    assert not uses, "Keras is used under src/:\n" + "\n".join(uses)


def test_the_scan_catches_every_form_of_keras_use():
    for line in ("import keras", "from keras import layers", "model = tf.keras.Sequential()",
                 "from tensorflow.keras import optimizers", "import tf_keras as k"):
        assert KERAS_USE.search(line), line
    assert not KERAS_USE.search('path = Path("~/.keras") / "datasets"')
