"""The gates figures: their fixed margins hold every text inside the figure without overlap, for any number of
gates."""

import matplotlib.text
import pytest

from replab.experiments import gates
from replab.experiments.gates.config import GATES


def visible_text_boxes(figure):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    texts = [text for text in figure.findobj(matplotlib.text.Text) if text.get_visible() and text.get_text().strip()]
    return [(text.get_text(), text.get_window_extent(renderer)) for text in texts]


@pytest.mark.slow
@pytest.mark.parametrize("gate_names", [GATES, ("AND",), ("XOR", "AND", "OR", "NOR")])
def test_figures_fixed_margins_hold_every_text_without_overlap(gate_names):
    """Both figures place their panels in fixed margins (no layout engine): every title, tick and axis label and
    the suptitle must lie inside the figure, and no two of them may overlap, for any number of gates."""
    result = gates.run(gates.Config(gates=tuple(gate_names), grid_resolution=5))
    for name, figure in result.figures.items():
        boxes = visible_text_boxes(figure)
        frame = figure.bbox
        for text, box in boxes:
            assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, (name, text)
        for i, (text_a, a) in enumerate(boxes):
            for text_b, b in boxes[i + 1:]:
                assert not a.overlaps(b), (name, text_a, text_b)
