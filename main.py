"""squeezed-signals: run every phase in order and compare how small each format gets the same metrics.

Phase 0 makes (or imports) the dataset; each later phase writes its own file into the output
folder, reads it back, proves the round trip exact, and reports its size. The table at the end
puts them side by side, with gzip and xz applied to the NDJSON file as reference points.
"""
import sys
from concurrent.futures import ThreadPoolExecutor, TimeoutError as FutureTimeout
from pathlib import Path

from lib.errors import SqueezedSignalsError
from lib.plumbing.output_lock import locked_output_dir
from lib.plumbing.progress import Progress
from lib.report.page import REPORT_FILENAME, write_report_page
from lib.report.reference_compression import COMPRESSORS, ReferenceJob, add_estimate_fields, estimate_note
from lib.report.table import COMPARISON_TITLE, format_bar_chart, format_table, table_rows, write_json_rows
from lib.runner.cli import add_dataset_arguments, exit_on_user_error, make_parser
from lib.runner.phases import GENERATOR_SCRIPT, available_phase_scripts, load_script


def run_all(output_dir, size, seed, series=None, points=None, import_paths=None, import_format=None,
            reference=True, exact_reference=False):
    """Run phase 0 and every phase script present. Returns (the results in table order, None), or,
    when a phase stops with an error (it refuses the data, or its round trip fails), the results of
    the phases before it and that error: the table still shows what ran."""
    output_dir = Path(output_dir)
    generator = load_script(GENERATOR_SCRIPT)
    results = [generator.run(output_dir, size, seed, series, points, import_paths, import_format)]
    jobs, futures, stopped = [], [], None
    # General-purpose compressors release the GIL, so they squeeze the NDJSON file on the second
    # core while the next phases run on this one.
    with ThreadPoolExecutor(max_workers=1) as background:
        for script in available_phase_scripts():
            print()
            try:
                results.append(run_phase(script, output_dir))
            except SqueezedSignalsError as exc:
                stopped = exc
                break
            if results[-1].phase == 1 and reference:
                ndjson = results[-1]
                jobs = [ReferenceJob(ndjson.path, method, ndjson.points, exact_reference) for method in COMPRESSORS]
                futures = [background.submit(job.run) for job in jobs]
        reference_rows = wait_for_references(jobs, futures)
    after_ndjson = next((i + 1 for i, r in enumerate(results) if r.phase == 1), len(results))
    return results[:after_ndjson] + reference_rows + results[after_ndjson:], stopped


def wait_for_references(jobs, futures):
    """The reference rows, with progress on stderr if the phases finished first."""
    progress = Progress("waiting for the gzip and xz reference rows", sum(job.total_bytes for job in jobs),
                        unit="bytes")
    rows = []
    for future in futures:
        while True:
            try:
                rows.append(future.result(timeout=0.5))
                break
            except FutureTimeout:  # still running: report how far it got
                progress.advance(sum(job.done_bytes for job in jobs) - progress.done)
    progress.finish()
    return rows


def run_phase(script, output_dir):
    module = load_script(script)
    try:
        return module.run(output_dir)
    except SqueezedSignalsError as exc:
        raise type(exc)(f"{script} failed: {exc}") from exc


def print_comparison(results):
    ndjson_bytes = next((r.bytes for r in results if r.phase == 1), None)
    rows = table_rows(results, ndjson_bytes)
    add_estimate_fields(rows, results)
    print()
    print(COMPARISON_TITLE)
    print(format_table(rows))
    note = estimate_note(results)
    if note:
        print(note)
    print()
    print(format_bar_chart(rows))
    return rows


def main():
    parser = make_parser(__doc__)
    add_dataset_arguments(parser)
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the table rows as JSON to FILE")
    parser.add_argument("--no-reference", action="store_true", help="skip the gzip/xz reference rows")
    parser.add_argument("--exact-reference", action="store_true",
                        help="compress the whole NDJSON file for the gzip/xz rows instead of a sample "
                             "(minutes on big datasets)")
    args = parser.parse_args()
    with locked_output_dir(args.output_dir):  # every row below comes from the dataset this run writes
        (args.output_dir / REPORT_FILENAME).unlink(missing_ok=True)  # an older run's page must not survive a failure
        results, stopped = run_all(args.output_dir, args.size, args.seed, args.series, args.points,
                                   args.import_paths, args.import_format, reference=not args.no_reference,
                                   exact_reference=args.exact_reference)
        rows = print_comparison(results)
        if args.json:
            write_json_rows(rows, args.json)
            print(f"\nwrote {args.json}", file=sys.stderr)
        page = write_report_page(rows, args.output_dir)  # drawn from this run's dataset, so inside the lock
    print(f"\nthe run in pictures: {page}")
    if stopped is not None:
        raise stopped  # one line on stderr, exit 2 (refused) or 1 (a round trip failed)


if __name__ == "__main__":
    exit_on_user_error(main)
