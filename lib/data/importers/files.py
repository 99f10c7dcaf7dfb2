"""Reading an input file as UTF-8 text: whole (JSON), a chunk at a time (CSV, line protocol,
OpenMetrics), or just its first line (detection).

Only regular files are read (lib/plumbing/regular_files.py; a symlink to one is fine). A leading
byte order mark is dropped, and text that is not UTF-8 is refused naming its line. CSV, line
protocol and OpenMetrics are read a chunk at a time and never held as a whole text; JSON is parsed
in one piece.
"""
import codecs
import contextlib

from lib.errors import FormatError
from lib.plumbing.regular_files import open_regular_file

_UTF8_BOM = b"\xef\xbb\xbf"
CHUNK_BYTES = 1 << 18  # a chunk and its lines as str cost a few times this


def _open_input(path):
    """(file, size) for a regular file; anything else is a FormatError naming the path."""
    try:
        return open_regular_file(path)
    except FileNotFoundError:
        raise FormatError(f"{path}: no such file") from None
    except OSError as exc:
        raise FormatError(f"{path}: cannot read ({exc.strerror})") from None


def read_text(path):
    """The whole file as text (for JSON, which is parsed in one piece), without a byte order mark."""
    f, size = _open_input(path)
    with f:
        data = f.read(size)
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FormatError(f"{path}:{line}: not UTF-8 text") from None


def _decoded_chunks(path):
    """The file's text, decoded one chunk at a time; a leading byte order mark is dropped, and
    invalid UTF-8 is refused naming its line."""
    f, remaining = _open_input(path)
    decoder = codecs.getincrementaldecoder("utf-8")()
    newlines = 0  # in the text decoded so far, to name the line of a decoding error
    with f:
        chunk = f.read(min(CHUNK_BYTES, remaining))
        remaining -= len(chunk)
        if chunk.startswith(_UTF8_BOM):
            chunk = chunk[len(_UTF8_BOM):]
        while True:
            undecoded = decoder.getstate()[0]  # the start of a character split by the last chunk
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                line = newlines + (undecoded + chunk).count(b"\n", 0, exc.start) + 1
                raise FormatError(f"{path}:{line}: not UTF-8 text") from None
            newlines += text.count("\n")
            yield text
            if not chunk:
                return
            chunk = f.read(min(CHUNK_BYTES, remaining)) if remaining > 0 else b""
            remaining -= len(chunk)


def text_lines(path, chunk_done=None):
    """The file's lines, endings included, read a chunk at a time.

    Line-based formats never hold the whole text: memory stays at a chunk however big the file
    (a 200 MB CSV held as text would cost 200 MB, or 800 MB if one label is not Latin-1). Only
    "\n" ends a line, as in the formats; the csv module handles "\r\n" itself.

    `chunk_done()`, when given, is called before the lines of each chunk after the first: by then
    the reader has handled every line of the chunks before, so the points it found can move on
    (a streaming import hands them to the writer; see points.py).
    """
    unfinished = []  # the text after the last "\n", in pieces (joined once its line ends)
    for number, text in enumerate(_decoded_chunks(path)):
        if number and chunk_done is not None:
            chunk_done()
        pieces = text.split("\n")
        if len(pieces) == 1:
            unfinished.append(text)
            continue
        unfinished.append(pieces[0])
        yield "".join(unfinished) + "\n"
        for piece in pieces[1:-1]:
            yield piece + "\n"
        unfinished = [pieces[-1]]
    if "".join(unfinished):
        yield "".join(unfinished)


def first_content_line(path, limit=CHUNK_BYTES):
    """The first line that is not blank (its first `limit` characters at most: enough to tell a
    format), stripped; refuses a file with none. A one-line JSON file is not read whole here."""
    head = ""
    with contextlib.closing(_decoded_chunks(path)) as chunks:
        for text in chunks:
            head = (head + text).lstrip()
            if "\n" in head or len(head) >= limit:
                break
    line = head.split("\n", 1)[0][:limit].strip()
    if not line:
        raise FormatError(f"{path}: empty file")
    return line
