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


def test_findings_and_checks_are_listed_apart_with_their_numbers_and_evidence_base(tmp_path):
    save_run(tmp_path, "tiny", "Tiny", "q", TinyConfig(), tiny_result(), wall_time_s=1.0)
    html = build_report(tmp_path).read_text()
    assert "<h3>Findings</h3>" in html and "<h3>Checks</h3>" in html
    assert "check holds" in html
    assert "1 of 2 datasets" in html and "Fashion-MNIST missing" in html
    assert "95% CI" in html and "p adj." in html and "one-sample t" in html
    assert 'href="#claim-tiny-tiny"' in html and 'id="claim-tiny-tiny"' in html
    assert "Benjamini–Hochberg" in html  # the rule, generated from the stats layer


def test_a_quick_run_never_replaces_a_full_run_and_is_badged_when_alone(tmp_path):
    from tests.helpers import TinyExperiment

    save_run(tmp_path, "tiny", "Tiny", "q", TinyConfig(quick=True), TinyExperiment.run(TinyConfig(quick=True)), 1.0)
    html = build_report(tmp_path).read_text()
    assert "smoke test" in html
    save_run(tmp_path, "tiny", "Tiny", "q", TinyConfig(label="full"), tiny_result("full"), wall_time_s=1.0)
    save_run(tmp_path, "tiny", "Tiny", "q", TinyConfig(quick=True, label="later"),
             TinyExperiment.run(TinyConfig(quick=True, label="later")), 1.0)
    html = build_report(tmp_path).read_text()
    assert "statement full" in html and "statement later" not in html and "badge smoke" not in html


def test_stability_after_replicate_is_shown(tmp_path):
    from replab.replication import replicate
    from tests.helpers import TinyExperiment

    save_run(tmp_path, "tiny", "Tiny", "q", TinyConfig(), replicate(TinyExperiment, TinyConfig(), 3), 1.0)
    html = build_report(tmp_path).read_text()
    assert "unstable 1/3" in html and "UNSTABLE" in html and "stable 3/3" in html


@pytest.mark.parametrize("content", [b"\xff\xfe not utf-8", b"[]", b"{}", b'{"name": "tiny", "claims": [{"id": null}]}',
                                     b"[" * 100000 + b"]" * 100000, b'{"name": "tiny", "figures": ["../../x"]}'])
def test_a_corrupt_run_is_skipped_with_a_warning_and_the_rest_is_built(tmp_path, content):
    good = save_run(tmp_path, "tiny", "Tiny", "q", TinyConfig(), tiny_result("good"), wall_time_s=1.0)
    bad = good.parent / "29990101T000000000000Z-badbad00"
    bad.mkdir()
    (bad / "config.json").write_text("{}")
    (bad / "result.json").write_bytes(content)
    warnings = []
    html = build_report(tmp_path, warn=warnings.append).read_text()
    assert "statement good" in html
    assert len(warnings) == 1 and str(bad) in warnings[0]


def test_a_result_json_that_is_a_directory_is_skipped(tmp_path):
    good = save_run(tmp_path, "tiny", "Tiny", "q", TinyConfig(), tiny_result("good"), wall_time_s=1.0)
    bad = good.parent / "29990101T000000000000Z-baddir00"
    (bad / "result.json").mkdir(parents=True)
    (bad / "config.json").write_text("{}")
    warnings = []
    assert "statement good" in build_report(tmp_path, warn=warnings.append).read_text()


def test_figures_are_compressed_lazily_decoded_and_linked_to_their_svg_relative_to_the_report(tmp_path):
    from replab.report import compress_png, png_size

    run = save_run(tmp_path, "tiny", "Tiny", "q", TinyConfig(), tiny_result(), wall_time_s=1.0)
    html = build_report(tmp_path).read_text()
    original = (run / "figures" / "line.png").read_bytes()
    assert len(compress_png(original)) < len(original) and png_size(compress_png(original)) == png_size(original)
    width, height = png_size(original)
    assert f'width="{width}" height="{height}" loading="lazy" decoding="async"' in html
    assert f'href="tiny/{run.name}/figures/line.svg"' in html
    assert compress_png(b"not a png") == b"not a png" and png_size(b"not a png") is None


def test_run_details_name_the_command_and_link_the_tensorboard_logs(tmp_path):
    run = save_run(tmp_path, "tiny", "Tiny", "q", TinyConfig(), tiny_result(), wall_time_s=1.0,
                   command=["replab", "run", "tiny"])
    html = build_report(tmp_path).read_text()
    assert "TensorBoard" not in html and "replab run tiny</code>" in html and f"replab rerun {run}" in html
    (run / "tensorboard").mkdir()
    html = build_report(tmp_path).read_text()
    assert f'<a class="logs" href="tiny/{run.name}/tensorboard">TensorBoard logs</a>' in html
    assert f"tensorboard --logdir {run / 'tensorboard'}" in html


def test_a_newer_quick_run_than_the_full_one_shown_is_named(tmp_path):
    from tests.helpers import TinyExperiment

    save_run(tmp_path, "tiny", "Tiny", "q", TinyConfig(label="full"), tiny_result("full"), wall_time_s=1.0)
    later = save_run(tmp_path, "tiny", "Tiny", "q", TinyConfig(quick=True, label="later"),
                     TinyExperiment.run(TinyConfig(quick=True, label="later")), 1.0)
    html = build_report(tmp_path).read_text()
    assert "statement full" in html and "1 newer smoke-test run is not shown" in html and later.name in html


def test_each_section_reads_question_claims_figures_then_folded_notes(tmp_path):
    save_run(tmp_path, "tiny", "Tiny", "Is it tiny?", TinyConfig(), tiny_result(), wall_time_s=1.0)
    html = build_report(tmp_path).read_text()
    section = html[html.index('<section id="exp-tiny">'):]
    order = [section.index(marker) for marker in
             ("Is it tiny?", "<h3>Findings</h3>", "<h3>Checks</h3>", "<figure>", "<summary>Notes (1)</summary>",
              "<summary>Run details", "<summary>Configuration</summary>")]
    assert order == sorted(order)


def test_a_close_call_is_shown_next_to_its_claim(tmp_path):
    import dataclasses

    from replab import stats
    from replab.claims import decide, finding

    rng = __import__("numpy").random.default_rng(0)
    for _ in range(500):
        claim = decide([finding("edge", "on the edge", effect="x", direction="greater",
                                tests=[stats.one_sample(rng.normal(0.45, 1.0, 20), "x")])])[0]
        if claim.close_call:
            break
    result = dataclasses.replace(tiny_result(), claims=[claim])
    save_run(tmp_path, "tiny", "Tiny", "q", TinyConfig(), result, wall_time_s=1.0)
    html = build_report(tmp_path).read_text()
    assert "close call: the deciding adjusted p-value is" in html
