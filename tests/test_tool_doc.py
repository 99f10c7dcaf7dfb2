"""docs/tool.md shows real output: every command of its console blocks is run again, in order, in a
fresh folder, and must print exactly the lines pasted under it (progress lines aside: they appear
only on a slow run)."""
import contextlib
import io
import os
import re
import shlex
import subprocess
import sys

from benchmarks import corpus
from lib.data.dataset import PROJECT_ROOT
from lib.tool import cli

PAGE = PROJECT_ROOT / "docs" / "tool.md"
CONSOLE_BLOCK = re.compile(r"```console\n(.*?)```", re.S)
PROMPT = "$ "
PROGRESS = re.compile(r"^  [a-z][a-z ]*: (?:[\d,]+(?:/[\d,]+)? [a-z]+(?: \(\d+%\))?|done in [\d.]+ s)\s*$")
SKIPPED = ("cd ",)  # the page's commands run in output/; here, in a scratch folder


def steps(text):
    """[(command, [the lines pasted under it])] of every console block, in page order."""
    found = []
    for block in CONSOLE_BLOCK.findall(text):
        for line in block.splitlines():
            if line.startswith(PROMPT):
                found.append((line[len(PROMPT):], []))
            else:
                found[-1][1].append(line)
    return found


SCRIPTS = {"../squeeze.py": lambda argv: cli.main(argv), "../benchmarks/corpus.py": lambda argv: corpus.main(argv)}


def run(command, folder):
    """The lines a page command prints, stdout and stderr in the order written, as a terminal shows
    them. The page's two scripts run in this process (their start-up is most of their time here;
    tests/test_tool.py runs squeeze.py from another folder as a user would); any other command runs
    as a process of its own."""
    argv = shlex.split(command)
    if argv[0] != "python" or argv[1] not in SCRIPTS:
        result = subprocess.run([sys.executable if word == "python" else word for word in argv], cwd=folder,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
        return [line for line in result.stdout.splitlines() if not PROGRESS.match(line)]
    terminal = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    here = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(terminal), contextlib.redirect_stderr(terminal):
            SCRIPTS[argv[1]](argv[2:])
    except SystemExit:
        pass
    finally:
        os.chdir(here)
    text = terminal.buffer.getvalue().decode("utf-8")
    return [line for line in text.splitlines() if not PROGRESS.match(line)]


def test_every_command_on_the_tool_page_prints_what_the_page_shows(tmp_path):
    commands = steps(PAGE.read_text(encoding="utf-8"))
    assert len(commands) >= 12 and {"compress", "inspect", "rollup", "query", "export"} <= {
        word for command, _ in commands for word in command.split()}
    for command, pasted in commands:
        if not command.startswith(SKIPPED):
            assert run(command, tmp_path) == pasted, command


def test_the_page_check_can_fail(tmp_path):
    assert steps("```console\n$ python -c \"print('a')\"\nb\n```") == [("python -c \"print('a')\"", ["b"])]
    assert run("python -c \"print('a')\"", tmp_path) == ["a"]
    assert PROGRESS.match("  compressing: 1,500 points") and PROGRESS.match("  rolling up: done in 2.5 s   ")
    assert not PROGRESS.match("  site                                   7      20")
