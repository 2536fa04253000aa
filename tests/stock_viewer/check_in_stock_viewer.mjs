// Opens a DHAT file in Valgrind's stock dh_view.html (headless Debian Chromium, driven by
// playwright-core), loads it through the viewer's own file input, switches through every
// enabled sort metric and checks: no error, and the root's totals equal the file's sums.
//
// usage: node check_in_stock_viewer.mjs PROFILE.json [VIEWER.html]
//        node check_in_stock_viewer.mjs PROFILE.json --url URL   (a page that loads PROFILE itself,
//                                                                  such as `dhat-view open`'s)
// Exits 0 and prints "viewer: ok ..." on success; prints the reason and exits 1 otherwise.
import { chromium } from 'playwright-core';
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';

const [profilePath, viewerArg, urlArg] = process.argv.slice(2);
const servedUrl = viewerArg === '--url' ? urlArg : null;
// The viewer: the argument, else $DHAT_VIEWER (the tests set it from `dhat-view open --print-viewer`).
const viewer = (viewerArg !== '--url' && viewerArg) || process.env.DHAT_VIEWER;
const chromiumPath = process.env.DHAT_CHROMIUM || '/usr/bin/chromium';

function fail(message) {
  console.error(`viewer: FAIL: ${message}`);
  process.exit(1);
}

if (!profilePath || !existsSync(profilePath)) fail(`no profile at '${profilePath}'`);
if (!servedUrl && (!viewer || !existsSync(viewer))) fail(`no dh_view.html at '${viewer}' (give it, or set DHAT_VIEWER)`);
if (!existsSync(chromiumPath)) fail(`no Chromium at '${chromiumPath}' (apt-get install chromium)`);

const data = JSON.parse(readFileSync(profilePath, 'utf8'));
const sum = (key) => data.pps.reduce((total, pp) => total + pp[key], 0);
// The viewer prints numbers with Intl.NumberFormat; the browser's locale is pinned to en-US.
const format = (n) => new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 }).format(n);
// Heap profiles count bytes and blocks; ad hoc ones (bklt false) units and events, no t-gmax.
const heap = data.bklt;
const bytesWord = data.bsu || 'bytes';
const blocksWord = data.bksu || 'blocks';
const expectedTotal = `Total:     ${format(sum('tb'))} ${bytesWord} (100%`;
const expectedBlocks = `${format(sum('tbk'))} ${blocksWord} (100%`;
const expectedGmax = heap ? `At t-gmax: ${format(sum('gb'))} bytes (100%` : null;
const expectedEnd = heap ? `At t-end:  ${format(sum('eb'))} bytes (100%` : null;

const browser = await chromium.launch({
  executablePath: chromiumPath,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
         '--lang=en-US'],
});
let exitCode = 0;
try {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  if (servedUrl) {
    await page.goto(servedUrl);  // the page hands the profile to the viewer by itself
  } else {
    await page.goto('file://' + resolve(viewer));
    await page.setInputFiles('input[type=file]', resolve(profilePath));
  }
  await page.waitForFunction(() => {
    const text = document.body.innerText;
    return text.includes('Invocation {') || document.querySelector('.error') !== null;
  }, null, { timeout: 30000, polling: 100 });

  const loadError = await page.$('.error');
  if (loadError) fail(`the viewer refused the file: ${await loadError.innerText()}`);

  const options = await page.$$eval('select option', (all) => all.map((o) => ({ label: o.label, disabled: o.disabled })));
  const enabled = options.map((o, i) => ({ ...o, index: i })).filter((o) => !o.disabled);
  const wanted = heap
    ? ['Total (bytes)', 'Total (blocks)', 'Total (blocks), tiny', 'Total (blocks), short-lived',
       'At t-gmax (bytes)', 'At t-end (bytes)']
    : [`Total (${bytesWord})`, `Total (${blocksWord})`, `Total (${blocksWord}), tiny`];
  for (const label of wanted) {
    if (!enabled.some((o) => o.label === label)) fail(`sort metric '${label}' is not enabled`);
  }
  for (const option of enabled) {
    await page.selectOption('select', { index: option.index });
    await page.waitForFunction((label) => document.title.endsWith(label), option.label, { timeout: 30000, polling: 100 });
    const error = await page.$('.error');
    if (error) fail(`'${option.label}': the viewer says: ${await error.innerText()}`);
    const text = await page.innerText('body');
    // The "tiny" and "short-lived" views print only the block count at the root.
    const full = !/tiny|short-lived/.test(option.label);
    const expectations = (full ? [expectedTotal, expectedBlocks, expectedGmax, expectedEnd] : [expectedBlocks])
      .filter((text) => text !== null);
    for (const expected of expectations) {
      if (!text.includes(expected)) fail(`'${option.label}': root does not show '${expected}'`);
    }
    if (!text.includes('PP 1/')) fail(`'${option.label}': no program point tree`);
  }
  if (pageErrors.length) fail(`page errors: ${pageErrors.join('; ')}`);
  console.log(`viewer: ok: ${enabled.length} sort metrics, root ${format(sum('tb'))} ${bytesWord} in ${format(sum('tbk'))} ${blocksWord}`);
} catch (error) {
  console.error(`viewer: FAIL: ${error.message}`);
  exitCode = 1;
} finally {
  await browser.close();
}
process.exit(exitCode);
