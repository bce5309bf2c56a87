import { expect, type Page, type BrowserContext } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const PASSWORD = 'correct horse battery';

/**
 * The site under test at `localhost`: browsers refuse passkeys on an IP
 * address, so the passkey stories use this (scripts/end_to_end.sh lets the
 * server accept passkey ceremonies from it).
 */
export const PASSKEY_SITE = (() => {
  const site = new URL(process.env.BASE_URL ?? 'http://127.0.0.1:3000');
  site.hostname = 'localhost';
  return site.origin;
})();

/** A username no other test (or earlier run on the same database) has used. */
export function uniqueUser(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/** Waits until the wasm app has hydrated the page (set in `hydrate()`). */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
}

export async function register(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.goto('/register');
  await hydrated(page);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  // A sign-up signs in.
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId('username')).toHaveText(username);
}

export async function signIn(page: Page, username: string, remember: boolean, password = PASSWORD): Promise<void> {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  if (remember) {
    await page.getByLabel('Keep me signed in').check();
  }
  await page.getByRole('main').getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId('username')).toHaveText(username);
}

/** Signs out with the navigation's button, to the sign-in page. */
export async function signOut(page: Page): Promise<void> {
  await hydrated(page);
  await page.getByRole('navigation').getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
}

/**
 * What survives closing the browser: only cookies with an expiry date.
 * Session cookies (expires === -1) are dropped, as a real browser does.
 */
export async function persistentCookies(context: BrowserContext) {
  const cookies = await context.cookies();
  return cookies.filter((cookie) => cookie.expires > 0);
}

/** Registers `username` through the plain form (no JavaScript needed), which signs in. */
export async function registerAndSignInByForms(page: Page, username: string): Promise<void> {
  await page.goto('/register');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId('username')).toHaveText(username);
}

/** No serious or critical axe violation, in the light and the dark scheme. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const results = await new AxeBuilder({ page }).analyze();
    const severe = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(
      severe.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`),
      `${what}, ${colorScheme}`,
    ).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** A message the tests' SMTP server received (scripts/smtp_sink.py). */
export interface Mail {
  to: string[];
  subject: string;
  message_id: string;
  body: string;
}

function mailbox(): Mail[] {
  const dir = process.env.SMTP_SINK_DIR;
  if (!dir) {
    throw new Error('SMTP_SINK_DIR is not set: scripts/test.sh starts the SMTP server and sets it');
  }
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json') && !name.startsWith('.'))
    .sort()
    .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as Mail);
}

/** The messages to `address`, oldest first, once there are at least `count`. */
export async function mailTo(address: string, count = 1): Promise<Mail[]> {
  const mine = () => mailbox().filter((mail) => mail.to.some((to) => to.toLowerCase() === address.toLowerCase()));
  await expect.poll(() => mine().length, { timeout: 20_000, message: `mail to ${address}` }).toBeGreaterThanOrEqual(count);
  return mine();
}

/** The link in `mail` to `path` (`http://…/path?token=…`). */
export function linkIn(mail: Mail, path: string): string {
  const link = mail.body.split(/\s+/).find((word) => word.startsWith('http') && word.includes(`${path}?token=`));
  if (!link) {
    throw new Error(`no link to ${path} in: ${mail.body}`);
  }
  return link;
}

/** Signs up `username` with the address `<username>@example.com` (signed in, on the dashboard); the address. */
export async function signUpWithAddress(page: Page, username: string): Promise<string> {
  const address = `${username}@example.com`;
  await page.goto('/register');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('Email address').fill(address);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/dashboard\?check_inbox=1$/);
  await expect(page.getByTestId('check-inbox')).toHaveText(
    'Check your inbox: a link to verify your email address is on its way.',
  );
  return address;
}

/** `signUpWithAddress`, then follows its verification link; the address. */
export async function signUpWithVerifiedAddress(page: Page, username: string): Promise<string> {
  const address = await signUpWithAddress(page, username);
  const [mail] = await mailTo(address);
  await page.goto(linkIn(mail, '/email/verify'));
  await page.getByTestId('verify-email').click();
  await expect(page.getByTestId('email-verified')).toBeVisible();
  return address;
}

/**
 * Chromium's virtual authenticator (the DevTools Protocol's WebAuthn
 * domain): a platform authenticator holding discoverable passkeys, whose
 * user is always present and verified.
 */
export async function virtualAuthenticator(context: BrowserContext, page: Page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  const passkeys = async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
  return { passkeys };
}
