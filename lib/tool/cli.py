"""The command line of squeeze.py: one subcommand per job, each with its --help.

Every user error (a bad argument, a missing or damaged file, a question the data cannot answer)
ends with one line on stderr and exit code 2 (lib/runner/cli.py exit_on_user_error); argparse's
own errors are shortened to one line too. Results go to stdout, progress and notes to stderr.
"""
import argparse
import json
import sys
from pathlib import Path

from lib.data import exporters
from lib.data.importers import FORMATS, WHOLE_FORMATS
from lib.errors import SqueezedSignalsError
from lib.retention.policy import DEFAULT_POLICY_TEXT, RetentionPolicy
from lib.rollup.kinds import AGGREGATES
from lib.runner.cli import EXIT_USER_ERROR, exit_on_user_error
from lib.storage.metrics_file import DEFAULT_BLOCK_POINTS, MAX_BLOCK_POINTS
from lib.storage.streaming_writer import DEFAULT_MEMORY_BUDGET
from lib.tool import compress, export, inspection, query, rollups
from lib.tool.arguments import parse_label, parse_size, parse_step


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the command, not the whole usage."""

    def error(self, message):
        print(f"error: {self.prog}: {message} (see --help)", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)


def block_points(text):
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_BLOCK_POINTS:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of points from 1 to {MAX_BLOCK_POINTS}")
    return int(text)


def retention_policy(text):
    try:
        return RetentionPolicy.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_compress(commands):
    parser = commands.add_parser(
        "compress", help="import metrics files straight into a METRICS! file",
        description="Read exported metrics (CSV, long CSV, InfluxDB line protocol, OpenMetrics text, Prometheus "
                    "query_range JSON) "
                    "and write them to one METRICS! file, streaming: memory holds a few chunks of text, a bounded "
                    f"buffer per series and the index, never the whole input. {', '.join(WHOLE_FORMATS)} is one "
                    "JSON document and is read whole. Prints points, series, bytes and bytes per point.")
    parser.add_argument("inputs", nargs="+", metavar="INPUT", type=Path,
                        help="files, or folders of CSV files (read in path order)")
    parser.add_argument("output", metavar="OUT.bin", type=Path, help="the METRICS! file to write")
    parser.add_argument("--format", choices=FORMATS, help="the inputs' format (default: by extension, then content)")
    parser.add_argument("--block-points", type=block_points, default=DEFAULT_BLOCK_POINTS,
                        help=f"the most points a block holds (default {DEFAULT_BLOCK_POINTS:,})")
    parser.add_argument("--memory-budget", type=parse_size, default=DEFAULT_MEMORY_BUDGET, metavar="SIZE",
                        help=f"points buffered over all series before the largest buffers are cut into blocks "
                             f"early, such as 64M or 1G (default {DEFAULT_MEMORY_BUDGET >> 20}M)")
    parser.set_defaults(run=run_compress)


def run_compress(args):
    if any(args.output.resolve() == path.resolve() for path in args.inputs):
        raise SqueezedSignalsError(f"{args.output}: the output would replace an input")
    print(compress.compress(args.inputs, args.output, args.format, args.block_points,
                            args.memory_budget).summary_line())


def add_inspect(commands):
    parser = commands.add_parser(
        "inspect", help="what a METRICS! file (or a roll-up file) holds",
        description="Print a METRICS! file's version, series, points, time range and size; per metric the codecs "
                    "its blocks chose and the bits per timestamp and per value; the cardinality of each label and "
                    "what a series costs; for a roll-up file, its resolution and columns. Reads the index and each "
                    "block's 10-byte header, decodes nothing.")
    parser.add_argument("file", metavar="FILE", type=Path)
    parser.add_argument("--json", action="store_true", help="print the same as one JSON object")
    parser.set_defaults(run=run_inspect)


def run_inspect(args):
    description = inspection.describe(args.file)
    if args.json:
        print(json.dumps(description, indent=1))
    else:
        inspection.print_description(description)


def add_rollup(commands):
    parser = commands.add_parser(
        "rollup", help="build phase 5's roll-up levels of a METRICS! file",
        description="Roll a METRICS! file up into one roll-up file per level of the retention policy (phase 5's "
                    "levels and columns; the 1-minute level keeps count, sum, min, max and count, increase only), "
                    "a few series at a time, each level written as it is built. The policy's horizons are not "
                    "applied: only its resolutions are used.")
    parser.add_argument("file", metavar="FILE", type=Path)
    parser.add_argument("--out", type=Path, metavar="DIR", help="folder of the roll-up files (default: FILE.rollups "
                                                                "beside FILE, where query looks for them)")
    parser.add_argument("--retention", type=retention_policy, default=RetentionPolicy.parse(DEFAULT_POLICY_TEXT),
                        metavar="POLICY", help=f"tiers such as the default {DEFAULT_POLICY_TEXT}")
    parser.set_defaults(run=run_rollup)


def run_rollup(args):
    folder = args.out or rollups.default_folder(args.file)
    rollups.print_levels(rollups.build_rollups(args.file, folder, args.retention), folder)


def add_query(commands):
    parser = commands.add_parser(
        "query", help="one aggregate of one series over a time range, per step",
        description="Answer one aggregate of one series per step from the coarsest roll-up level that answers it "
                    "exactly (percentiles within the sketch's 1%%), else from the raw points; only the blocks the "
                    "range needs are read. Times are epoch seconds, ISO 8601, 'end' (the file's newest point, "
                    "rounded up to the step) or a duration before it such as -7d. A series is a counter if its "
                    "roll-ups say so; without roll-ups, if its name ends in _total, _count, _sum or _bucket and no "
                    "point read is negative. Prints CSV, one row per step, and on stderr which level answered and "
                    "the bytes read.")
    parser.add_argument("file", metavar="FILE", type=Path)
    parser.add_argument("--rollups", type=Path, metavar="DIR", help="folder of roll-up files (default: FILE.rollups, "
                                                                    "if it exists)")
    parser.add_argument("--metric", required=True, metavar="NAME")
    parser.add_argument("--label", type=parse_label, action="append", default=[], metavar="K=V",
                        help="keep the series whose label K is V (repeat for more labels)")
    parser.add_argument("--from", dest="start", required=True, metavar="T")
    parser.add_argument("--to", dest="end", required=True, metavar="T")
    parser.add_argument("--agg", choices=AGGREGATES, help="gauges: count, nan_count, sum, avg, min, max, first, "
                        "last, p50, p95, p99; counters: count, nan_count, first, last, increase, rate (default: avg "
                        "for a gauge, rate for a counter)")
    parser.add_argument("--step", type=parse_step, metavar="DURATION", help="one row per step, such as 1h "
                                                                            "(default: one row for the range)")
    parser.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    parser.set_defaults(run=run_query)


def run_query(args):
    answer = query.run_query(args.file, args.rollups, args.metric, args.label, args.start, args.end, args.agg,
                             args.step)
    if args.json:
        print(json.dumps(query.as_json(answer), indent=1))
    else:
        print(answer.note(), file=sys.stderr)
        query.print_csv(answer)


def add_export(commands):
    parser = commands.add_parser(
        "export", help="a METRICS! file back out as text",
        description="Write a METRICS! file's series as text the importers read back bit for bit, one series "
                    "at a time. A format that cannot carry the data (a NaN in line protocol, a NaN payload such "
                    "as Prometheus' stale marker in any text, a name OpenMetrics forbids) is refused in one line "
                    "and nothing else is written instead; with --out the file appears only when complete. csv "
                    "holds one series without its name: choose it with --metric and --label.")
    parser.add_argument("file", metavar="FILE", type=Path)
    parser.add_argument("--format", required=True, choices=exporters.FORMATS)
    parser.add_argument("--out", type=Path, metavar="PATH", help="the file to write (default: stdout)")
    parser.add_argument("--metric", metavar="NAME", help="only the series of this metric")
    parser.add_argument("--label", type=parse_label, action="append", default=[], metavar="K=V",
                        help="only the series whose label K is V (repeat for more labels)")
    parser.set_defaults(run=run_export)


def run_export(args):
    points = export.export(args.file, args.format, args.out, args.metric, args.label)
    if args.out is not None:
        print(f"{points:,} points as {args.format}: {args.out.stat().st_size:,} bytes ({args.out})")


def make_parser():
    parser = OneLineParser(prog="squeeze.py", description="The METRICS! codec as a tool: compress exported metrics, "
                           "inspect, roll up, query and export the files.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser)
    for add in (add_compress, add_inspect, add_rollup, add_query, add_export):
        add(commands)
    return parser


TIME_OPTIONS = ("--from", "--to")


def with_times_attached(argv):
    """`--from -7d` as `--from=-7d`: argparse would take "-7d" for an option of its own."""
    result = []
    for argument in argv:
        if result and result[-1] in TIME_OPTIONS and argument[:1] == "-" and argument[1:2].isdigit():
            result[-1] = f"{result[-1]}={argument}"
        else:
            result.append(argument)
    return result


def main(argv=None):
    args = make_parser().parse_args(with_times_attached(sys.argv[1:] if argv is None else argv))
    exit_on_user_error(lambda: args.run(args))
