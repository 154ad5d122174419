// Drives the web console of a running `paymentsctl up` in Debian's Chromium, headless:
// the page loads without console errors, a traffic run started from the page makes the rate
// chart move, the run's AML scenarios are listed and one is drawn as a graph, a filter by type
// returns only that type, a payment's detail opens with its
// accounts masked, and the page fits a phone. Screenshots go to $ARTIFACTS_DIR.
//
//   CONSOLE_URL=http://127.0.0.1:8080/ ARTIFACTS_DIR=target/console node console.browser-test.mjs
//
// Exits 0 when every check passes; otherwise prints what failed and exits 1.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const url = process.env.CONSOLE_URL;
const artifacts = process.env.ARTIFACTS_DIR || "console-artifacts";
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
if (!url) {
  console.error("set CONSOLE_URL to the console's address, e.g. http://127.0.0.1:8080/");
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});

const problems = [];
function check(ok, message) {
  if (ok) {
    console.log(`ok   ${message}`);
  } else {
    console.log(`FAIL ${message}`);
    problems.push(message);
  }
}

/** A page at `viewport` that records every console error, page error and failed request. */
async function openPage(viewport) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = [];
  page.on("console", (message) => { if (message.type() === "error") errors.push(`console: ${message.text()}`); });
  page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) => errors.push(`request failed: ${request.url()} ${request.failure()?.errorText}`));
  await page.goto(url, { waitUntil: "load" });
  await page.waitForFunction(() => document.querySelector("#connection")?.textContent === "live", null, { timeout: 15000 });
  return { page, errors, context };
}

const chart = (page, name) => page.$eval("#rate-chart", (canvas, key) => Number(canvas.dataset[key] || 0), name);

try {
  // ---- desktop ----
  const desktop = await openPage({ width: 1280, height: 800 });
  const { page } = desktop;
  check(await page.title() === "payments console", "the console page loads");

  const before = await chart(page, "storedRate");
  await page.fill("#run-form input[name=rate]", "400");
  await page.fill("#run-form input[name=count]", "4000");
  await page.fill("#run-form input[name=seed]", "11");
  await page.click("#start-run");
  await page.waitForSelector("#runs-table tbody tr[data-run]", { timeout: 10000 });
  check(true, "a traffic run starts from the page and is listed");
  await page.waitForFunction(() => Number(document.querySelector("#rate-chart").dataset.storedRate || 0) > 0, null, { timeout: 30000 });
  const after = await chart(page, "storedRate");
  const peak = await chart(page, "maxRate");
  check(after > before && peak > 0, `the rate chart moves while the run is on (stored ${before} → ${after} payments/s, peak ${peak})`);
  await page.waitForFunction(() => document.querySelector("#runs-table tbody tr[data-run]")?.dataset.state === "COMPLETED", null, { timeout: 60000 });
  check(true, "the run completes and its row says so");
  // Every stage counts the run, also in one process where the generator publishes in-process.
  // (The sampler reads the counters every second: give the last batch a few samples.)
  const counted = (t) => ["generated", "accepted", "produced", "stored"].every((stage) => t[stage] >= 4000);
  let totals = {};
  for (let attempt = 0; attempt < 30 && !counted(totals); attempt += 1) {
    totals = await page.evaluate(async () => (await (await fetch("/api/pipeline")).json()).totals);
    if (!counted(totals)) await page.waitForTimeout(500);
  }
  check(counted(totals),
    `every stage counted the 4,000 payments (${JSON.stringify(totals)})`);

  // The run's laundering (AML share 0.01 by default) is listed by scenario, and a
  // scenario's graph is drawn: a circle per participant, an arrow per transfer.
  await page.evaluate(() => loadScenarios());
  await page.waitForFunction(() => Number(document.querySelector("#scenarios-table").dataset.loaded || 0) > 0, null, { timeout: 20000 });
  const scenarioRows = await page.$$eval("#scenarios-table tbody tr[data-id]", (rows) => rows.length);
  check(scenarioRows > 0, `the AML scenarios of the run are listed (${scenarioRows})`);
  await page.click("#scenarios-table tbody tr[data-id]");
  const drawn = await page.$eval("#scenario-graph", (g) => ({
    circles: g.querySelectorAll("circle.participant").length,
    arrows: g.querySelectorAll("path.transfer").length,
    participants: Number(g.dataset.participants || 0),
    transfers: Number(g.dataset.transfers || 0),
  }));
  check(drawn.circles >= 2 && drawn.circles === drawn.participants && drawn.arrows === drawn.transfers && drawn.arrows >= 1,
    `a scenario is drawn as a graph (${drawn.circles} participants, ${drawn.arrows} transfers)`);
  await page.$eval("#scenarios", (s) => s.scrollIntoView());
  await page.screenshot({ path: join(artifacts, "console-scenarios.png") });

  // Filter by type: only ACH payments come back.
  const loaded = await page.$eval("#payments-table", (t) => t.dataset.loaded || "");
  await page.selectOption("#filter-type", "ach");
  await page.click("#apply-filter");
  await page.waitForFunction((previous) => (document.querySelector("#payments-table").dataset.loaded || "") !== previous, loaded, { timeout: 10000 });
  const types = await page.$$eval("#payments-table tbody tr[data-id]", (rows) => rows.map((r) => r.dataset.type));
  check(types.length > 0 && types.every((t) => t === "ACH"), `a filter by type returns only that type (${types.length} rows, ${[...new Set(types)].join(",")})`);
  const mixTotal = await page.$eval("#mix-chart", (c) => Number(c.dataset.total || -1));
  check(mixTotal > 0, `the mix follows the filter (${mixTotal} ACH payments)`);

  // A payment's detail.
  const firstId = await page.$eval("#payments-table tbody tr[data-id]", (r) => r.dataset.id);
  await page.click(`#payments-table tbody tr[data-id="${firstId}"]`);
  await page.waitForFunction(() => document.querySelector("#detail")?.open && /Revisions/.test(document.querySelector("#detail-body").textContent), null, { timeout: 10000 });
  const title = await page.textContent("#detail-title");
  check(title === firstId, `a payment's detail opens (${title})`);
  const accounts = await page.$$eval("#detail-body dl.fields dd", (cells) => cells.map((c) => c.textContent));
  const masked = accounts.filter((text) => /^\*+.{1,4}$/.test(text));
  check(masked.length >= 1, `account numbers are shown masked (${masked.join(", ")})`);
  await page.screenshot({ path: join(artifacts, "console-detail.png") });
  await page.click("#close-detail");
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(artifacts, "console-desktop.png") });
  await page.screenshot({ path: join(artifacts, "console-desktop-full.png"), fullPage: true });
  const desktopOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(desktopOverflow <= 0, `usable at 1280×800: no sideways scrolling (${desktopOverflow}px over)`);
  check(desktop.errors.length === 0, `no JavaScript errors at 1280×800${desktop.errors.length ? `: ${desktop.errors.join("; ")}` : ""}`);
  await desktop.context.close();

  // ---- phone ----
  const phone = await openPage({ width: 390, height: 844 });
  await phone.page.waitForFunction(() => Number(document.querySelector("#rate-chart").dataset.points || 0) > 0, null, { timeout: 10000 });
  const phoneOverflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(phoneOverflow <= 0, `usable at 390×844: no sideways scrolling (${phoneOverflow}px over)`);
  const chartWidth = await phone.page.$eval("#rate-chart", (c) => c.getBoundingClientRect().width);
  check(chartWidth > 300 && chartWidth <= 390, `the rate chart fits the phone (${Math.round(chartWidth)}px wide)`);
  await phone.page.screenshot({ path: join(artifacts, "console-phone.png"), fullPage: true });
  check(phone.errors.length === 0, `no JavaScript errors at 390×844${phone.errors.length ? `: ${phone.errors.join("; ")}` : ""}`);
  await phone.context.close();
} catch (error) {
  problems.push(`the browser test stopped: ${error.message}`);
  console.log(`FAIL ${error.stack}`);
} finally {
  await browser.close();
}

console.log(`screenshots in ${artifacts}`);
if (problems.length) {
  console.log(`${problems.length} check(s) failed`);
  process.exit(1);
}
