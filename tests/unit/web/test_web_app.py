"""The web app's page and build (services/web): the page needs nothing the
Content-Security-Policy forbids, its form fields have the labels the browser tests use,
and building twice gives the same bytes."""

from __future__ import annotations

import shutil
import subprocess  # nosec B404 - runs node on the project's own build script
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.devstack.definitions import REPO_ROOT

WEB = REPO_ROOT / "services" / "web"
BUILT_FILES = {"index.html", "app.js", "app.css"}


class _Page(HTMLParser):
    """Every start tag of a page, its <template>s' included, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.texts: dict[str, str] = {}  # element id -> its text, for <label>s
        self._open_label: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "label":
            self._open_label = dict(attrs).get("for")

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._open_label = None

    def handle_data(self, data: str) -> None:
        if self._open_label is not None:
            self.texts[self._open_label] = self.texts.get(self._open_label, "") + data.strip()


def _page() -> _Page:
    page = _Page()
    page.feed((WEB / "src" / "index.html").read_text(encoding="utf-8"))
    return page


def test_the_page_has_no_inline_script_style_or_handler() -> None:
    page = _page()

    scripts = [attrs for tag, attrs in page.tags if tag == "script"]
    # From the root: a copy of the page under another prefix still runs the released app.
    assert scripts == [{"type": "module", "src": "/app.js"}]
    assert not [tag for tag, _ in page.tags if tag == "style"]
    inline = [(tag, name) for tag, attrs in page.tags for name in attrs if name == "style"]
    handlers = [(tag, name) for tag, attrs in page.tags for name in attrs if name.startswith("on")]
    assert inline == []
    assert handlers == []


def test_the_form_fields_have_the_labels_of_the_contract() -> None:
    page = _page()
    inputs = {attrs.get("id"): attrs for tag, attrs in page.tags if tag == "input"}

    labelled = {text: inputs[field_id]["type"] for field_id, text in page.texts.items()}
    assert labelled == {
        "Email": "email",
        # pragma: allowlist nextline secret (the type of a form input, not a password)
        "Password": "password",
        # pragma: allowlist nextline secret (the type of a form input, not a password)
        "New password": "password",
        "Choose files": "file",
    }


def test_building_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None or not (WEB / "node_modules" / "esbuild").is_dir():
        pytest.fail("the web app's build needs node and its packages: run make web")

    for name in ("first", "second"):
        subprocess.run(  # noqa: S603  # nosec B603 - fixed argv, no shell
            [node, str(WEB / "build.mjs"), str(tmp_path / name)], check=True, timeout=60
        )

    first = {path.name: path.read_bytes() for path in (tmp_path / "first").iterdir()}
    second = {path.name: path.read_bytes() for path in (tmp_path / "second").iterdir()}
    assert set(first) == BUILT_FILES
    assert first == second
