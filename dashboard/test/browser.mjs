// The dashboard in a real browser: opens every page in headless Chromium
// (Debian's package, driven by playwright-core), waits for its charts,
// saves a full-page screenshot in build/screenshots, and checks every figure
// a page marks with data-check against the same figure read with SQL in this
// run (expected.sql). Fails on a console error, an uncaught exception, a
// failed or non-local request, a chart that never renders, a figure that
// differs, a figure the page does not show, or a figure SQL does not check.
//
//   node test/browser.mjs http://127.0.0.1:4310 build/expected.json
import {mkdirSync, mkdtempSync, readFileSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {dirname, join} from "node:path";
import {fileURLToPath} from "node:url";
import {chromium} from "playwright-core";

const [base, expectedFile] = process.argv.slice(2);
if (!base || !expectedFile) {
  console.error("usage: node test/browser.mjs BASE_URL EXPECTED_JSON");
  process.exit(2);
}
const expected = JSON.parse(readFileSync(expectedFile, "utf8"));
const shots = join(dirname(dirname(fileURLToPath(import.meta.url))), "build", "screenshots");
mkdirSync(shots, {recursive: true});

// Each page and the Plot charts it must draw.
const pages = [
  {path: "/", name: "segments", charts: 4},
  {path: "/rfm-grid", name: "rfm-grid", charts: 1},
  {path: "/lifecycle", name: "lifecycle", charts: 3},
  {path: "/migration", name: "migration", charts: 1},
  {path: "/clv", name: "clv", charts: 3},
  {path: "/calibration", name: "calibration", charts: 1}
];

const origin = new URL(base).origin;
const profile = mkdtempSync(join(tmpdir(), "dashboard-chromium-"));
const started = Date.now();
let failures = 0;
let passed = 0;
const fail = (message) => {
  failures++;
  console.log(`FAIL ${message}`);
};

// What a page shows, read back into a number of the figure's kind.
function parse(kind, text) {
  const clean = text.replace(/,/g, "").trim();
  if (kind === "pct") return Number(clean.replace(/%$/, "")) / 100;
  return Number(clean);
}
function digits(text) {
  const m = text.replace(/,/g, "").match(/\.(\d+)/);
  return m ? m[1].length : 0;
}
function same(kind, shown, want) {
  if (kind === "text") return shown.trim() === want;
  if (kind === "params4") {
    // "r = 0.5132, α = 2.1813, ..." against unrounded values
    const a = shown.split(",").map((part) => part.split("=").map((s) => s.trim()));
    const b = want.split(",").map((part) => part.split("=").map((s) => s.trim()));
    return a.length === b.length && a.every(([name, v], i) => name === b[i][0] && Math.abs(Number(v) - Number(b[i][1])) <= 0.5e-4 + 1e-12);
  }
  const value = parse(kind, shown);
  const target = Number(want);
  if (!Number.isFinite(value)) return false;
  if (kind === "int") return value === target;
  if (kind === "money") return digits(shown) === 2 && Math.abs(value - target) <= 0.005 + 1e-9 * Math.abs(target);
  if (kind === "pct") return Math.abs(value - target) <= 0.0005 + 1e-12;
  const places = {num1: 1, num3: 3, num4: 4}[kind];
  if (places === undefined) return false;
  return digits(shown) === places && Math.abs(value - target) <= 0.5 * 10 ** -places + 1e-12;
}

const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"
  ],
  viewport: {width: 1280, height: 900},
  deviceScaleFactor: 1,
  locale: "en-US"
});
const seen = new Set();
try {
  for (const spec of pages) {
    const page = await context.newPage();
    const problems = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console error: ${message.text()} ${message.location()?.url ?? ""}`);
    });
    page.on("pageerror", (error) => problems.push(`uncaught exception: ${error.message}`));
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (url.protocol !== "data:" && url.origin !== origin) problems.push(`request outside ${origin}: ${request.url()}`);
    });
    page.on("requestfailed", (request) => problems.push(`failed request: ${request.url()} (${request.failure()?.errorText})`));
    page.on("response", (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
    });
    const t0 = Date.now();
    await page.goto(base + spec.path, {waitUntil: "load"});
    try {
      // Plot draws each chart as an <svg class="plot-..."> (its legends too).
      await page.waitForFunction(
        (n) => document.querySelectorAll('#observablehq-main svg[class^="plot"]').length >= n &&
          document.querySelectorAll("#observablehq-main [data-check]").length > 0,
        spec.charts,
        {timeout: 20000}
      );
      await page.evaluate(() => document.fonts.ready);
    } catch {
      problems.push(`fewer than ${spec.charts} charts, or no figures, after 20 s`);
    }
    const errors = await page.locator(".observablehq--error").allInnerTexts();
    for (const text of errors) problems.push(`cell error on the page: ${text}`);
    const file = join(shots, `${spec.name}.png`);
    await page.screenshot({path: file, fullPage: true});

    const figures = await page.$$eval("[data-check]", (nodes) => nodes.map((n) => [n.getAttribute("data-check"), n.textContent]));
    let checked = 0;
    for (const [key, shown] of figures) {
      seen.add(key);
      const want = expected[key];
      if (!want) problems.push(`${key} shows "${shown}" but no SQL figure checks it`);
      else if (!same(want.kind, shown, want.value)) problems.push(`${key} shows "${shown}", SQL says ${want.value}`);
      else checked++;
    }
    const charts = await page.locator('#observablehq-main svg[class^="plot"]').count();
    for (const problem of problems) fail(`${spec.path}: ${problem}`);
    if (problems.length === 0) passed++;
    console.log(`${problems.length ? "not ok" : "ok"} ${spec.path}: ${charts} charts, ${checked} of ${figures.length} figures equal SQL, ` +
      `${Date.now() - t0} ms, screenshot ${file}`);
    await page.close();
  }
} finally {
  await context.close();
  rmSync(profile, {recursive: true, force: true});
}
// Every figure SQL computed must be on some page.
const missing = Object.keys(expected).filter((key) => !seen.has(key));
for (const key of missing) fail(`no page shows ${key} (SQL: ${expected[key].value})`);
console.log(`browser test: ${pages.length} pages in ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${pages.length - passed} failed`);
process.exit(failures === 0 ? 0 : 1);
