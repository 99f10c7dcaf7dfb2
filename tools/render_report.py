"""Render the report page to a PNG with headless Chromium, to look at it as a reader would.

    python main.py && python tools/render_report.py            # output/report.html -> docs/report.png
    python tools/render_report.py --page PAGE --png OUT.png --width 1100

Needs Chromium (Debian: `apt-get install chromium`); neither the project nor its tests need it.
"""
import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# Without these Chromium tries to reach Google's hosts at every start; this machine has no network.
QUIET_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--hide-scrollbars")


def render(page, png, width, height):
    browser = next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)
    if browser is None:
        sys.exit("error: no Chromium found: install it (Debian: apt-get install chromium)")
    if not page.is_file():
        sys.exit(f"error: no page at {page}: run `python main.py` first")
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([browser, *QUIET_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
                        f"--screenshot={png}", page.resolve().as_uri()],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    print(png)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--page", type=Path, default=ROOT / "output" / "report.html")
    parser.add_argument("--png", type=Path, default=ROOT / "docs" / "report.png")
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--height", type=int, default=2200, help="tall enough for the whole page")
    args = parser.parse_args()
    render(args.page, args.png, args.width, args.height)


if __name__ == "__main__":
    main()
