"""Layout and accessibility checks of a page in a real Chromium: no sideways scroll, no clipped text, and axe-core's
scan (its axe.min.js comes bundled in the axe-playwright-python package: nothing is fetched at test time)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import axe_playwright_python
from playwright.async_api import Page

AXE_JS = Path(axe_playwright_python.__file__).with_name('axe.min.js')
BLOCKING = ('serious', 'critical')
PHONE = {'width': 390, 'height': 844}
DESKTOP = {'width': 1280, 'height': 900}

# Every visible element that holds text of its own is checked against the nearest ancestor that cuts what overflows
# it (overflow hidden/clip); an ancestor that scrolls (auto/scroll) ends the search: its content can be reached.
# Its own box must not be cut either (a truncated label: scrollWidth past clientWidth with overflow hidden).
LAYOUT_JS = """() => {
  const problems = [];
  const doc = document.scrollingElement;
  if (doc.scrollWidth > window.innerWidth) problems.push(`scrolls sideways: ${doc.scrollWidth} > ${window.innerWidth}`);
  const name = (el) =>
    `<${el.tagName.toLowerCase()} class="${el.className}">${(el.textContent || '').trim().slice(0, 50)}`;
  const cuts = (style) => ['hidden', 'clip'].includes(style.overflowX);
  const scrolls = (style) => ['auto', 'scroll'].includes(style.overflowX);
  for (const el of document.body.querySelectorAll('*')) {
    const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!text || el.closest('[aria-hidden="true"], .q-icon, .material-icons, script, style, .sr-only')) continue;
    if (!el.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const style = getComputedStyle(el);
    if (cuts(style) && el.scrollWidth > el.clientWidth + 1) { problems.push(`cut short: ${name(el)}`); continue; }
    let parent = el.parentElement, reachable = false;
    for (; parent && parent !== document.body; parent = parent.parentElement) {
      const outer = getComputedStyle(parent);
      if (scrolls(outer)) { reachable = true; break; }
      if (cuts(outer)) {
        const edge = parent.getBoundingClientRect();
        if (box.right > edge.right + 1 || box.left < edge.left - 1) problems.push(`clipped by its box: ${name(el)}`);
        break;
      }
    }
    if (!reachable && (box.right > window.innerWidth + 1 || box.left < -1)) problems.push(`off screen: ${name(el)}`);
  }
  return problems;
}"""


async def layout_problems(page: Page) -> list[str]:
    return await page.evaluate(LAYOUT_JS)


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not await page.evaluate('typeof window.axe !== "undefined"'):
        await page.add_script_tag(path=str(AXE_JS))
    results = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [v for v in results['violations'] if v['impact'] in BLOCKING]


def describe(violations: list[dict[str, Any]]) -> list[str]:
    """One line per violation and element, short enough to read in a failed assertion."""
    return [
        f'{v["id"]} ({v["impact"]}): {node["html"][:100]} {node.get("failureSummary", "")[60:200]!r}'
        for v in violations
        for node in v['nodes'][:5]
    ]
