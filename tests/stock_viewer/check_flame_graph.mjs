// Opens a page written by `dhat-view flamegraph` in headless Debian Chromium (playwright-core)
// and checks what a person would see, against numbers computed here from the profile itself:
//  - the page runs without a script error and makes no network request;
//  - the root box's value and the title's total are the file's sum of the metric;
//  - hovering a box shows its frame and value;
//  - clicking a box zooms: it spans the whole width and the page names it; Reset zoom undoes it;
//  - typing a search highlights the matching boxes and says the share they hold: the sum of the
//    metric over the program points with a frame that contains the text.
//
// usage: node check_flame_graph.mjs PAGE.html PROFILE.json KEY SEARCH [--inverted]
//   KEY: the program point field the page was drawn by (tb, tbk, gb, eb).
// Exits 0 and prints "flame graph: ok ..." on success; prints the reason and exits 1 otherwise.
import { chromium } from 'playwright-core';
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [pagePath, profilePath, key, search, invertedFlag] = process.argv.slice(2);
const chromiumPath = process.env.DHAT_CHROMIUM || '/usr/bin/chromium';

function fail(message) {
  console.error(`flame graph: FAIL: ${message}`);
  process.exit(1);
}

if (!pagePath || !existsSync(pagePath)) fail(`no page at '${pagePath}'`);
if (!profilePath || !existsSync(profilePath)) fail(`no profile at '${profilePath}'`);
if (!key || !search) fail('usage: check_flame_graph.mjs PAGE.html PROFILE.json KEY SEARCH [--inverted]');

const data = JSON.parse(readFileSync(profilePath, 'utf8'));
// A frame as the page shows it: the address ("0x1234: ") removed.
const shown = (frame) => frame.replace(/^0x[0-9A-Fa-f]+: /, '');
const total = data.pps.reduce((sum, pp) => sum + pp[key], 0);
const needle = search.toLowerCase();
const matched = data.pps
  .filter((pp) => pp[key] > 0 && pp.fs.some((f) => shown(data.ftbl[f]).toLowerCase().includes(needle)))
  .reduce((sum, pp) => sum + pp[key], 0);
const format = (n) => new Intl.NumberFormat('en-US').format(n);
const share = (part) => (total === 0 ? '0%' : (100 * part / total).toFixed(2) + '%');

const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run', '--lang=en-US'],
});
let exitCode = 0;
try {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(`script error: ${error.message}`));
  page.on('console', (message) => { if (message.type() === 'error') errors.push(`console: ${message.text()}`); });
  const url = pathToFileURL(resolve(pagePath)).href;
  page.on('request', (request) => { if (request.url() !== url) errors.push(`request: ${request.url()}`); });
  await page.goto(url);
  await page.waitForSelector('.box');
  if (errors.length) fail(errors.join('; '));

  const rootValue = await page.$eval('.box[data-depth="0"]', (box) => Number(box.dataset.value));
  if (rootValue !== total) fail(`the root box holds ${rootValue}, the file's ${key} sums to ${total}`);
  const title = await page.textContent('#title');
  if (!title.includes(format(total))) fail(`the title '${title}' does not show the total ${format(total)}`);
  if ((invertedFlag === '--inverted') !== title.includes('inverted')) fail(`title '${title}' (inverted: ${invertedFlag})`);

  // The widest box one level above the root: hover, then zoom into it.
  const graphWidth = await page.$eval('#graph', (graph) => graph.clientWidth);
  const first = await page.$$eval('.box[data-depth="1"]', (boxes) =>
    boxes.map((b) => ({ name: b.dataset.name, value: Number(b.dataset.value), width: b.getBoundingClientRect().width }))
      .sort((a, b) => b.value - a.value)[0]);
  if (!first) fail('no box above the root');
  const quoted = (text) => text.replace(/["\\]/g, '\\$&');
  const boxFor = (depth, name) => page.locator(`.box[data-depth="${depth}"][data-name="${quoted(name)}"]`).first();
  await boxFor(1, first.name).hover();
  const info = await page.textContent('#info');
  if (!info.includes(first.name) || !info.includes(format(first.value))) fail(`hover shows '${info}' for ${first.name}`);
  await boxFor(1, first.name).click();
  const zoomed = await page.textContent('#zoomed');
  if (!zoomed.includes(first.name)) fail(`after the click the page says '${zoomed}'`);
  const zoomedWidth = await boxFor(1, first.name).evaluate((b) => b.getBoundingClientRect().width);
  if (Math.abs(zoomedWidth - graphWidth) > 1) fail(`the zoomed box is ${zoomedWidth}px wide, the graph ${graphWidth}px`);
  if (first.value < total && Math.abs(first.width - graphWidth) <= 1) fail('the box was full width before the zoom');
  await page.click('#reset');
  if ((await page.textContent('#zoomed')) !== '') fail('Reset zoom left the page zoomed');
  const back = await boxFor(1, first.name).evaluate((b) => b.getBoundingClientRect().width);
  if (Math.abs(back - first.width) > 1) fail(`after Reset zoom the box is ${back}px wide, was ${first.width}px`);

  await page.fill('#search', search);
  const said = await page.textContent('#matched');
  if (!said.startsWith(`Matched: ${format(matched)} `) || !said.includes(`(${share(matched)} of the total)`)) {
    fail(`the search for '${search}' says '${said}', expected ${format(matched)} (${share(matched)})`);
  }
  const highlighted = await page.$$eval('.box.match', (boxes) => boxes.map((b) => b.dataset.name));
  if (matched > 0 && highlighted.length === 0) fail('nothing is highlighted');
  if (highlighted.some((name) => !name.toLowerCase().includes(needle))) fail(`a highlighted box does not match: ${highlighted}`);
  if (errors.length) fail(errors.join('; '));
  console.log(`flame graph: ok (${key} ${format(total)}, zoomed into '${first.name}', '${search}' holds ${share(matched)})`);
} catch (error) {
  console.error(`flame graph: FAIL: ${error.message}`);
  exitCode = 1;
} finally {
  await browser.close();
}
process.exit(exitCode);
