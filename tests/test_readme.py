"""The README's promises: its code example runs, its quick start names files that exist."""
import os
import re

from lib.dataset import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text()


def test_codec_example_runs(tmp_path):
    code = re.search(r"## Using the codec.*?```python\n(.*?)```", README, re.S).group(1)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        namespace = {}
        exec(compile(code, "README.md", "exec"), namespace)
    finally:
        os.chdir(cwd)
    assert len(namespace["hour"]) == 240  # 15 s points in one hour
    assert (tmp_path / "cpu.bin").exists()


def test_quick_start_installs_from_requirements_and_runs_main_and_tests():
    quick_start = re.search(r"## Quick start\n\n```sh\n(.*?)```", README, re.S).group(1).strip().splitlines()
    assert len(quick_start) == 2
    assert "pip install -r requirements.txt" in quick_start[0] and "python main.py" in quick_start[0]
    assert quick_start[1] == "python -m pytest"
    assert (PROJECT_ROOT / "requirements.txt").exists() and (PROJECT_ROOT / "main.py").exists()
