"""The README's and the docs' promises: the code example runs, the quick start names files that
exist, and every figure the README, docs/rollups.md or a chapter's docstring quotes is one a fresh
run prints."""
import ast
import os
import re
import subprocess
import sys

import pytest

from lib.data.dataset import PROJECT_ROOT
from tests.conftest import run_script

README = (PROJECT_ROOT / "README.md").read_text()
CODEC_PAGE = (PROJECT_ROOT / "docs" / "codec.md").read_text()
ROLLUPS_PAGE = (PROJECT_ROOT / "docs" / "rollups.md").read_text()


def test_codec_example_runs_from_any_folder_with_the_checkout_on_the_path(tmp_path):
    code = re.search(r"```python\n(.*?)```", CODEC_PAGE, re.S).group(1)
    (tmp_path / "example.py").write_text(code)
    result = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("240 points in the first hour")  # 15 s points in one hour
    assert sorted(p.name for p in tmp_path.iterdir()) == ["example.py"]  # nothing written where it ran


def test_quick_start_installs_from_requirements_and_runs_main_and_tests():
    quick_start = re.search(r"## Quick start\n\n```sh\n(.*?)```", README, re.S).group(1).strip().splitlines()
    assert len(quick_start) == 2
    assert "pip install -r requirements.txt" in quick_start[0] and "python main.py" in quick_start[0]
    assert quick_start[1] == "python -m pytest"
    assert (PROJECT_ROOT / "requirements.txt").exists() and (PROJECT_ROOT / "main.py").exists()


# Prose may quote a figure only where a fresh run prints it. A figure is a number with a decimal
# point, a percentage or a ratio ("2.23", "49%", "6.1x"); whole numbers are mostly definitions
# (64 bits, 15 s scrapes). A sentence that names how else it was measured (another dataset size,
# a benchmark script, /usr/bin/time) is exempt: it says where its figures come from.
FIGURE = re.compile(r"(?<![\w.,])\d[\d,]*\.\d+(?:\s?%|x)?(?![\w.]\d)|(?<![\w.,])\d+(?:\s?%|x)(?!\w)")
MEASURED_ELSEWHERE = re.compile(r"--size (?:medium|big)|compare_peers|bench_gorilla|--real|/usr/bin/time|--import")
# Worked examples in the chapters' docstrings: values chosen to explain, not measured.
WORKED_EXAMPLES = {
    "01_ndjson_storage.py": {"75.2", "75.3", "0.0"},
    "03_compressed_columnar.py": {"12.34%"},
}
PHASE_SCRIPTS = sorted(PROJECT_ROOT.glob("0[0-5]_*.py"))


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """What `python main.py` prints on the default dataset, every phase's report included."""
    result = run_script("main.py", "--output-dir", tmp_path_factory.mktemp("default_run"))
    assert result.returncode == 0, result.stderr
    return result.stdout


def section(title, text=README):
    """The text under a `## title` heading, up to the next heading of the same level."""
    return re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.S | re.M).group(1)


def prose_sentences(text):
    """Sentences outside code blocks, with line breaks folded."""
    prose = re.sub(r"```.*?```", " ", text, flags=re.S)
    return [s for s in re.split(r"(?<=[.:;])\s+(?=[A-Z(`*-])", " ".join(prose.split())) if s]


def printed(figure, output):
    """True when the run printed this very figure (11.5 is not found inside 11.53)."""
    number = re.escape(figure.rstrip("%x").strip())
    suffix = r"\s?%" if figure.endswith("%") else ("x" if figure.endswith("x") else "")
    return re.search(rf"(?<![\d.]){number}(?![\d]){suffix}", output) is not None


def unprinted_figures(text, output):
    return [(figure, sentence) for sentence in prose_sentences(text) if not MEASURED_ELSEWHERE.search(sentence)
            for figure in FIGURE.findall(sentence) if not printed(figure, output)]


def table_cells(line):
    return re.split(r"\s{2,}", line.strip())


def test_the_results_table_is_what_a_fresh_run_prints(default_run):
    block = re.search(r"```\n(phase .*?)```", section("Results"), re.S).group(1).strip().splitlines()
    run_lines = [line for line in default_run.splitlines() if line.strip()]
    start = next(i for i, line in enumerate(run_lines) if line.startswith("phase  format"))
    fresh = run_lines[start:start + len(block)]
    seconds_column = table_cells(block[0]).index("seconds")
    for quoted, printed_line in zip(block[2:], fresh[2:]):
        quoted_cells, fresh_cells = table_cells(quoted), table_cells(printed_line)
        if quoted.startswith(("*", "  ")):  # the note under the table, wrapped
            assert quoted == printed_line
            continue
        del quoted_cells[seconds_column], fresh_cells[seconds_column]
        assert quoted_cells == fresh_cells


def test_a_default_run_fits_a_terminal_of_120_columns(default_run):
    assert [line for line in default_run.splitlines() if len(line) > 120] == []


def test_every_figure_the_readme_and_the_rollups_page_quote_is_printed_by_a_fresh_run(default_run):
    assert unprinted_figures(section("Results") + "\n" + ROLLUPS_PAGE, default_run) == []


@pytest.mark.parametrize("script", PHASE_SCRIPTS, ids=lambda p: p.name)
def test_every_figure_in_a_chapters_docstring_is_printed_by_a_fresh_run(script, default_run):
    docstring = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or ""
    missing = [(f, s) for f, s in unprinted_figures(docstring, default_run)
               if f not in WORKED_EXAMPLES.get(script.name, ())]
    assert missing == []


def test_the_figure_check_can_fail():
    output = "bits per value: 11.53, zeros: 48.9 %, 2.1x smaller"
    assert unprinted_figures("It costs 11.5 bits.", output) == [("11.5", "It costs 11.5 bits.")]
    assert unprinted_figures("Zeros are 48.9% and it is 2.1x smaller.", output) == []
    assert unprinted_figures("On `--size big` it costs 7.7 bits.", output) == []
