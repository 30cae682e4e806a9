"""The web app (services/web) in a real browser against the end-to-end stack: the
distribution's Chromium, driven by Playwright, through the names a person and a screen
reader find things by ("Email", "Sign in", "Choose files", "Download <name>"...)."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    Request,
    Response,
    Route,
    ViewportSize,
    expect,
    sync_playwright,
)

from tests.devstack.definitions import REPO_ROOT
from tests.devstack.malware_scan import EICAR
from tests.e2e.conftest import RunningStack

WEB = REPO_ROOT / "services" / "web"
# Installed from services/web/package-lock.json by `make web`; never bundled into the app.
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
# The root README shows it; the test rewrites it with UPDATE_SCREENSHOT=1 (every run
# would otherwise leave a changed file behind: the rows carry times).
SCREENSHOT = WEB / "screenshot.png"
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# As root Chromium runs only without its sandbox; the rest keeps it from calling home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

MIB = 1024 * 1024
# Above the API's single-PUT limit (64 MiB): five parts of 16 MiB.
LARGE_BYTES = 80 * MIB
LAST_PART = 5
# Hashing, sending and verifying 80 MiB takes longer than the small files' wait.
PROCESSED_WITHIN_MS = 60_000
PART_NUMBER = re.compile(r"[?&]partNumber=(\d+)(?:&|$)")
# A percentage short of 100 as the upload row writes it: "37 %", "resumed · 80 %".
UNDER_100_PERCENT = re.compile(r"(?<!\d)\d{1,2} %")
# The app's resume records of multipart uploads and its session (services/web/src).
RESUME_PREFIX = "secure-upload.resume."
RESUME_RECORDS = f"Object.keys(localStorage).filter((key) => key.startsWith('{RESUME_PREFIX}'))"
SESSION_KEY = "secure-upload.session"


def chromium_executable() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        f"no Chromium on PATH (looked for {', '.join(CHROMIUM_NAMES)}): "
        "apt-get install chromium (make pytest does it when run as root)"
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # The system's browser: Playwright's own downloads come from a CDN the gate cannot reach.
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_executable(), args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, stack: RunningStack) -> Iterator[Page]:
    """A fresh tab at the app (no session, no resume records), under the stack's CSP."""
    # Fixed locale and time zone: the dates in the file list read the same on every machine.
    context = browser.new_context(viewport=VIEWPORT, locale="en-US", timezone_id="UTC")
    opened = context.new_page()
    # Chromium logs each thing the Content-Security-Policy refused: the app needs none.
    refused: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    opened.on("console", on_console)
    opened.goto(str(stack.state.web_url))
    yield opened
    context.close()
    assert not refused, refused


def sign_in(page: Page, stack: RunningStack, password: str | None = None) -> None:
    page.get_by_label("Email").fill(stack.state.username)
    page.get_by_label("Password").fill(password or stack.state.password)
    page.get_by_role("button", name="Sign in").click()


def sign_in_as_demo_user(page: Page, stack: RunningStack) -> None:
    sign_in(page, stack)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def write_file(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def choose(page: Page, *files: Path) -> None:
    page.get_by_label("Choose files").set_input_files(list(files))


def upload_row(page: Page, name: str) -> Locator:
    """The file's item in the list of this page's uploads (progress, speed, time left)."""
    uploads = page.get_by_role("list", name="Uploads")
    return uploads.get_by_role("listitem").filter(has=page.get_by_text(name, exact=True))


def file_row(page: Page, name: str) -> Locator:
    """The file's row in "Your files" (its status, Download, Delete)."""
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=name, exact=True))


def upload_until_processed(page: Page, path: Path, timeout_ms: float = 20_000) -> None:
    expect(upload_row(page, path.name)).to_contain_text("100 %", timeout=timeout_ms)
    expect(file_row(page, path.name)).to_contain_text("PROCESSED", timeout=timeout_ms)


def listed(stack: RunningStack, name: str) -> list[dict[str, Any]]:
    """The demo user's files called `name`, as the API lists them."""
    with stack.api() as api:
        answer = api.get("/uploads", params={"limit": 100})
    assert answer.status_code == 200, answer.text
    return [item for item in answer.json()["items"] if item["file_name"] == name]


def remember_upload(page: Page, file_id: str, created_at_ms: int | None) -> str:
    """A resume record of the signed-in user, as the app writes one; its localStorage key."""
    sub = page.evaluate(f"JSON.parse(sessionStorage.getItem('{SESSION_KEY}')).sub")
    key = f"{RESUME_PREFIX}{sub}.{uuid.uuid4().hex * 2}"
    record = {"fileId": file_id, "size": LARGE_BYTES, "createdAt": created_at_ms}
    page.evaluate(
        "([key, record]) => localStorage.setItem(key, JSON.stringify("
        "{...record, createdAt: record.createdAt ?? Date.now()}))",
        [key, record],
    )
    return key


def parts_of(stack: RunningStack, file_id: str) -> int:
    """The status of the demo user's GET /uploads/{id}/parts: 200 while the upload is open."""
    with stack.api() as api:
        return api.get(f"/uploads/{file_id}/parts").status_code


def until(page: Page, ready: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Waits for what the page's events record: Playwright delivers them only while it
    waits itself, so this waits through it rather than sleeping."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        page.wait_for_timeout(50)


def part_of(url: str) -> int | None:
    """The number of the part a URL of S3's is signed for; None for any other URL."""
    found = PART_NUMBER.search(url)
    return int(found.group(1)) if found else None


def part_number(request: Request) -> int | None:
    """The part a PUT to S3 sends; None for any other request."""
    return part_of(request.url) if request.method == "PUT" else None


class HeldPart:
    """Holds the PUT of a multipart upload's part `number` unsent until release(), or the
    end of the `with`.

    Through the DevTools protocol rather than Playwright's page.route: while a route is
    set, Playwright answers every CORS preflight itself, and the bucket's CORS answers are
    part of what these tests check (the part's own preflight goes through here).
    """

    def __init__(self, page: Page, number: int) -> None:
        self._page = page
        self._pattern = f"*partNumber={number}&*"  # S3's signature follows it
        self._held: list[str] = []

    def __enter__(self) -> HeldPart:
        self._cdp = self._page.context.new_cdp_session(self._page)
        self._cdp.on("Fetch.requestPaused", self._paused)
        self._cdp.send("Fetch.enable", {"patterns": [{"urlPattern": self._pattern}]})
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._cdp.send("Fetch.disable")  # lets anything still held go
        self._cdp.detach()

    @property
    def waiting(self) -> bool:
        return bool(self._held)

    def release(self) -> None:
        for request_id in self._held:
            self._cdp.send("Fetch.continueRequest", {"requestId": request_id})
        self._held.clear()

    def _paused(self, event: dict[str, Any]) -> None:
        if event["request"]["method"] == "PUT":
            self._held.append(event["requestId"])
        else:  # its CORS preflight, answered by the bucket
            self._cdp.send("Fetch.continueRequest", {"requestId": event["requestId"]})


def serious_accessibility_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    # Evaluated through the DevTools protocol, which the page's CSP does not govern: the app
    # keeps its CSP (no `bypass_csp`), and no script tag is added to it.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    results = page.evaluate("async () => await axe.run(document)")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_the_demo_user_signs_in_and_out(page: Page, stack: RunningStack) -> None:
    revokes: list[int] = []

    def on_response(response: Response) -> None:
        if response.request.headers.get("x-amz-target", "").endswith(".RevokeToken"):
            revokes.append(response.status)

    page.on("response", on_response)
    # pragma: allowlist nextline secret (a wrong password the test types on purpose)
    sign_in(page, stack, password="not-the-password")
    expect(page.get_by_role("alert")).to_have_text("Incorrect email or password.")

    sign_in_as_demo_user(page, stack)
    expect(page.get_by_text(f"Signed in as {stack.state.username}")).to_be_visible()
    expect(page.get_by_label("Choose files")).to_be_attached()
    assert revokes == [200]  # the sign-in's refresh token, which the app never uses

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    # Signed out for good: a reload does not bring the session back.
    page.reload()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_the_sign_in_screen_has_no_serious_accessibility_violation(page: Page) -> None:
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert serious_accessibility_violations(page) == []


def test_a_small_file_is_uploaded_processed_and_downloaded_byte_for_byte(
    page: Page, stack: RunningStack, tmp_path: Path
) -> None:
    data = os.urandom(300 * 1024)
    small = write_file(tmp_path / "measurements.bin", data)
    sign_in_as_demo_user(page, stack)

    choose(page, small)
    upload_until_processed(page, small)

    with page.expect_download() as downloading:
        page.get_by_role("button", name=f"Download {small.name}", exact=True).click()
    download = downloading.value
    assert download.suggested_filename == small.name
    assert Path(download.path()).read_bytes() == data


def test_an_80_mib_upload_reloaded_midway_resumes_and_is_processed_once(
    page: Page, stack: RunningStack, tmp_path: Path
) -> None:
    large = write_file(tmp_path / "survey-scans.bin", os.urandom(LARGE_BYTES))
    sign_in_as_demo_user(page, stack)
    stored: list[int] = []  # the parts S3 took
    sent: list[int] = []  # the parts sent, from the reload on

    def on_response(response: Response) -> None:
        number = part_number(response.request)
        if number is not None and response.ok:
            stored.append(number)

    def on_request(request: Request) -> None:
        number = part_number(request)
        if number is not None:
            sent.append(number)

    page.on("response", on_response)
    # On loopback the whole upload takes about a second: with its last part held, the
    # reload comes while S3 holds the others and that part is still to be sent.
    with HeldPart(page, LAST_PART) as held:
        choose(page, large)
        until(page, lambda: len(stored) == LAST_PART - 1 and held.waiting, "four parts stored")
        expect(upload_row(page, large.name)).to_contain_text(UNDER_100_PERCENT)
        page.reload()

    expect(page.get_by_role("button", name="Sign out")).to_be_visible()  # still signed in
    page.on("request", on_request)
    # Held again until the row has said it resumed: sent at once, that is gone in a blink.
    with HeldPart(page, LAST_PART) as held:
        choose(page, large)
        expect(upload_row(page, large.name)).to_contain_text("resumed", timeout=20_000)
        until(page, lambda: held.waiting, "the last part")
        held.release()
        upload_until_processed(page, large, timeout_ms=PROCESSED_WITHIN_MS)

    # Only the part S3 lacked was sent again, and the file exists once.
    assert sent == [LAST_PART]
    (item,) = listed(stack, large.name)
    assert item["status"] == "PROCESSED"
    assert item["size_bytes"] == LARGE_BYTES


def test_signing_out_cancels_an_unfinished_upload_and_forgets_it(
    page: Page, stack: RunningStack, tmp_path: Path
) -> None:
    large = write_file(tmp_path / "left-behind.bin", os.urandom(LARGE_BYTES))
    sign_in_as_demo_user(page, stack)
    with HeldPart(page, LAST_PART) as held:
        choose(page, large)
        until(page, lambda: held.waiting, "the last part")
        (key,) = page.evaluate(RESUME_RECORDS)
        file_id = json.loads(page.evaluate("(key) => localStorage.getItem(key)", key))["fileId"]
        assert parts_of(stack, file_id) == 200  # the upload is open, its parts in S3

        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()

    # Nothing of the user's upload stays in the browser, nor half-written in the API.
    assert page.evaluate(RESUME_RECORDS) == []
    assert parts_of(stack, file_id) == 404
    assert listed(stack, large.name) == []


def test_sign_out_does_not_wait_on_a_cancel_the_network_never_answers(
    page: Page, stack: RunningStack
) -> None:
    sign_in_as_demo_user(page, stack)
    file_id = str(uuid.uuid4())
    remember_upload(page, file_id, created_at_ms=None)
    cancels: list[str] = []

    def never_answer(route: Route) -> None:
        cancels.append(route.request.url)  # and the request hangs: no answer, ever

    page.route(f"**/uploads/{file_id}?pending_only=true", never_answer)
    page.get_by_role("button", name="Sign out").click()

    # Signed out within the few seconds the cancel is given, the token and records gone.
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=10_000)
    assert page.evaluate(f"sessionStorage.getItem('{SESSION_KEY}')") is None
    assert page.evaluate(RESUME_RECORDS) == []
    assert cancels, "sign-out sent no cancel of the remembered upload"


def test_a_resume_record_older_than_a_day_or_not_ours_is_forgotten_at_page_start(
    page: Page, stack: RunningStack
) -> None:
    sign_in_as_demo_user(page, stack)
    day_ms = 24 * 60 * 60 * 1000
    fresh = remember_upload(page, str(uuid.uuid4()), created_at_ms=None)
    remember_upload(page, str(uuid.uuid4()), created_at_ms=int(time.time() * 1000) - day_ms - 1)
    page.evaluate(f"localStorage.setItem('{RESUME_PREFIX}x.y', 'not json')")
    remember_upload(page, "../../files", created_at_ms=None)

    page.reload()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert page.evaluate(RESUME_RECORDS) == [fresh]


def test_the_eicar_file_is_quarantined_with_no_download(
    page: Page, stack: RunningStack, tmp_path: Path
) -> None:
    eicar = write_file(tmp_path / "eicar.txt", EICAR)
    sign_in_as_demo_user(page, stack)

    choose(page, eicar)
    expect(upload_row(page, eicar.name)).to_contain_text("100 %")
    row = file_row(page, eicar.name)
    expect(row).to_contain_text("QUARANTINED", timeout=20_000)
    expect(row).to_contain_text("Malware was found in this file")
    expect(page.get_by_role("button", name=f"Download {eicar.name}")).to_have_count(0)
    expect(page.get_by_role("button", name=f"Delete {eicar.name}")).to_be_visible()


def test_a_deleted_file_leaves_the_list_and_the_api(
    page: Page, stack: RunningStack, tmp_path: Path
) -> None:
    doomed = write_file(tmp_path / "draft-to-delete.txt", b"a first draft, soon gone\n")
    sign_in_as_demo_user(page, stack)
    choose(page, doomed)
    upload_until_processed(page, doomed)
    assert len(listed(stack, doomed.name)) == 1

    page.get_by_role("button", name=f"Delete {doomed.name}", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(f"Deleted {doomed.name}.")
    expect(file_row(page, doomed.name)).to_have_count(0)
    assert listed(stack, doomed.name) == []


def test_the_signed_in_screen_with_files_has_no_serious_accessibility_violation(
    page: Page, stack: RunningStack, tmp_path: Path
) -> None:
    notes = write_file(tmp_path / "meeting-notes.txt", b"Agenda: the upload review.\n" * 40)
    table = write_file(tmp_path / "budget-2027.csv", b"quarter,amount\nQ1,1200\nQ2,1350\n")
    sign_in_as_demo_user(page, stack)
    choose(page, notes, table)
    upload_until_processed(page, notes)
    upload_until_processed(page, table)

    # The picture of the app in the root README: the viewport only, always 1280x800.
    taken = page.screenshot(path=SCREENSHOT if os.environ.get("UPDATE_SCREENSHOT") else None)
    assert taken.startswith(b"\x89PNG")
    assert serious_accessibility_violations(page) == []
