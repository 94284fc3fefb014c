/**
 * Looks at report pages the way a reader does: Debian's Chromium (headless, driven by playwright-core, no browser
 * download) opens each page from disk with the network cut off, and every figure must be drawn: an <img> that
 * loaded (naturalWidth > 0; an SVG image must also hold vega marks or shapes), an inline <svg> with shapes in it,
 * a <canvas> with pixels. Console errors, failed requests, broken images and links to missing files or anchors are
 * problems. Used by the notebooks test (on the report it builds) and by report-browser.test.ts (on known pages).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL, fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = process.env.IAPO_CHROMIUM ?? "/usr/bin/chromium";

export interface PageCheck {
  /** The page's file name in the report folder. */
  page: string;
  /** Figures seen drawn: images, inline SVGs and canvases. */
  figures: number;
  problems: string[];
}

/** What the page reports about itself (run inside the browser). */
interface InPage {
  figures: number;
  problems: string[];
  links: string[];
}

/**
 * Runs in the page (as source text: the project compiles without the DOM's types): checks every figure and
 * collects the links; evaluates to an InPage.
 */
const INSPECT_PAGE = `
(() => {
  const problems = [];
  let figures = 0;
  const shapes = "path, line, rect, circle, ellipse, polygon, polyline, text, image, use";
  // an SVG "has marks" when it holds shapes beyond its background: vega draws its marks inside g.mark-* groups
  const svgDrawn = (svg) => {
    const marks = svg.querySelectorAll(\`g[class*="mark-"] :is(\${shapes})\`).length;
    return marks > 0 || (svg.querySelectorAll("g[class*='mark-']").length === 0 && svg.querySelectorAll(shapes).length > 1);
  };
  const label = (el) => (el.getAttribute("alt") ?? el.getAttribute("src") ?? el.outerHTML).slice(0, 80);
  for (const img of Array.from(document.images)) {
    if (!img.complete || img.naturalWidth === 0) {
      problems.push(\`image did not load: \${label(img)}\`);
      continue;
    }
    const src = img.getAttribute("src") ?? "";
    const svgPrefix = "data:image/svg+xml;base64,";
    if (src.startsWith(svgPrefix)) {
      const text = new TextDecoder().decode(Uint8Array.from(atob(src.slice(svgPrefix.length)), (c) => c.charCodeAt(0)));
      const doc = new DOMParser().parseFromString(text, "image/svg+xml");
      if (doc.querySelector("parsererror") || !svgDrawn(doc.documentElement)) {
        problems.push(\`SVG image has no marks: \${label(img)}\`);
        continue;
      }
    }
    figures++;
  }
  for (const svg of Array.from(document.querySelectorAll("svg"))) {
    if (svg.parentElement?.closest("svg")) continue; // nested: counted with its outermost svg
    const box = svg.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || !svgDrawn(svg)) problems.push(\`inline SVG drawn blank: \${label(svg)}\`);
    else figures++;
  }
  for (const canvas of Array.from(document.querySelectorAll("canvas"))) {
    const ctx = canvas.getContext("2d");
    const px = ctx && canvas.width > 0 && canvas.height > 0 ? ctx.getImageData(0, 0, canvas.width, canvas.height).data : new Uint8ClampedArray();
    let inked = false;
    for (let i = 3; i < px.length && !inked; i += 4) inked = px[i] !== 0;
    if (inked) figures++;
    else problems.push(\`canvas has no pixels: \${label(canvas)}\`);
  }
  // a fragment names an element by its id as written or percent-decoded (HTML's "indicated part of the document")
  const links = Array.from(document.querySelectorAll("a[href]")).map((a) => a.href);
  for (const href of links) {
    const url = new URL(href);
    if (url.protocol === "file:" && url.pathname === location.pathname && url.hash && !document.getElementById(url.hash.slice(1)) && !document.getElementById(decodeURIComponent(url.hash.slice(1)))) {
      problems.push(\`link to a missing anchor: \${url.hash}\`);
    }
  }
  return { figures, problems, links };
})()
`;

/** Checks one page in an open browser; returns its figures, problems and the report pages it links to. */
async function checkPage(browser: Browser, file: string): Promise<PageCheck & { linkedPages: string[] }> {
  const context = await browser.newContext({ offline: true });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url().slice(0, 100)} (${r.failure()?.errorText})`));
  try {
    await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
    const seen = (await page.evaluate(INSPECT_PAGE)) as InPage;
    problems.push(...seen.problems);
    const linkedPages: string[] = [];
    for (const href of seen.links) {
      const url = new URL(href);
      if (url.protocol !== "file:") continue; // the web cannot be checked offline; the pages need none of it
      const target = fileURLToPath(url);
      if (!fs.existsSync(target)) problems.push(`broken link: ${path.basename(target)}`);
      else if (target !== file && target.endsWith(".html")) linkedPages.push(target);
    }
    return { page: path.basename(file), figures: seen.figures, problems, linkedPages };
  } finally {
    await context.close();
  }
}

/**
 * Opens `start` (e.g. reports/index.html) and every page reachable from it by links, and every other .html in the
 * same folder, checking each; returns one result per page, in the order visited.
 */
export async function checkReportPages(start: string): Promise<PageCheck[]> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  try {
    const dir = path.dirname(path.resolve(start));
    const queue = [path.resolve(start), ...fs.readdirSync(dir).filter((f) => f.endsWith(".html")).sort().map((f) => path.join(dir, f))];
    const done = new Set<string>();
    const results: PageCheck[] = [];
    while (queue.length > 0) {
      const file = queue.shift()!;
      if (done.has(file)) continue;
      done.add(file);
      const { linkedPages, ...result } = await checkPage(browser, file);
      results.push(result);
      queue.push(...linkedPages);
    }
    return results;
  } finally {
    await browser.close();
  }
}
