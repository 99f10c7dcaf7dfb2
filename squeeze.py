"""squeeze.py: the METRICS! codec as a command-line tool, for your own metrics.

    python squeeze.py compress export.csv metrics.bin        # streamed: files larger than memory too
    python squeeze.py inspect metrics.bin                    # codecs, bits per value, label cardinality
    python squeeze.py rollup metrics.bin                     # phase 5's levels, into metrics.bin.rollups/
    python squeeze.py query metrics.bin --metric cpu --from -7d --to end --agg max --step 1h

Each command has its --help; docs/tool.md walks through all of them on real data. Runs from any
folder: this script puts its own folder on Python's path.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lib.tool.cli import main  # noqa: E402

if __name__ == "__main__":
    main()
