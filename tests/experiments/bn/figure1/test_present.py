"""Figure 1's presentation (and the metrics beside it) from hand-built measurements, nothing trained."""

from replab.experiments.bn.figure1.present import present
from tests.experiments.bn.figure1.test_judge import CELLS, CONFIG, SEEDS, measurements, run


def test_presentation_and_metrics_from_hand_built_measurements():
    m = measurements(run(), run(dataset="fashion-mnist"), skipped=())
    presentation = present(CONFIG, m)
    assert set(presentation.figures) == set(presentation.captions) == {"test_accuracy", "sigmoid_input", "grid"}
    assert [t.title for t in presentation.tables] == ["Test accuracy at the paper-like cell against Figure 1(a)",
                                                      "The two readings side by side", "Every cell of the grid"]
    assert len(presentation.tables[2].rows) == 2 * len(CELLS) and len(presentation.tables[1].rows) == 4
    assert any("paper's regime is the cell lr 0.1, std 0.01" in note for note in presentation.notes)
    assert any("TRAINING mode" in note for note in presentation.notes)
    metrics = m.to_metrics()
    assert metrics["datasets"][0]["readings"]["paper"]["steps_to_target"]["baseline"] == [600] * SEEDS
    assert metrics["datasets"][0]["tuned_cells"] == {"baseline": 1, "bn": 1}
    skipped = present(CONFIG, measurements(run(), skipped=("Fashion-MNIST",)))
    assert skipped.notes[0] == "Fashion-MNIST skipped"
