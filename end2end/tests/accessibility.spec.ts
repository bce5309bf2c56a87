import { test, expect, type Page, type Locator } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { PASSWORD, expectAccessible, hydrated, register, signIn, uniqueUser } from './helpers';

// The README's pictures are refreshed only when asked
// (UPDATE_SCREENSHOTS=1 ./scripts/test.sh): a test run leaves the working
// tree as it found it, and its own pictures are in target/e2e/screenshots.
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS ? '../docs/screenshots' : '../target/e2e/screenshots';
const WIDTHS = { phone: 390, desktop: 1280 } as const;


async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const [device, width] of Object.entries(WIDTHS)) {
    await page.setViewportSize({ width, height: 800 });
    await page.screenshot({ path: `${SCREENSHOTS}/${name}-${device}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: WIDTHS.desktop, height: 800 });
}

async function visit(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await hydrated(page);
}

test('every page passes axe, signed out and signed in, with errors shown; screenshots for the README', async ({ page }) => {
  // Twelve pages, each checked in light and dark: a long story.
  test.slow();
  await visit(page, '/');
  await expectAccessible(page, 'landing');
  await screenshot(page, 'landing');

  await visit(page, '/register');
  await page.getByLabel('Username').fill('x');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await expect(page.getByRole('alert')).toBeFocused();
  await expectAccessible(page, 'register with an error');
  await screenshot(page, 'register-error');

  await visit(page, '/login');
  // The passkey button, once its chunk has put it in place.
  await expect(page.getByRole('button', { name: 'Sign in with a passkey' })).toBeEnabled();
  await expectAccessible(page, 'sign-in');
  await screenshot(page, 'login');
  await page.getByLabel('Username').fill('nobody-here');
  await page.getByLabel('Password').fill('a wrong password');
  await page.getByRole('main').getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('alert')).toHaveText('Invalid username or password');
  await expect(page.getByRole('alert')).toBeFocused();
  await expectAccessible(page, 'sign-in with an error');

  // A fixed name, so the screenshots change only when the pages do.
  const username = 'alice';
  await register(page, username);
  await signIn(page, username, true);
  await expectAccessible(page, 'dashboard');
  await screenshot(page, 'dashboard');

  await visit(page, '/account');
  await expectAccessible(page, 'account');
  await screenshot(page, 'account');
  await page.getByLabel('Current password').fill('not my password');
  await page.getByLabel('New password', { exact: true }).fill('plum trombone glacier sunset');
  await page.getByLabel('Confirm new password').fill('plum trombone glacier sunset');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('alert')).toHaveText('The current password is not correct.');
  await expectAccessible(page, 'account with an error');

  await visit(page, '/confirm?next=/account');
  await expectAccessible(page, 'confirm');
  await screenshot(page, 'confirm');
  await page.getByLabel('Password').fill('not my password');
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByRole('alert')).toHaveText('The current password is not correct.');
  await expect(page.getByRole('alert')).toBeFocused();
  await expectAccessible(page, 'confirm with an error');

  await visit(page, '/account');
  await page.getByTestId('delete-username').fill('not-alice');
  await page.getByTestId('delete-account').click();
  await expect(page.getByRole('alert')).toHaveText(/username exactly/);
  await expect(page.getByRole('alert')).toBeFocused();
  await expectAccessible(page, 'account deletion with an error');

  await visit(page, '/account/activity');
  await expect(page.getByTestId('event').first()).toBeVisible();
  await expectAccessible(page, 'activity');
  await screenshot(page, 'activity');

  await visit(page, '/password/forgot');
  await expectAccessible(page, 'forgot password');
  await screenshot(page, 'forgot-password');

  // A verification link that is no more (here: none followed).
  await visit(page, '/email/verify');
  await expect(page.getByTestId('link-invalid')).toBeVisible();
  await expectAccessible(page, 'email verification, a dead link');

  await visit(page, '/?deleted=1');
  await expect(page.getByTestId('account-deleted')).toBeVisible();
  await expectAccessible(page, 'home after a deletion');

  await visit(page, '/no-such-page');
  await expectAccessible(page, 'not found');
});

test('the favicon is served and the pages follow a dark color scheme', async ({ page }) => {
  const icon = await page.request.get('/favicon.svg');
  expect(icon.status()).toBe(200);
  expect(icon.headers()['content-type']).toContain('image/svg+xml');
  await page.emulateMedia({ colorScheme: 'dark' });
  await visit(page, '/login');
  const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  const light = await (async () => {
    await page.emulateMedia({ colorScheme: 'light' });
    return page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  })();
  expect(background).not.toBe(light);
});

test('session times read as local time with the exact instant in <time datetime>', async ({ page }) => {
  const username = uniqueUser('times');
  await register(page, username);
  await signIn(page, username, true);
  const idle = page.getByTestId('idle-expires-at');
  await expect(idle).toHaveAttribute('datetime', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  // A day of idle time from now: tomorrow (or today, just after midnight), in about a day.
  await expect(idle).toHaveText(/^(today|tomorrow) at .+, in (24|23) hours$/);
  await expect(page.getByTestId('signed-in-at')).toHaveText(/^today at .+, just now$/);
});

/** Presses Tab until `target` has the focus (as a keyboard user would). */
async function tabTo(page: Page, target: Locator): Promise<void> {
  for (let presses = 0; presses < 30; presses++) {
    if (await target.evaluate((element) => element === document.activeElement)) {
      return;
    }
    await page.keyboard.press('Tab');
  }
  throw new Error('not reachable with Tab');
}

test('the whole flow works with the keyboard alone', async ({ page }) => {
  const username = uniqueUser('keyboard');
  await visit(page, '/register');
  await tabTo(page, page.getByLabel('Username'));
  await page.keyboard.type(username);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  // The sign-up signs in; the keyboard signs in again from the sign-in page.
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId('username')).toHaveText(username);

  await visit(page, '/login');
  await tabTo(page, page.getByLabel('Username'));
  await page.keyboard.type(username);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Tab');
  await page.keyboard.press('Space');
  await expect(page.getByLabel('Keep me signed in')).toBeChecked();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/dashboard$/);

  await tabTo(page, page.getByRole('link', { name: 'Account' }));
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/account$/);
  await tabTo(page, page.getByLabel('Current password'));
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Tab');
  await page.keyboard.type('plum trombone glacier sunset');
  await page.keyboard.press('Tab');
  await page.keyboard.type('plum trombone glacier sunset');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('password-changed')).toBeVisible();

  await tabTo(page, page.getByRole('navigation').getByRole('button', { name: 'Sign out' }));
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
});
