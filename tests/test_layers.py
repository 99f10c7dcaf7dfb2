"""lib/__init__.py's LAYERS is true: every module of lib/ sits in one layer and imports only from
its own layer or the ones before it."""
import ast

import pytest

from lib import LAYERS
from lib.data.dataset import PROJECT_ROOT

LIB = PROJECT_ROOT / "lib"


def module_name(path):
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module):
    """Index of the layer holding `module` ('lib.codecs.bins'), by its longest listed prefix; None if unlisted."""
    name = module.removeprefix("lib.")
    matches = [(len(prefix), index) for index, (prefixes, _) in enumerate(LAYERS) for prefix in prefixes
               if name == prefix or name.startswith(prefix + ".")]
    return max(matches)[1] if matches else None


def lib_imports(path):
    """The lib modules a file imports: `from lib.data import importers` counts as lib.data.importers."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lib"):
            if node.module in ("lib", "lib.data", "lib.codecs", "lib.storage"):  # packages of several layers
                yield from (f"{node.module}.{alias.name}" for alias in node.names)
            else:
                yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.startswith("lib."))


ALL_MODULES = sorted(path for path in LIB.rglob("*.py") if path != LIB / "__init__.py")
# A package that spans layers (lib.data holds the data model and the importers) has no layer of
# its own; its __init__.py stays empty, so importing the model never drags in the importers.
SPANNING_PACKAGES = [path for path in ALL_MODULES if path.name == "__init__.py" and layer_of(module_name(path)) is None]
MODULES = [path for path in ALL_MODULES if path not in SPANNING_PACKAGES]


def test_layer_of_picks_the_longest_prefix():
    assert layer_of("lib.data.dataset") == 2
    assert layer_of("lib.data.importers.csv_files") == len(LAYERS) - 1
    assert layer_of("lib.storage.rollup_files") > layer_of("lib.rollup.sketch") > layer_of("lib.storage.metrics_file")
    assert layer_of("lib.nowhere") is None


@pytest.mark.parametrize("path", MODULES, ids=lambda path: module_name(path))
def test_every_module_imports_only_from_its_layer_or_below(path):
    own = layer_of(module_name(path))
    assert own is not None, f"{module_name(path)} is in no layer of lib/__init__.py"
    for imported in lib_imports(path):
        theirs = layer_of(imported)
        assert theirs is not None, f"{module_name(path)} imports {imported}, which is in no layer"
        assert theirs <= own, f"{module_name(path)} (layer {own}) imports {imported} (layer {theirs}), a layer above"


@pytest.mark.parametrize("path", SPANNING_PACKAGES, ids=lambda path: module_name(path))
def test_a_package_spanning_layers_imports_nothing(path):
    assert not list(lib_imports(path)), f"{module_name(path)} spans layers, so it must import nothing"


def test_every_layer_names_something_that_exists():
    modules = {module_name(path) for path in MODULES}
    for prefixes, _ in LAYERS:
        for prefix in prefixes:
            assert any(m == f"lib.{prefix}" or m.startswith(f"lib.{prefix}.") for m in modules), prefix


def layout_block():
    text = (PROJECT_ROOT / "docs" / "project.md").read_text(encoding="utf-8")
    section = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    return section.split("```", 2)[1]


def test_the_documented_layout_names_every_lib_module_and_only_those():
    import re
    block = layout_block()
    lib_part = block.split("\nlib/", 1)[1].split("\nbenchmarks/", 1)[0]
    for path in ALL_MODULES:
        name = path.parent.name + "/" if path.name == "__init__.py" else path.stem
        assert re.search(rf"(?<![\w/]){re.escape(name)}(?![\w])", lib_part), f"docs/project.md Layout does not name {name}"
    listed_packages = re.findall(r"^  (\w+)/", lib_part, re.M)
    assert listed_packages and all((LIB / package).is_dir() for package in listed_packages), listed_packages
