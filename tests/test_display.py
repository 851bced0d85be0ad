from replab.experiments.base import Table
from tests.helpers import TinyConfig, TinyExperiment


def test_results_claims_and_tables_have_html_reprs_built_by_the_report():
    result = TinyExperiment.run(TinyConfig(quick=True))
    html = result._repr_html_()
    assert "Smoke test" in html and "<h3>Findings</h3>" in html and "check holds" in html and "95% CI" in html
    assert 'class="verdict' in result.claims[0]._repr_html_()
    assert "<table>" in Table("t", ["a"], [[1.5]])._repr_html_()
    assert len(repr(result)) < 300 and "quick" in repr(result)
