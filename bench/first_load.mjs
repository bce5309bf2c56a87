// Bytes a browser fetches before each page is interactive, measured in
// Chromium: every response's headers and encoded body (as sent on the wire,
// so brotli or gzip where served) from navigation until the app has hydrated
// (`body[data-hydrated]`). What the page fetches after that, until the
// network is idle, is listed apart. Then the time until `/login` and
// `/dashboard` are interactive (navigation to `body[data-hydrated]`) with the
// CPU slowed 4 times (DevTools `Emulation.setCPUThrottlingRate`), the median
// of 5 cold loads. Prints one JSON object:
// {page: {bytes, files, later: {bytes, files}}, interactive_ms_cpu4: {page: ms}}.
//
//   node bench/first_load.mjs <base-url> <username> <password>
//
// Uses the end2end suite's Playwright and the system Chromium.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

const require = createRequire(new URL('../end2end/package.json', import.meta.url));
const { chromium } = require('@playwright/test');

const [base, username, password] = process.argv.slice(2);
const executablePath = ['/usr/bin/chromium', process.env.CHROMIUM_PATH].find((p) => p && existsSync(p));
const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'] });

// When the app marked itself hydrated, in the page's own clock: a request
// that started later was not needed to make the page interactive.
const markHydration = () => {
  new MutationObserver((_, observer) => {
    if (document.body?.hasAttribute('data-hydrated')) {
      window.__hydratedAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-hydrated'] });
};

async function measure(context, path) {
  await context.addInitScript(markHydration);
  const page = await context.newPage();
  const fetched = [];
  page.on('requestfinished', async (request) => {
    const sizes = await request.sizes().catch(() => null);
    if (sizes) fetched.push({ url: request.url(), bytes: sizes.responseBodySize + sizes.responseHeadersSize });
  });
  await page.goto(base + path);
  await page.waitForSelector('body[data-hydrated]', { state: 'attached', timeout: 30_000 });
  await page.waitForLoadState('networkidle');
  const startedLater = await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .filter((entry) => entry.startTime > window.__hydratedAt)
      .map((entry) => entry.name),
  );
  await page.close();
  const sum = (list) => ({
    bytes: list.reduce((total, f) => total + f.bytes, 0),
    files: list.map((f) => new URL(f.url).pathname),
  });
  const later = fetched.filter((f) => startedLater.includes(f.url));
  return { ...sum(fetched.filter((f) => !startedLater.includes(f.url))), later: sum(later) };
}

const results = {};
// A fresh context per page: nothing cached, as on a first visit.
for (const path of ['/', '/login', '/register']) {
  const context = await browser.newContext();
  results[path] = await measure(context, path);
  await context.close();
}
// Signed in: the protected pages, and the landing page as a returning user
// sees it (its signed-in parts are a chunk of their own).
for (const [name, path] of [['/dashboard', '/dashboard'], ['/account', '/account'], ['/ (signed in)', '/']]) {
  const context = await browser.newContext();
  const signedIn = await context.request.post(base + '/api/login', {
    form: { username, password, remember: 'on' },
    maxRedirects: 0,
  });
  if (signedIn.status() >= 400) throw new Error(`sign-in: ${signedIn.status()}`);
  results[name] = await measure(context, path);
  await context.close();
}
// Interactive, the CPU slowed 4 times: each load in a fresh context.
async function interactiveMs(path, signIn) {
  const times = [];
  for (let run = 0; run < 5; run++) {
    const context = await browser.newContext();
    if (signIn) {
      await context.request.post(base + '/api/login', { form: { username, password, remember: 'on' }, maxRedirects: 0 });
    }
    await context.addInitScript(markHydration);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    await page.goto(base + path);
    await page.waitForSelector('body[data-hydrated]', { state: 'attached', timeout: 60_000 });
    times.push(await page.evaluate(() => window.__hydratedAt));
    await context.close();
  }
  times.sort((a, b) => a - b);
  return Math.round(times[2]);
}
results.interactive_ms_cpu4 = {
  '/login': await interactiveMs('/login', false),
  '/dashboard': await interactiveMs('/dashboard', true),
};
await browser.close();
console.log(JSON.stringify(results));
