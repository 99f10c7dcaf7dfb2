"""Progress on stderr for work that takes more than a couple of seconds.

Quiet for short jobs: nothing is printed until `delay` seconds have passed, so small runs stay clean
while a big dataset tells the user it is still alive. On a terminal one line is rewritten in place;
into a log file a line is written every few seconds. Results never go here; they go to stdout.
A job whose size is not known in advance (a streamed import) gives `total=None` and shows its count.
"""
import sys
import time


class Progress:
    def __init__(self, label, total, unit="points", delay=2.0, every=None, stream=None):
        self.label = label
        self.total = None if total is None else max(int(total), 1)
        self.unit = unit
        self.delay = delay
        self.stream = stream if stream is not None else sys.stderr
        self.on_terminal = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.every = every if every is not None else (0.5 if self.on_terminal else 5.0)
        self.start = time.perf_counter()
        self.last_print = None
        self.done = 0

    def advance(self, amount):
        self.done += amount
        now = time.perf_counter()
        if now - self.start < self.delay:
            return
        if self.last_print is not None and now - self.last_print < self.every:
            return
        self.last_print = now
        end = "\r" if self.on_terminal else "\n"
        if self.total is None:
            self.stream.write(f"  {self.label}: {self.done:,} {self.unit}{end}")
        else:
            percent = 100.0 * self.done / self.total
            self.stream.write(f"  {self.label}: {self.done:,}/{self.total:,} {self.unit} ({percent:.0f}%){end}")
        self.stream.flush()

    def finish(self):
        if self.last_print is not None:
            elapsed = time.perf_counter() - self.start
            self.stream.write(f"  {self.label}: done in {elapsed:.1f} s".ljust(60) + "\n")
            self.stream.flush()
