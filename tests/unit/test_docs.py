"""The documentation points at things that exist, and the architecture it draws is the
package as it is: a renamed module or a moved page fails here, not in a reader's hands."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "helpdesk"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_every_relative_link_resolves() -> None:
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} → {target}")
    assert broken == []


def _modules() -> set[str]:
    """The package's own parts, as the sketch names them: subpackages with a slash,
    modules with their .py, private ones and the package's plumbing left out."""
    names = set()
    for path in PACKAGE.iterdir():
        if path.name.startswith(("_", ".")) or path.name == "py.typed":
            continue
        if path.is_dir() and (path / "__init__.py").exists():
            names.add(f"{path.name}/")
        elif path.suffix == ".py":
            names.add(path.name)
    return names


def test_the_architecture_page_names_every_part_of_the_package() -> None:
    sketch = (ROOT / "docs" / "architecture.md").read_text().split("```")[1]
    named = set(re.findall(r"\b([a-z_]+(?:/|\.py))", sketch))
    missing = {m for m in _modules() if m not in named and m.rstrip("/") not in sketch}
    assert missing == set(), f"not in docs/architecture.md: {sorted(missing)}"
    gone = {n for n in named if n.endswith(".py") and not any(PACKAGE.rglob(n)) and n != "bot.py"}
    assert gone == set(), f"named in docs/architecture.md but not in helpdesk/: {sorted(gone)}"


def test_the_readme_sketch_names_existing_layers() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    # Paths such as `services/chat/` or helpdesk/cli/, not "answer/suggest/escalate".
    paths = re.findall(r"(?<![\w/])((?:[a-z_]+/)+)(?=[\s`,)]|$)", section)
    assert paths, "the README's architecture section names no package"
    for path in paths:
        assert (PACKAGE / path.removeprefix("helpdesk/")).is_dir(), path
