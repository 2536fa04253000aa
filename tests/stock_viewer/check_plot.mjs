// Opens a picture written by `dhat-view plot` in headless Debian Chromium (playwright-core) and
// checks what a person would see against numbers computed here from the profile itself:
//  - the picture loads without an error and makes no request;
//  - the heap's area reaches exactly the height of the file's heap peak, the RSS line exactly
//    that of its highest reading, both measured from the drawn shapes (getBBox);
//  - the RSS line passes through one point per reading in the file;
//  - the t-gmax mark stands at t-gmax's place on the time axis;
//  - the legend names both peaks as the file has them.
//
// usage: node check_plot.mjs PICTURE.svg PROFILE.json
// Exits 0 and prints "plot: ok ..." on success; prints the reason and exits 1 otherwise.
import { chromium } from 'playwright-core';
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [picturePath, profilePath] = process.argv.slice(2);
const chromiumPath = process.env.DHAT_CHROMIUM || '/usr/bin/chromium';

function fail(message) {
  console.error(`plot: FAIL: ${message}`);
  process.exit(1);
}

if (!picturePath || !existsSync(picturePath)) fail(`no picture at '${picturePath}'`);
if (!profilePath || !existsSync(profilePath)) fail(`no profile at '${profilePath}'`);

const data = JSON.parse(readFileSync(profilePath, 'utf8'));
const heap = data.dhatCppTimeline;
const rss = data.dhatCppRss;
if (!heap || !rss) fail('the profile has no heap timeline or no RSS record');
const heapPeak = Math.max(...heap.maxBytes);
const readings = rss.maxBytes.filter((bytes) => bytes > 0);
const rssHighest = Math.max(...readings);
const top = Math.max(heapPeak, rssHighest, rss.peakBytes);
const format = (n) => new Intl.NumberFormat('en-US').format(n);

const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run', '--lang=en-US'],
});
let exitCode = 0;
try {
  const page = await (await browser.newContext({ viewport: { width: 1000, height: 500 } })).newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(`script error: ${error.message}`));
  const url = pathToFileURL(resolve(picturePath)).href;
  page.on('request', (request) => { if (request.url() !== url) errors.push(`request: ${request.url()}`); });
  page.on('requestfailed', (request) => errors.push(`failed: ${request.url()}`));
  const response = await page.goto(url);
  if (!response || !response.ok()) fail(`the picture did not load (${response && response.status()})`);
  await page.waitForSelector('polyline.rss');
  if (errors.length) fail(errors.join('; '));

  const seen = await page.evaluate(() => {
    const area = document.querySelector('.plot-area');
    const box = (selector) => {
      const b = document.querySelector(selector).getBBox();
      return { x: b.x, y: b.y, width: b.width, height: b.height };
    };
    const tgmax = document.querySelector('line.tgmax');
    return {
      area: { ...box('.plot-area'), topBytes: Number(area.dataset.topBytes), endTime: Number(area.dataset.endTime) },
      heap: box('polygon.heap'),
      rss: box('polyline.rss'),
      rssPoints: document.querySelector('polyline.rss').points.numberOfItems,
      tgmaxX: tgmax.x1.baseVal.value,
      heapLegend: document.querySelector('.heap-legend').textContent,
      rssLegend: document.querySelector('.rss-legend').textContent,
      shown: document.querySelector('polyline.rss').getBoundingClientRect().width,
    };
  });
  const { area } = seen;
  if (area.topBytes !== top) fail(`the plot's top is ${area.topBytes} bytes, the file's highest value ${top}`);
  if (area.endTime !== data.te) fail(`the plot ends at ${area.endTime}, the file's t-end is ${data.te}`);
  const yOf = (bytes) => area.y + area.height * (1 - bytes / top);
  const near = (a, b) => Math.abs(a - b) <= 0.11;  // coordinates are written to 0.1
  if (!near(seen.heap.y, yOf(heapPeak))) fail(`the heap's area reaches y=${seen.heap.y}, its peak is at y=${yOf(heapPeak)}`);
  if (!near(seen.heap.y + seen.heap.height, area.y + area.height)) fail('the heap\'s area does not stand on the axis');
  if (!near(seen.rss.y, yOf(rssHighest))) fail(`the RSS line reaches y=${seen.rss.y}, its highest reading is at y=${yOf(rssHighest)}`);
  const rssLowest = Math.min(...readings);
  if (!near(seen.rss.y + seen.rss.height, yOf(rssLowest))) fail('the RSS line\'s lowest point is not the lowest reading');
  if (seen.rssPoints !== readings.length) fail(`the RSS line has ${seen.rssPoints} points, the file ${readings.length} readings`);
  if (!(seen.shown > 0)) fail('the RSS line is not drawn');
  const tgX = area.x + area.width * Math.min(data.tg, data.te) / Math.max(data.te, 1);
  if (!near(seen.tgmaxX, tgX)) fail(`the t-gmax mark is at x=${seen.tgmaxX}, t-gmax is at x=${tgX}`);
  if (!seen.heapLegend.includes(format(heapPeak))) fail(`the heap's legend '${seen.heapLegend}' does not name ${format(heapPeak)}`);
  const rssPeak = Math.max(rss.peakBytes, rssHighest);
  if (!seen.rssLegend.includes(format(rssPeak))) fail(`the RSS legend '${seen.rssLegend}' does not name ${format(rssPeak)}`);
  console.log(`plot: ok (heap peak ${format(heapPeak)} B, ${readings.length} RSS readings, highest ${format(rssHighest)} B, peak ${format(rssPeak)} B)`);
} catch (error) {
  console.error(`plot: FAIL: ${error.message}`);
  exitCode = 1;
} finally {
  await browser.close();
}
process.exit(exitCode);
