// Bytes a browser fetches before each page is interactive, measured in
// Chromium: every response's encoded body size (as sent on the wire, so
// brotli or gzip where served) from navigation until the app has hydrated
// (`body[data-hydrated]`). Prints one JSON object: {page: {bytes, files}}.
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

async function measure(context, path) {
  const page = await context.newPage();
  const fetched = [];
  page.on('requestfinished', async (request) => {
    const sizes = await request.sizes().catch(() => null);
    if (sizes) fetched.push({ url: request.url(), bytes: sizes.responseBodySize + sizes.responseHeadersSize });
  });
  await page.goto(base + path);
  await page.waitForSelector('body[data-hydrated]', { state: 'attached', timeout: 30_000 });
  await page.waitForLoadState('networkidle');
  await page.close();
  const files = fetched.map((f) => new URL(f.url).pathname);
  return { bytes: fetched.reduce((sum, f) => sum + f.bytes, 0), files };
}

const results = {};
// A fresh context per page: nothing cached, as on a first visit.
for (const path of ['/', '/login', '/register']) {
  const context = await browser.newContext();
  results[path] = await measure(context, path);
  await context.close();
}
for (const path of ['/dashboard', '/account']) {
  const context = await browser.newContext();
  const signedIn = await context.request.post(base + '/api/login', {
    form: { username, password, remember: 'on' },
    maxRedirects: 0,
  });
  if (signedIn.status() >= 400) throw new Error(`sign-in: ${signedIn.status()}`);
  results[path] = await measure(context, path);
  await context.close();
}
await browser.close();
console.log(JSON.stringify(results));
