"""Command-line conventions shared by every script.

Each script accepts `--output-dir` (default: the project's `output/` folder) and `--help`, and holds
the folder's lock while it runs (lib/plumbing/output_lock.py: one run per folder at a time). Expected
user errors (a missing dataset, a damaged file, bad arguments) end with one readable line on stderr
and exit code 2, not a traceback; a failed round trip exits 1.
"""
import argparse
import os
import sys
from pathlib import Path

from lib.data import generator, importers
from lib.data.dataset import DEFAULT_OUTPUT_DIR
from lib.errors import RoundTripError, SqueezedSignalsError
from lib.plumbing.output_lock import locked_output_dir

EXIT_FAILED_VERIFICATION = 1
EXIT_USER_ERROR = 2
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a process ended by SIGPIPE


def make_parser(doc):
    """An argument parser whose help is the first paragraph of a script's docstring."""
    description = doc.strip().split("\n\n")[0] if doc else None
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR,
        help=f"folder for the dataset and every phase's file (default: {DEFAULT_OUTPUT_DIR})",
    )
    return parser


def add_dataset_arguments(parser):
    """Options that choose the dataset: shared by 00_generate_data.py and main.py."""
    parser.add_argument("--size", choices=list(generator.SIZES), default=generator.DEFAULT_SIZE,
                        help="small: ~50k points (default), medium: ~1M, big: ~10M")
    parser.add_argument("--seed", type=int, default=generator.DEFAULT_SEED,
                        help=f"random seed (default {generator.DEFAULT_SEED})")
    parser.add_argument("--series", type=int, help="number of series (overrides --size)")
    parser.add_argument("--points", type=int, help="total number of points, about (overrides --size)")
    parser.add_argument("--import", dest="import_paths", nargs="+", metavar="PATH",
                        help="build the dataset from these files or folders instead of generating it")
    parser.add_argument("--format", dest="import_format", metavar="FORMAT",
                        help=f"format of the --import files: {', '.join(importers.FORMATS)} "
                             "(default: detect from extension and content)")


def exit_on_user_error(main):
    """Run `main()`; turn the project's errors into one line on stderr and a non-zero exit."""
    try:
        main()
    except RoundTripError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(EXIT_FAILED_VERIFICATION)
    except SqueezedSignalsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_BROKEN_PIPE)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)


def run_phase_script(doc, run, add_arguments=None):
    """The whole `__main__` of a phase script: parse --output-dir, run the phase while holding the
    output folder's lock, print its result.

    A phase with options of its own passes `add_arguments(parser)`; its `run` then receives the
    parsed arguments instead of the output folder alone.
    """
    parser = make_parser(doc)
    if add_arguments:
        add_arguments(parser)

    def main():
        args = parser.parse_args()
        with locked_output_dir(args.output_dir):
            result = run(args) if add_arguments else run(args.output_dir)
        print(result.summary_line())

    exit_on_user_error(main)
