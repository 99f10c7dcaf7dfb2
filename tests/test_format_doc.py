"""docs/format.md against the code: its tag tables, record layouts and constants, both directions.

Every codec tag, mode and transform the code knows must be documented with the same number and
name, every number the document assigns must exist in the code, and every number it calls reserved
must be refused by the decoders. A codec added, renumbered or renamed without the document fails
here, and so does the document drifting from the code.
"""
import importlib
import pkgutil
import re
import struct

import pytest

# The code under test, imported in one place: if the registry moves within lib/codecs/ (a
# selection or timestamps module, say), retarget these lines only. Documented constants are looked
# up in every module of lib/codecs/ (and the two below), wherever they are defined.
import lib.bitstream.varint as varint_module
import lib.codecs
import lib.storage.file_layout as file_layout_module
import lib.storage.index_section as index_section_module
import lib.storage.metrics_file as metrics_file_module
from lib.codecs.bins import decode_bins
from lib.codecs.bins.layout import DENSE, SPARSE
from lib.codecs.byte_planes import COMPRESSOR_NAMES, decode_planes
from lib.codecs.decimal import decode_decimal
from lib.codecs.transforms import TRANSFORM_NAMES
from lib.codecs.gorilla.fast import DOD_PAYLOAD_BITS, DOD_PREFIX_BITS, DOD_PREFIXES
from lib.codecs.registry import TIMESTAMP_CODECS, VALUE_CODECS, tag_name, timestamp_tag_name
from lib.codecs.stages import STAGES
from lib.codecs.timestamp_units import MODE_NAMES, decode_timestamp_units
from lib.data.dataset import PROJECT_ROOT
from lib.errors import FormatError
from lib.rollup.kinds import COUNTER, GAUGE
from lib.storage.file_layout import FORMAT_VERSION, MAGIC, OLDEST_READ_VERSION
from lib.storage.rollup_files import (
    MAX_EXACT_INTEGER, RESOLUTION_LABEL, ROLLUP_FILE_PREFIX, ROLLUP_LABEL, SKETCH_COLUMNS, SKETCH_RANGES,
    stored_columns,
)

FILE_MODULES = (file_layout_module, index_section_module, metrics_file_module)
CONSTANT_MODULES = tuple(importlib.import_module(module.name)
                         for module in pkgutil.walk_packages(lib.codecs.__path__, "lib.codecs.")) + (
    *FILE_MODULES, varint_module)

DOC = (PROJECT_ROOT / "docs" / "format.md").read_text(encoding="utf-8")
NOT_AN_ENTRY = "—"


def sections(text):
    """{heading text: the lines up to the next heading} (headings inside code blocks are not headings)."""
    found, heading, lines, in_code = {}, None, [], False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if not in_code and line.startswith("#"):
            if heading is not None:
                found[heading] = lines
            heading, lines = line.lstrip("#").strip(), []
        else:
            lines.append(line)
    found[heading] = lines
    return found


SECTIONS = sections(DOC)


def table(heading):
    """The first table under `heading`, as lists of stripped cells (header and rule left out)."""
    lines = SECTIONS[heading]
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows[2:]


def unquote(cell):
    return cell.strip("`")


def numbers(cell, step=1):
    """'7' -> [7]; '10–15' -> [10, ..., 15]; '0x30–0xF0' with step 16 -> [0x30, 0x40, ..., 0xF0]."""
    low, _, high = cell.partition("–")
    return list(range(int(low, 0), int(high or low, 0) + 1, step))


def enumeration(heading, step=1):
    """(entries {number: (name, constant)}, refused numbers, other numbers) of a tag table."""
    entries, refused, other = {}, [], []
    for row in table(heading):
        values = numbers(row[0], step)
        if row[1] == NOT_AN_ENTRY:
            (refused if "refused" in " ".join(row) else other).extend(values)
        else:
            (value,) = values
            assert value not in entries, f"{heading}: {value} listed twice"
            entries[value] = (unquote(row[1]), unquote(row[2]))
    return entries, refused, other


def constant(name):
    """The value of a documented constant; every module defining that name must agree on it."""
    values = {getattr(m, name) for m in CONSTANT_MODULES if hasattr(m, name)}
    assert len(values) == 1, f"{name}: defined as {values or 'nothing'} in {[m.__name__ for m in CONSTANT_MODULES]}"
    return values.pop()


def refuses(decode):
    try:
        decode()
    except FormatError:
        return True
    return False


# Each enumerated field: its table, the code's {number: name}, the field's values, the step between
# them, and a probe: a call that decodes a tiny stream holding the number, which must refuse every
# reserved number and accept the registered number given last (so the probe itself can pass).
ENUMERATIONS = {
    "value codecs": ("Value codec tags", {t: c.name for t, c in VALUE_CODECS.items()}, range(16), 1,
                     tag_name, 9),
    "timestamp codecs": ("Timestamp codec tags", {t: c.name for t, c in TIMESTAMP_CODECS.items()}, range(16), 1,
                         timestamp_tag_name, 3),
    "stages": ("Stage flags", {f: s.name for f, s in STAGES.items()}, range(0, 256, 16), 16,
               lambda flag: tag_name(flag | 1), 0x20),
    "transforms": ("Integer transforms", TRANSFORM_NAMES, range(256), 1,
                   lambda transform: decode_decimal(bytes((0, transform, 0, 1, 0, 0, 0)), 1), 2),
    "bins modes": ("Bins stream", {DENSE: "dense", SPARSE: "sparse"}, range(256), 1,
                   lambda mode: decode_bins(bytes((mode, 0, 1, 0)), 1), DENSE),
    "plane compressors": ("Byte-plane stream", COMPRESSOR_NAMES, range(256), 1,
                          lambda compressor: decode_planes(bytes((0, 0, compressor, 0)), [1]), 0),
    "timestamp-units modes": ("Timestamp units (tags 2 and 3)", MODE_NAMES, range(256), 1,
                              lambda mode: decode_timestamp_units(bytes((mode, 0, 1, 0, 0, 0, 0)), 1), 1),
}


@pytest.mark.parametrize("field", sorted(ENUMERATIONS))
def test_documented_numbers_and_names_are_the_codes(field):
    heading, registry, _, step, _, _ = ENUMERATIONS[field]
    entries, _, _ = enumeration(heading, step)
    assert {number: name for number, (name, _) in entries.items()} == registry


@pytest.mark.parametrize("field", sorted(ENUMERATIONS))
def test_documented_constants_hold_the_documented_numbers(field):
    heading, _, _, step, _, _ = ENUMERATIONS[field]
    entries, _, _ = enumeration(heading, step)
    for number, (name, constant_name) in entries.items():
        assert constant(constant_name) == number, f"{field}: {constant_name}"


@pytest.mark.parametrize("field", sorted(ENUMERATIONS))
def test_every_value_of_the_field_is_documented_once(field):
    heading, _, values, step, _, _ = ENUMERATIONS[field]
    entries, refused, other = enumeration(heading, step)
    documented = list(entries) + refused + other
    assert sorted(documented) == list(values)


@pytest.mark.parametrize("field", sorted(ENUMERATIONS))
def test_reserved_values_are_refused(field):
    heading, registry, _, step, probe, accepted = ENUMERATIONS[field]
    _, refused, _ = enumeration(heading, step)
    assert refused and not set(refused) & set(registry)
    assert accepted in registry and not refuses(lambda: probe(accepted))
    for number in sorted({refused[0], refused[-1], *refused[:: max(1, len(refused) // 8)]}):
        assert refuses(lambda: probe(number)), f"{field}: reserved {number} was accepted"


def test_gorilla_delta_of_delta_classes():
    rows = table("Gorilla timestamps (tag 1)")
    assert [unquote(row[0]) for row in rows] == [format(p, f"0{b}b") for p, b in zip(DOD_PREFIXES, DOD_PREFIX_BITS)]
    assert [int(row[1]) for row in rows] == list(DOD_PAYLOAD_BITS)


# Record layouts -------------------------------------------------------------------------------------

STRUCT_TYPES = {"s": "bytes", "B": "u8", "H": "u16", "I": "u32", "Q": "u64", "q": "i64"}


def struct_fields(layout):
    """[(offset, width, type)] of a struct.Struct: '<8sH' -> [(0, 8, 'bytes'), (8, 2, 'u16')]."""
    fields, offset = [], 0
    for repeat, code in re.findall(r"(\d*)([a-zA-Z])", layout.format.lstrip("<")):
        width = struct.calcsize("<" + repeat + code) if code == "s" else struct.calcsize("<" + code)
        for _ in range(1 if code == "s" else int(repeat or 1)):
            fields.append((offset, width, STRUCT_TYPES[code]))
            offset += width
    return fields


def documented_layouts():
    """{struct name: table rows} for every heading naming a struct, such as 'Header (`HEADER`)'."""
    found = {}
    for heading in SECTIONS:
        match = re.search(r"\(`([A-Z0-9_]+)`\)", heading or "")
        if match:
            found[match.group(1)] = table(heading)
    return found


LAYOUTS = documented_layouts()
RECORDS = {name: value for module in FILE_MODULES for name, value in vars(module).items()
           if isinstance(value, struct.Struct) and len(struct_fields(value)) > 1}


def test_every_record_layout_of_the_file_is_documented_and_no_other():
    assert set(LAYOUTS) == set(RECORDS) and RECORDS


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_documented_offsets_widths_and_types_are_the_structs(name):
    rows = LAYOUTS[name]
    assert [(int(row[0]), int(row[1]), row[3]) for row in rows] == struct_fields(RECORDS[name])


def test_header_magic_and_version_are_the_codes():
    for layout, version in (("HEADER", FORMAT_VERSION), ("HEADER_V2", OLDEST_READ_VERSION)):
        rows = {row[2]: row for row in LAYOUTS[layout]}
        assert f"`{MAGIC.decode()}`" in rows["magic"][4]
        assert MAGIC.hex(" ").upper() in rows["magic"][4]
        assert rows["version"][4] == str(version)
    assert f"`{MAGIC.decode()}`" in {row[2]: row for row in LAYOUTS["FOOTER"]}["magic"][4]


def test_version_table_names_the_current_version_the_ones_read_and_refuses_the_rest():
    rows = table("Versions and compatibility")
    current = [row for row in rows if row[1] == "current"]
    assert len(current) == 1 and int(current[0][0]) == FORMAT_VERSION and "written" in current[0][2]
    read = [int(row[0]) for row in rows if row[1] == "read"]
    assert read == list(range(OLDEST_READ_VERSION, FORMAT_VERSION))
    others = [number for row in rows if row[1] not in ("current", "read") for number in numbers(row[0])]
    assert sorted(others + read + [FORMAT_VERSION]) == list(range(0x10000))
    assert all("refused" in row[2] for row in rows if row[1] not in ("current", "read"))


def test_documented_constants_are_the_codes():
    rows = table("Limits and constants")
    assert len(rows) >= 15
    for row in rows:
        assert constant(unquote(row[0])) == int(row[1], 0), row[0]


# Roll-up files ----------------------------------------------------------------------------------------


def test_rollup_labels_and_file_name():
    labels = {unquote(row[0]) for row in table("Roll-up files")}
    assert labels == {ROLLUP_LABEL, RESOLUTION_LABEL}
    assert f"`{ROLLUP_FILE_PREFIX}<resolution>.bin`" in DOC


def test_rollup_columns_per_kind():
    lines = SECTIONS["Roll-up files"]
    tables = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines if line.startswith("|")]
    header = next(row for row in tables if row[0] == "column")
    reserved_labels = (f"`{ROLLUP_LABEL}`", f"`{RESOLUTION_LABEL}`")
    rows = [row for row in tables if row[0].startswith("`") and row[0] not in reserved_labels]
    kinds = {"gauge": (GAUGE, False), "counter": (COUNTER, False), "light gauge": (GAUGE, True),
             "light counter": (COUNTER, True)}
    for index, title in enumerate(header[1:5], start=1):
        documented = {unquote(row[0]) for row in rows if row[index] == "✓"}
        assert documented == set(stored_columns(*kinds[title])), title
    assert set(SKETCH_COLUMNS) <= {unquote(row[0]) for row in rows}
    assert all(len(row) == len(header) for row in rows)


def test_rollup_refusals_name_the_limits_the_reader_uses():
    text = " ".join(" ".join(SECTIONS["Roll-up files"]).split())  # one space between words, lines joined
    refusals = text.split("**What a reader refuses**")[1]
    assert f"above 2^{MAX_EXACT_INTEGER.bit_length() - 1}" in refusals
    assert SKETCH_RANGES["sketch_sign"] == (-1, 1) and "-1, 0, +1" in refusals
    assert SKETCH_RANGES["sketch_key"] == (-(1 << 31), (1 << 31) - 1) and "beyond int32" in refusals
    assert SKETCH_RANGES["sketch_count"][0] == 1 and "a sketch count below 1" in refusals
    for rule in ("multiple of the resolution", "increasing time order", "more than its `count`"):
        assert rule in refusals
