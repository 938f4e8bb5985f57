"""A headless Chromium driven over the DevTools protocol, for the browser test.

The browser is Debian's `chromium` (scripts/install_system_deps.sh installs it);
nothing is downloaded. It starts with its networking features off (no QUIC, no
background networking, no component updates, no sync), in a throwaway profile,
and every request a page makes is recorded so a test can assert that a page
needs nothing but files. The protocol client is `websocket-client` (PyPI).
"""
from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websocket

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-features=Translate,OptimizationHints,MediaRouter,InterestFeedContentSuggestions",
    "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome-error:", "devtools:")


class BrowserError(RuntimeError):
    pass


@dataclass
class PageLog:
    """What a page did: console errors, uncaught exceptions, every request."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def remote_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(LOCAL_SCHEMES)]


class Chromium:
    """One headless browser with one page. Use as a context manager."""

    def __init__(self, width: int = 1400, height: int = 900, timeout: float = 30.0) -> None:
        if not Path(CHROMIUM).exists():
            raise BrowserError(f"{CHROMIUM} not found: run scripts/install_system_deps.sh")
        self.width, self.height, self.timeout = width, height, timeout
        self.profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
        self.log = PageLog()
        self._ids = itertools.count(1)
        self._events: list[dict[str, Any]] = []
        stderr_path = self.profile.parent / f"{self.profile.name}.stderr"
        self._stderr = stderr_path.open("w+")
        self.process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=self._stderr, start_new_session=True)
        try:
            self.ws = websocket.create_connection(self._page_websocket(), timeout=timeout,
                                                  suppress_origin=True, enable_multithread=False)
            for domain in ("Page", "Runtime", "Log", "Network"):
                self.send(f"{domain}.enable")
            self.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                      deviceScaleFactor=1, mobile=False)
        except Exception:
            self.close()
            raise

    # --- start-up -----------------------------------------------------------------
    def _page_websocket(self) -> str:
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while not port_file.exists() or not port_file.read_text().strip():
            if self.process.poll() is not None:
                raise BrowserError(f"chromium exited {self.process.returncode}: {self._stderr_tail()}")
            if time.monotonic() > deadline:
                raise BrowserError(f"chromium did not open its DevTools port: {self._stderr_tail()}")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        while True:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as response:
                pages = [t for t in json.load(response) if t.get("type") == "page"]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
            if time.monotonic() > deadline:
                raise BrowserError("chromium opened no page")
            time.sleep(0.05)

    def _stderr_tail(self) -> str:
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()[-2000:]

    # --- protocol -------------------------------------------------------------------
    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a DevTools method and return its result; events that arrive meanwhile are kept."""
        call_id = next(self._ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            if message.get("id") == call_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._event(message)
        raise BrowserError(f"{method}: no answer within {self.timeout} s")

    def _event(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method is None:
            return
        self._events.append(message)
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(arg.get("value", arg.get("description", ""))) for arg in params.get("args", []))
            self.log.errors.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text", "")
            self.log.errors.append(f"uncaught exception: {text}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            self.log.errors.append(f"log {entry.get('source')}: {entry.get('text')} {entry.get('url', '')}".strip())
        elif method == "Network.requestWillBeSent":
            self.log.requests.append(params.get("request", {}).get("url", ""))

    def _pump(self, seconds: float) -> None:
        """Read events for a while (console errors that arrive after load)."""
        deadline = time.monotonic() + seconds
        self.ws.settimeout(0.05)
        try:
            while time.monotonic() < deadline:
                try:
                    self._event(json.loads(self.ws.recv()))
                except websocket.WebSocketTimeoutException:
                    pass
        finally:
            self.ws.settimeout(self.timeout)

    # --- page -----------------------------------------------------------------------
    def open(self, url: str) -> None:
        """Load `url` afresh and wait for its load event; `log` then holds this page's errors and
        requests. A URL that differs from the current one only by its #fragment would be a
        same-document navigation without a load, so the page is blanked first."""
        current = self.evaluate("location.href") or ""
        if current.split("#")[0] == url.split("#")[0] and not url.startswith("about:"):
            self._navigate("about:blank")
        self.log = PageLog()
        self._navigate(url)

    def _navigate(self, url: str) -> None:
        self._events.clear()
        result = self.send("Page.navigate", url=url)
        if result.get("errorText"):
            raise BrowserError(f"cannot open {url}: {result['errorText']}")
        deadline = time.monotonic() + self.timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self._events):
            if time.monotonic() > deadline:
                raise BrowserError(f"{url} did not finish loading within {self.timeout} s")
            self._pump(0.1)

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression[:80]}...: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, what: str, timeout: float | None = None) -> Any:
        """Poll a JavaScript expression until it is truthy; fail naming `what`."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out waiting for {what}")
            self._pump(0.2)

    def viewport(self, width: int, height: int) -> None:
        """Resize the page's viewport (screenshots are taken at this size)."""
        self.width, self.height = width, height
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def settle(self, seconds: float = 0.5) -> None:
        self._pump(seconds)

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            height = int(self.evaluate("Math.ceil(document.documentElement.scrollHeight)"))
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": self.width, "height": height, "scale": 1})
        data = self.send("Page.captureScreenshot", **params)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    # --- shutdown -------------------------------------------------------------------
    def close(self) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            try:
                ws.close()
            except Exception:
                pass
        if self.process.poll() is None:
            # The browser leads its own process group (start_new_session): stop the group.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._stderr.close()
        Path(self._stderr.name).unlink(missing_ok=True)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
