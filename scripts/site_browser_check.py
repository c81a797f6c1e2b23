"""Open every page of a built documentation site in headless Chromium and check what a reader sees.

Usage: site_browser_check.py SITE_DIR [--screenshots DIR]  (scripts/check-site builds SITE_DIR first)

The site is served on 127.0.0.1; Chromium is driven over the DevTools protocol (aiohttp's websocket
client). For each page it checks that
- the navigation is shown and links every page of the site;
- no raw Markdown fence (```) shows in the text outside code;
- each code-tab set switches: clicking a tab shows its block and hides the others;
- each Mermaid block became a diagram: an <svg> with text where each `pre.mermaid` was
  (mkdocs-material renders it into a closed shadow root, which DOM.getDocument(pierce) reaches);
- nothing was requested from outside 127.0.0.1, no request failed and no script error was thrown.
Exit 0 when every page passes, 1 otherwise; a line per page either way.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import http.server
import itertools
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--window-size=1400,1000",
]

PAGE_STATE_JS = r"""
(() => {
  const article = document.querySelector("article");
  const clone = article.cloneNode(true);
  clone.querySelectorAll("pre, code").forEach((e) => e.remove());
  const nav = document.querySelector("nav.md-nav--primary");
  const navRect = nav ? nav.getBoundingClientRect() : null;
  const tabs = [...document.querySelectorAll("article .tabbed-set")].map((set) => {
    const labels = [...set.querySelectorAll(":scope > .tabbed-labels > label")];
    const blocks = [...set.querySelectorAll(":scope > .tabbed-content > .tabbed-block")];
    const shown = () => blocks.map((b) => getComputedStyle(b).display !== "none");
    const results = labels.map((label, i) => {
      label.click();
      const visible = shown();
      return visible[i] && visible.filter(Boolean).length === 1;
    });
    if (labels.length) labels[0].click();
    return { labels: labels.map((l) => l.textContent.trim()), switches: results };
  });
  return {
    title: document.title,
    rawFence: clone.innerText.includes("```"),
    navShown: !!nav && getComputedStyle(nav).display !== "none" && navRect.width > 0,
    navLinks: [...document.querySelectorAll("nav.md-nav--primary a.md-nav__link[href]")].map((a) => a.href),
    pendingMermaid: document.querySelectorAll("pre.mermaid").length,
    tabs,
  };
})()
"""


class DevTools:
    """A minimal DevTools protocol client: one browser websocket, flattened page sessions."""

    def __init__(self, ws):
        self.ws = ws
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future] = {}
        self.events: list[dict] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self):
        async for message in self.ws:
            data = json.loads(message.data)
            if "id" in data and data["id"] in self.pending:
                self.pending.pop(data["id"]).set_result(data)
            else:
                self.events.append(data)

    async def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        ident = next(self.ids)
        future = asyncio.get_running_loop().create_future()
        self.pending[ident] = future
        message = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        await self.ws.send_str(json.dumps(message))
        reply = await asyncio.wait_for(future, 60)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    async def evaluate(self, expression: str, session: str):
        result = await self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, session
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"script error: {result['exceptionDetails']}")
        return result["result"].get("value")


def walk(node: dict):
    yield node
    for child in node.get("children", []) + node.get("shadowRoots", []):
        yield from walk(child)


def attributes(node: dict) -> dict[str, str]:
    values = node.get("attributes", [])
    return dict(zip(values[::2], values[1::2]))


def diagrams(document: dict) -> list[dict]:
    """Each rendered Mermaid diagram: its svg and the text it shows."""
    found = []
    for node in walk(document):
        if node.get("nodeName") == "DIV" and "mermaid" in attributes(node).get("class", "").split():
            svgs = [n for root in node.get("shadowRoots", []) for n in walk(root) if n.get("nodeName") == "svg"]
            text = " ".join(
                n.get("nodeValue", "") for svg in svgs for n in walk(svg) if n.get("nodeType") == 3
            )  # text nodes
            found.append(
                {
                    "svg": bool(svgs),
                    "shapes": sum(1 for svg in svgs for _ in walk(svg)),
                    "text": text,
                    "node": node.get("backendNodeId"),
                }
            )
    return found


def expected_mermaid(page_html: str) -> list[str]:
    """The source of each Mermaid block the built page holds."""
    blocks = re.findall(r'<pre class="mermaid"><code>(.*?)</code></pre>', page_html, re.DOTALL)
    return [re.sub(r"<[^>]+>", "", block) for block in blocks]


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, int]:
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


async def check_site(site: Path, screenshots: Path | None) -> bool:
    server, port = serve(site)
    base = f"http://127.0.0.1:{port}/"
    pages = sorted(p.relative_to(site).parent.as_posix() for p in site.rglob("index.html"))
    profile = Path(tempfile.mkdtemp(prefix="check-site-chromium-"))
    browser = subprocess.Popen(
        [shutil.which("chromium") or "chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().split("\n")) >= 2):
            if time.monotonic() > deadline or browser.poll() is not None:
                raise RuntimeError("chromium did not start (is it installed? apt-get install chromium)")
            await asyncio.sleep(0.1)
        devtools_port, path = port_file.read_text().split("\n")[:2]
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(f"ws://127.0.0.1:{devtools_port}{path}", max_msg_size=0) as ws,
        ):
            tools = DevTools(ws)
            ok = True
            for page in pages:
                ok &= await check_page(tools, site, base, page, pages, screenshots)
            tools.reader.cancel()
            return ok
    finally:
        browser.terminate()
        browser.wait(timeout=30)
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)


async def check_page(tools: DevTools, site: Path, base: str, page: str, pages: list[str], screenshots) -> bool:
    url = base if page == "." else f"{base}{page}/"
    target = await tools.send("Target.createTarget", {"url": "about:blank"})
    session = (await tools.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}))[
        "sessionId"
    ]
    for domain in ("Page", "Runtime", "Network", "Log"):
        await tools.send(f"{domain}.enable", session=session)
    await tools.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": False},
        session,
    )
    first_event = len(tools.events)
    await tools.send("Page.navigate", {"url": url}, session)
    expected = expected_mermaid((site / page / "index.html").read_text(encoding="utf-8"))
    deadline = time.monotonic() + 30
    while True:  # loaded, and every mermaid block replaced (or time is up)
        await asyncio.sleep(0.5)
        loaded = await tools.evaluate("document.readyState === 'complete'", session)
        pending = await tools.evaluate("document.querySelectorAll('pre.mermaid').length", session)
        if (loaded and not pending) or time.monotonic() > deadline:
            break
    await asyncio.sleep(0.5)
    state = await tools.evaluate(PAGE_STATE_JS, session)
    document = (await tools.send("DOM.getDocument", {"depth": -1, "pierce": True}, session))["root"]
    drawn = diagrams(document)
    if screenshots is not None:
        shot = await tools.send("Page.captureScreenshot", {"format": "png"}, session)
        name = "index" if page == "." else page.replace("/", "_")
        (screenshots / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))
        for i, diagram in enumerate(drawn):  # each diagram on its own, as drawn
            box = await tools.send("DOM.getBoxModel", {"backendNodeId": diagram["node"]}, session)
            xs, ys = box["model"]["border"][0::2], box["model"]["border"][1::2]
            clip = {"x": min(xs), "y": min(ys), "width": max(xs) - min(xs), "height": max(ys) - min(ys), "scale": 1}
            if clip["width"] and clip["height"]:
                shot = await tools.send(
                    "Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True}, session
                )
                (screenshots / f"{name}-mermaid-{i + 1}.png").write_bytes(base64.b64decode(shot["data"]))
    events = [e for e in tools.events[first_event:] if e.get("sessionId") == session]
    await tools.send("Target.closeTarget", {"targetId": target["targetId"]})

    problems = []
    if not state["navShown"]:
        problems.append("the navigation is not shown")
    linked = {link.removeprefix(base).rstrip("/") or "." for link in state["navLinks"] if link.startswith(base)}
    missing = sorted(p for p in pages if p not in linked and p != "404")
    if missing:
        problems.append(f"the navigation does not link {missing}")
    if state["rawFence"]:
        problems.append("a raw ``` fence shows in the text")
    for i, tabs in enumerate(state["tabs"]):
        if len(tabs["labels"]) < 2 or not all(tabs["switches"]):
            problems.append(f"code tabs {i + 1} {tabs['labels']} do not switch: {tabs['switches']}")
    if state["pendingMermaid"] or len(drawn) != len(expected):
        problems.append(f"{len(expected)} Mermaid blocks, {len(drawn)} diagrams, {state['pendingMermaid']} left raw")
    for source, diagram in zip(expected, drawn):
        words = re.findall(r"\b[a-z_]{6,}\b", source)
        if not diagram["svg"] or (words and words[0] not in diagram["text"]):
            problems.append(f"a Mermaid diagram has no svg showing {words[:1]}: {diagram['text'][:80]!r}")
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            request = params["request"]["url"]
            if not request.startswith((base, "data:", "blob:")):
                problems.append(f"requested from outside the site: {request}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            problems.append(f"a request failed: {params.get('errorText')}")
        elif method == "Runtime.exceptionThrown":
            problems.append(f"script error: {params['exceptionDetails'].get('text')}")
    tabs = sum(len(t["labels"]) for t in state["tabs"])
    summary = f"{len(state['tabs'])} tab sets ({tabs} tabs), {len(drawn)} Mermaid diagrams"
    print(f"{'ok  ' if not problems else 'FAIL'} {page:16} {summary}", flush=True)
    for problem in problems:
        print(f"       {problem}", flush=True)
    return not problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--screenshots", type=Path)
    args = parser.parse_args()
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    return 0 if asyncio.run(check_site(args.site, args.screenshots)) else 1


if __name__ == "__main__":
    sys.exit(main())
