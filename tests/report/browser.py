"""Open a page in headless Chromium (Debian's package) over the Chrome DevTools protocol.

No browser download and no Node: the ``chromium`` binary, its DevTools websocket on the
loopback interface and ``websocket-client``. Collects console errors, uncaught exceptions,
log entries and every network request, evaluates a script, and takes a screenshot.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import websocket

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
    "--window-size=1300,1000",
]


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageVisit:
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    result: object = None


def visit(url: str, profile: Path, script: str, screenshot: Path, timeout: float = 60) -> PageVisit:
    """Load ``url``, run ``script`` (an expression returning JSON-able data), save a screenshot."""
    binary = chromium_binary()
    if binary is None:
        raise RuntimeError("chromium is not installed: run `make chromium` (Debian's package)")
    profile.mkdir(parents=True, exist_ok=True)
    browser = subprocess.Popen(
        [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (port_file.is_file() and port_file.read_text().strip()):
            if time.monotonic() > deadline or browser.poll() is not None:
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().splitlines()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            pages = [t for t in json.load(response) if t["type"] == "page"]
        ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=timeout)
        return _drive(ws, url, script, screenshot, deadline)
    finally:
        browser.terminate()
        try:
            browser.wait(10)
        except subprocess.TimeoutExpired:
            browser.kill()


def _drive(ws, url: str, script: str, screenshot: Path, deadline: float) -> PageVisit:
    ids = itertools.count(1)
    visit = PageVisit()
    replies: dict[int, dict] = {}
    loaded = False

    def handle(message: dict) -> None:
        nonlocal loaded
        method = message.get("method")
        params = message.get("params", {})
        if "id" in message:
            replies[message["id"]] = message
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            visit.console_errors.append(
                " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
            )
        elif method == "Runtime.exceptionThrown":
            visit.console_errors.append(params["exceptionDetails"].get("text", "exception"))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            visit.console_errors.append(params["entry"].get("text", ""))
        elif method == "Network.requestWillBeSent":
            visit.requests.append(params["request"]["url"])
        elif method == "Page.loadEventFired":
            loaded = True

    def call(method: str, **params) -> dict:
        call_id = next(ids)
        ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while call_id not in replies:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no reply to {method}")
            handle(json.loads(ws.recv()))
        reply = replies.pop(call_id)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    for domain in ("Runtime", "Log", "Network", "Page"):
        call(f"{domain}.enable")
    call("Page.navigate", url=url)
    while not loaded:
        if time.monotonic() > deadline:
            raise TimeoutError("the page did not finish loading")
        handle(json.loads(ws.recv()))
    evaluated = call("Runtime.evaluate", expression=script, returnByValue=True)
    visit.result = evaluated.get("result", {}).get("value")
    shot = call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    ws.close()
    return visit
