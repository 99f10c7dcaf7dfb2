"""The README's Results section describes the default dataset as a fresh phase-0 run prints it."""
import re

from lib.data.dataset import PROJECT_ROOT
from tests.conftest import run_script

RESULTS = re.search(r"## Results\n(.*?)\n## ", (PROJECT_ROOT / "README.md").read_text(), re.S).group(1)


def test_the_dataset_sentence_matches_what_phase_0_prints(tmp_path):
    printed = run_script("00_generate_data.py", "--output-dir", tmp_path).stdout
    series, points = re.search(r"series: ([\d,]+)\s+points: ([\d,]+)", printed).groups()
    hours = re.search(r"time span: .*\(([\d.]+) h\)", printed).group(1)
    claim = re.search(r"seed 42: ([\d,]+) points in ([\d,]+) series over ([\d.]+) hours", " ".join(RESULTS.split()))
    assert claim.groups() == (points, series, hours)

    intervals = dict(re.findall(r"(\d+) s: (\d+) series", re.search(r"scrape intervals: (.*)", printed).group(1)))
    stated = re.search(r"(\d+) of them every 15 s, (\d+) every 10 s and (\d+) every 60 s", " ".join(RESULTS.split()))
    assert stated.groups() == (intervals["15"], intervals["10"], intervals["60"])
    assert sum(map(int, intervals.values())) == int(series.replace(",", ""))
