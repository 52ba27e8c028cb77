"""Checks `retrylab import`'s exception table (src/pyimport/sdk.rs BASES) against the
installed SDKs: every class exists under its name and its direct base is the one listed.
Also checks that the Python fixtures of tests/fixtures/python/ are valid Python."""
import ast
import importlib
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
table = (root / "src/pyimport/sdk.rs").read_text()
bases = re.findall(r'\(\s*"([\w.]+)",\s*"([\w.]*)",?\s*\)', table.split("const BASES")[1].split("];")[0])
aliases = {"mirascope.FallbackError": "mirascope.retries.FallbackError"}


def resolve(name):
    name = aliases.get(name, name)
    if "." not in name:
        return getattr(__import__("builtins"), name)
    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def canonical(cls):
    for name, _ in bases:
        try:
            if resolve(name) is cls:
                return name
        except (ImportError, AttributeError):
            pass
    return f"{cls.__module__}.{cls.__name__}"


failed = 0
for name, base in bases:
    try:
        cls = resolve(name)
    except (ImportError, AttributeError) as e:
        print(f"FAIL {name}: not found ({e})")
        failed += 1
        continue
    if base and canonical(cls.__bases__[0]) != base:
        print(f"FAIL {name}: base is {canonical(cls.__bases__[0])}, the table says {base}")
        failed += 1
for f in sorted((root / "tests/fixtures/python").glob("*.py")):
    try:
        ast.parse(f.read_text(), str(f))
    except SyntaxError as e:
        print(f"FAIL {f.name}: not valid Python: {e}")
        failed += 1
print(f"{len(bases)} classes checked, {failed} failed")
sys.exit(1 if failed else 0)
