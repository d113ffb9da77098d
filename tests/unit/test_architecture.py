"""Arrows point inward: the domain imports nothing of ours or anyone's; services and
matching never import a chat library or the database toolkit; adapters never import the
wiring or the database, nor each other."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "helpdesk"
DATABASE = ("sqlalchemy", "alembic", "aiosqlite", "asyncpg")
PLATFORM_AND_STORAGE = ("telegram", "nio", *DATABASE)
# What wires the bot together (and the database it wires): adapters are given what they
# need, they do not reach out for it.
OUTER = (
    "helpdesk.bootstrap",
    "helpdesk.runner",
    "helpdesk.cli",
    "helpdesk.settings",
    "helpdesk.scheduling",
    "helpdesk.observability",
    "helpdesk.storage",
)
CHAT_ADAPTERS = ("console", "telegram", "matrix")


def imports(folder: str) -> list[tuple[str, str]]:
    found = []
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(path.name, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path.name, node.module))
    return found


def test_the_domain_imports_only_the_standard_library_and_itself() -> None:
    for name, module in imports("domain"):
        top = module.split(".")[0]
        allowed = top in sys.stdlib_module_names or module.startswith("helpdesk.domain")
        assert allowed, f"domain/{name} imports {module}"


@pytest.mark.parametrize("folder", ["domain", "services", "matching", "i18n"])
def test_the_core_never_imports_platforms_or_the_database(folder: str) -> None:
    for name, module in imports(folder):
        assert module.split(".")[0] not in PLATFORM_AND_STORAGE, f"{folder}/{name}: {module}"
        assert not module.startswith(("helpdesk.storage", "helpdesk.adapters")), (
            f"{folder}/{name} imports {module}"
        )


def test_adapters_import_nothing_outward_and_not_each_other() -> None:
    for name, module in imports("adapters"):
        assert not module.startswith(OUTER), f"adapters/{name} imports {module}"
        assert module.split(".")[0] not in DATABASE, f"adapters/{name} imports {module}"
        other = module.removeprefix("helpdesk.adapters.")
        if module.startswith("helpdesk.adapters.") and other in CHAT_ADAPTERS:
            assert f"{other}.py" == name, f"adapters/{name} imports the {other} adapter"


def test_nothing_is_built_at_import_time(tmp_path: Path) -> None:
    """Importing every module, in a fresh interpreter, creates no database file."""
    script = (
        "import importlib, pkgutil, helpdesk\n"
        "for m in pkgutil.walk_packages(helpdesk.__path__, 'helpdesk.'):\n"
        "    if m.name != 'helpdesk.__main__':\n"
        "        importlib.import_module(m.name)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == []
