"""The report opened in a real headless Chromium: it loads without console errors, fetches nothing, draws every
plot, and shows hostile names as text.

Needs Debian's `chromium` and the `playwright` package (both installed by .ci/run; no browser is downloaded).
Where they are missing the test is skipped, unless SCALINGLAWS_REQUIRE_BROWSER=1 (set by CI), where it fails.
"""

from __future__ import annotations

import os
import shutil
import warnings

import pytest
from test_report import EVIL, EVIL_RUN, write_ladder

import scalinglaws as sl
from scalinglaws.report import report

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def browser_or_skip():
    required = os.environ.get("SCALINGLAWS_REQUIRE_BROWSER") == "1"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if required:
            pytest.fail("playwright is not installed but SCALINGLAWS_REQUIRE_BROWSER=1")
        pytest.skip("playwright is not installed (pip install playwright); .ci/run installs it")
    path = chromium_path()
    if path is None:
        if required:
            pytest.fail("chromium is not installed but SCALINGLAWS_REQUIRE_BROWSER=1")
        pytest.skip("no chromium on PATH (apt-get install chromium); .ci/run installs it")
    return sync_playwright, path


def open_page(html, profile, screenshot=None) -> dict:
    """Open a report in headless Chromium and collect what a test checks: console messages, requests, dialogs,
    traces drawn per plot, point count, legend texts, injected elements, the title (and a screenshot if asked)."""
    sync_playwright, exe = browser_or_skip()
    seen = {"console": [], "requests": [], "dialogs": []}
    with sync_playwright() as p:
        # a new, empty profile: no extensions, caches or settings from anywhere else
        context = p.chromium.launch_persistent_context(str(profile), executable_path=exe, headless=True, args=FLAGS,
                                                       viewport={"width": 1400, "height": 1000})
        try:
            page = context.new_page()
            page.on("console", lambda m: seen["console"].append((m.type, m.text)))
            page.on("pageerror", lambda e: seen["console"].append(("pageerror", str(e))))
            page.on("request", lambda r: seen["requests"].append(r.url))
            page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
            page.goto(html.as_uri())
            page.wait_for_function("""() => {
                const plots = Array.from(document.querySelectorAll('.sl-plot'));
                return plots.length > 0 && plots.every(d => d.querySelector('.main-svg .scatterlayer'));
            }""", timeout=30_000)
            seen["drawn"] = page.evaluate("""() => Array.from(document.querySelectorAll('.sl-plot')).map(
                d => d.querySelectorAll('.scatterlayer .trace').length)""")
            seen["points"] = page.evaluate("document.querySelectorAll('.sl-plot .scatterlayer .point').length")
            seen["legend"] = page.evaluate("""() => Array.from(document.querySelectorAll('.legendtext')).map(
                t => t.textContent)""")
            seen["injected"] = page.evaluate(
                "document.querySelectorAll('img[src=x], main script:not(.sl-data)').length")
            seen["title"] = page.title()
            if screenshot is not None:
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            context.close()
    return seen


def test_report_opens_in_chromium_with_its_plots(tmp_path):
    browser_or_skip()  # before any work, so a missing browser skips (or fails under CI) at once
    data = write_ladder(tmp_path / "runs.json")
    fit = sl.fit(str(data), "chinchilla", bootstrap=100, seed=0)
    fit_path = fit.save(tmp_path / "fit.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = report([str(fit_path), "dataset:porian_isoflop?loss_split=val&dataset=refinedweb"],
                     tmp_path / "report.html", at={"params": [7e10], "tokens": [1.4e12]})
    n_plots = sum(len(f.panels) for s in rep.sections for f in s.figures)
    shot = tmp_path / "report.png"
    seen = open_page(tmp_path / "report.html", tmp_path / "profile", screenshot=shot)
    console, requests, dialogs, drawn = seen["console"], seen["requests"], seen["dialogs"], seen["drawn"]
    points, legend, injected, title = seen["points"], seen["legend"], seen["injected"], seen["title"]
    assert [c for c in console if c[0] in ("error", "pageerror", "warning")] == []
    assert requests == [(tmp_path / "report.html").as_uri()]  # nothing fetched but the page itself
    assert len(drawn) == n_plots and all(n > 0 for n in drawn)  # every panel drew its traces
    assert points > 500
    assert dialogs == [] and injected == 0  # hostile names stayed text
    assert EVIL in legend  # ... and read as the user wrote them
    assert EVIL_RUN not in title
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 100_000
    if os.environ.get("SCALINGLAWS_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["SCALINGLAWS_KEEP_SCREENSHOT"])
