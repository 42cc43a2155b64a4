"""The READMEs, the changelog and the docs site explain the repository from inside it:
every path they name exists here, every link resolves, and the site builds."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
READMES = ("README.md", "aegis_client/README.md", "bench/README.md", "results/README.md")
DOCS = REPO / "docs"
# Every Markdown page a reader is sent to: the READMEs, the changelog, the docs site.
MARKDOWN = (
    *READMES,
    "CHANGELOG.md",
    *sorted(p.relative_to(REPO).as_posix() for p in DOCS.rglob("*.md")),
)
README_MAX_LINES = 200

# Top-level entries a backticked path may start with; anything else (`parts/`,
# `pooled/`, `text/html`) is not a repository path.
TOP_LEVEL = frozenset(
    {"aegis_client", "bench", "scenarios", "results", "tests", "docs", ".ci", "pyproject.toml"}
)
# Top-level files a backticked name without a slash may be (`summary.json` is output).
TOP_LEVEL_FILES = frozenset({"README.md", "CHANGELOG.md", "mkdocs.yml", "pyproject.toml"})
# A repository path: name characters and slashes only. This leaves out placeholders
# (`results/<timestamp>-<strategy>/`), globs (`locust_*.csv`), command lines, URLs and
# `host:port`; absolute paths (`/proc/net/tcp`, `/api/v1/auth/me`) are excluded below.
_PATH = re.compile(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*/?")
_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# Where the project's design documents used to live, outside any clone.
_OUTSIDE_DOCS = ("shared/spec", "DESIGN.md")
_SCANNED = ("aegis_client", "bench", "scenarios", "tests", ".ci", "docs")
_SCANNED_FILES = ("pyproject.toml", "mkdocs.yml", "CHANGELOG.md", *READMES)


def _prose(readme: str) -> str:
    """The README's text without fenced code blocks (examples, diagrams, sample output)."""
    return _FENCE.sub("", (REPO / readme).read_text(encoding="utf-8"))


def _link_targets(readme: str) -> list[str]:
    """Relative link targets of the README, without #fragments (URLs and anchors left out)."""
    text = _CODE_SPAN.sub("", _prose(readme))
    targets = []
    for target in _LINK.findall(text):
        if target.startswith(("#", "http://", "https://", "mailto:")):
            continue
        targets.append(target.split("#", 1)[0])
    return targets


def _code_spans(readme: str) -> list[str]:
    return _CODE_SPAN.findall(_prose(readme))


def is_repository_path(token: str) -> bool:
    """True when a backticked token names a file or folder of this repository."""
    if token in TOP_LEVEL_FILES:
        return True
    if "/" not in token or token.startswith(("/", "~", "..", "http")):
        return False
    if not _PATH.fullmatch(token):
        return False
    return token.split("/", 1)[0] in TOP_LEVEL


def _inside_repository(path: Path) -> bool:
    return path.resolve().is_relative_to(REPO)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("bench/backend/", True),
        ("scenarios/aegis_session.py", True),
        ("bench/report/_pyperf.py", True),
        (".ci/run", True),
        ("results/<timestamp>-<strategy>/", False),
        ("pyperf-<strategy>.json", False),
        ("summary.json", False),
        ("locust_*.csv", False),
        ("parts/", False),
        ("python -m bench.perf.bench_get -o results/get.json", False),
        ("/proc/net/tcp", False),
        ("/api/v1/auth/me", False),
        ("../shared/spec/api-client.md", False),
        ("https://example.org/bench/x", False),
        ("~/bench/x", False),
        ("bench/{a,b}.py", False),
        ("docs/options.md", True),
        ("CHANGELOG.md", True),
        ("mkdocs.yml", True),
        ("compare.md", False),
    ],
)
def test_only_repository_paths_look_like_paths(token: str, expected: bool) -> None:
    """Placeholders, run outputs, command lines, absolute and URL paths are not checked."""
    assert is_repository_path(token) is expected


@pytest.mark.parametrize("readme", MARKDOWN)
def test_relative_links_point_at_existing_files(readme: str) -> None:
    """Every relative Markdown link resolves, from the README's folder, to a file or folder."""
    folder = (REPO / readme).parent
    missing = [t for t in _link_targets(readme) if not (folder / t).exists()]
    assert missing == [], f"{readme} links to missing paths: {missing}"


@pytest.mark.parametrize("readme", MARKDOWN)
def test_relative_links_stay_inside_the_repository(readme: str) -> None:
    """No relative Markdown link leaves the repository, which is all a clone has."""
    folder = (REPO / readme).parent
    outside = [t for t in _link_targets(readme) if not _inside_repository(folder / t)]
    assert outside == [], f"{readme} links outside the repository: {outside}"


@pytest.mark.parametrize("readme", MARKDOWN)
def test_backticked_repository_paths_exist(readme: str) -> None:
    """Every backticked repository path (`bench/backend/`, ...) names a file or folder here."""
    paths = [t for t in _code_spans(readme) if is_repository_path(t)]
    missing = [t for t in paths if not (REPO / t).exists()]
    assert missing == [], f"{readme} names missing paths: {missing}"


@pytest.mark.parametrize("readme", MARKDOWN)
def test_backticked_paths_never_climb_out_of_the_repository(readme: str) -> None:
    """No backticked path starts with or contains a `..` step."""
    climbing = [t for t in _code_spans(readme) if ".." in re.split(r"[/\s]", t)]
    assert climbing == [], f"{readme} names paths outside the repository: {climbing}"


def test_the_docs_are_scanned() -> None:
    """The checks above cover the docs site, the changelog and the generated pages."""
    for page in ("CHANGELOG.md", "docs/index.md", "docs/options.md", "docs/exit-codes.md"):
        assert page in MARKDOWN


@pytest.mark.parametrize("page", [p for p in MARKDOWN if p.startswith("docs/")])
def test_docs_pages_link_only_within_the_site(page: str) -> None:
    """A docs page links to other docs pages only: the site holds nothing else, so it names
    other repository files as backticked paths (checked above) instead of linking them."""
    folder = (REPO / page).parent
    outside = [t for t in _link_targets(page) if not (folder / t).resolve().is_relative_to(DOCS)]
    assert outside == [], f"{page} links outside docs/: {outside}"


def test_readme_stays_short() -> None:
    """The README is the first screen and the two commands; the rest lives in docs/."""
    lines = len((REPO / "README.md").read_text(encoding="utf-8").splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines, at most {README_MAX_LINES}"


def test_ci_runs_the_readme_test_line() -> None:
    """.ci/run runs exactly the README's test line: the first line of a fenced block with
    pytest in it."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = [m.group(0) for m in _FENCE.finditer(text)]
    lines = [line for block in blocks for line in block.splitlines() if "pytest" in line]
    assert lines, "README.md has no fenced test line"
    assert lines[0].startswith("apt-get "), lines[0]
    assert lines[0].endswith("python -m pytest"), lines[0]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert lines[0] in ci, ".ci/run does not run the README's test line"


def test_the_docs_site_builds_strictly(tmp_path: Path) -> None:
    """`mkdocs build --strict` (mkdocs.yml) passes: every page is in the nav, every link and
    anchor between pages resolves, and the build needs no network."""
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "index.html").is_file()
    assert (tmp_path / "options.html").is_file()


def _scanned_files() -> list[Path]:
    files = [REPO / name for name in _SCANNED_FILES]
    for folder in _SCANNED:
        files += (
            p for p in (REPO / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts
        )
    return sorted({p for p in files if p.resolve() != Path(__file__).resolve()})


def test_no_file_refers_to_documents_outside_the_repository() -> None:
    """No code, test or README sends the reader to shared/spec or DESIGN.md."""
    offenders = []
    for path in _scanned_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        offenders += [f"{path.relative_to(REPO)}: {name}" for name in _OUTSIDE_DOCS if name in text]
    assert offenders == [], f"references outside the repository: {offenders}"


def test_importing_the_cli_imports_no_locust() -> None:
    """The CLI process stays unpatched: importing it loads neither Locust nor gevent."""
    code = (
        "import sys; import bench.cli._main, bench.cli._run, bench.preflight, bench.report; "
        "print('locust' in sys.modules or 'gevent' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "False", result.stderr
