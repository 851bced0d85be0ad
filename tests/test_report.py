import re

import pytest

from replab.errors import UserError
from replab.report import build_report
from replab.runs import save_run
from tests.helpers import TinyConfig, tiny_result

HOSTILE = '<script>alert("x")</script>&<img src=x onerror=alert(1)>'


def test_report_embeds_figures_and_lists_every_claim(tmp_path):
    save_run(tmp_path, "tiny", "Tiny", "Is it tiny?", TinyConfig(), tiny_result(), wall_time_s=1.0)
    html = build_report(tmp_path).read_text()
    assert html.count("data:image/png;base64,") == 1
    assert "statement plain" in html and "evidence plain" in html and "note plain" in html
    assert 'class="verdict holds"' in html
    assert "Is it tiny?" in html
    assert "1.235" in html  # floats are shown rounded


def test_report_uses_the_newest_run(tmp_path):
    save_run(tmp_path, "tiny", "Tiny", "q", TinyConfig(label="old"), tiny_result("old"), wall_time_s=1.0)
    save_run(tmp_path, "tiny", "Tiny", "q", TinyConfig(label="new"), tiny_result("new"), wall_time_s=1.0)
    html = build_report(tmp_path).read_text()
    assert "statement new" in html and "statement old" not in html


def test_every_string_from_config_and_result_is_escaped(tmp_path):
    save_run(tmp_path, "tiny", HOSTILE, HOSTILE, TinyConfig(label=HOSTILE), tiny_result(HOSTILE), wall_time_s=1.0)
    html = build_report(tmp_path).read_text()
    assert "<script" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;" in html
    # only the report's own tags remain: every <img> is an embedded figure
    assert all(tag.startswith('<img src="data:image/png;base64,') for tag in re.findall(r"<img[^>]*>", html))


def test_report_without_runs_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no complete runs"):
        build_report(tmp_path)
