import { test, expect, request as playwrightRequest, type Browser, type Page } from '@playwright/test';
import { PASSWORD, expectAccessible, hydrated, register, registerAndSignInByForms, signIn, uniqueUser } from './helpers';

const NEW_PASSWORD = 'plum trombone glacier sunset';
const ENDED = 'Your session has ended. Please sign in again.';

/** Another device: a new browser context (its own cookies), signed in. */
async function anotherDevice(browser: Browser, username: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, username, true);
  return page;
}

/**
 * The user comes back to a window: it regains focus. Headless Chromium gives
 * no focus or visibility change between contexts (bringToFront does not), so
 * the event the browser would fire is fired here.
 */
async function lookAt(page: Page): Promise<void> {
  await page.bringToFront();
  await page.evaluate(() => window.dispatchEvent(new FocusEvent('focus')));
}

async function openAccount(page: Page): Promise<void> {
  await page.goto('/account');
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();
}

test('the account page lists both devices and ends the other one, which leaves its page', async ({ page, browser }) => {
  const username = uniqueUser('sessions');
  await register(page, username);
  await signIn(page, username, true);
  const other = await anotherDevice(browser, username);

  await openAccount(page);
  const sessions = page.getByTestId('session');
  await expect(sessions).toHaveCount(2);
  await expect(page.locator('[data-testid=session][data-current=true]').getByTestId('this-device')).toHaveText('This device');

  await page.locator('[data-testid=session][data-current=false]').getByRole('button', { name: 'Sign out' }).click();
  await expect(sessions).toHaveCount(1);
  await expect(page.getByTestId('sign-out-others')).toHaveCount(0);
  await expect(page.getByTestId('sessions-signed-out')).toHaveText('That session is signed out.');

  // The other device shows it as soon as its user looks at it again.
  await lookAt(other);
  await expect(other).toHaveURL(/\/login\?ended=1$/, { timeout: 2_000 });
  await expect(other.getByTestId('session-ended')).toHaveText(ENDED);
  await other.context().close();
});

test('signing out in one tab signs out every other tab of the browser within two seconds', async ({ page, context }) => {
  const username = uniqueUser('tabs');
  await register(page, username);
  await signIn(page, username, false);
  const second = await context.newPage();
  await second.goto('/account');
  await hydrated(second);

  await page.getByRole('main').getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
  await expect(second).toHaveURL(/\/login\?ended=1$/, { timeout: 2_000 });
  await expect(second.getByTestId('session-ended')).toHaveText(ENDED);
  await expect(second.getByTestId('passkey-button')).toBeEnabled();

  // And signing in again shows in the other tab too.
  await signIn(second, username, false);
  await expect(page.getByTestId('nav-user')).toHaveText(username, { timeout: 2_000 });
});

test('a tab still loading its code hears a sign-out from another tab', async ({ page, context }) => {
  const username = uniqueUser('early');
  await register(page, username);
  await signIn(page, username, false);

  // The second tab's code (the app's wasm) arrives only after the first tab
  // has signed out: it was not listening when the first tab spoke.
  let releaseCode = () => {};
  const codeHeld = new Promise<void>((resolve) => (releaseCode = resolve));
  const second = await context.newPage();
  await second.route(/\/pkg\/[^/]*\.wasm$/, async (route) => {
    await codeHeld;
    await route.continue();
  });
  await second.goto('/account');
  await expect(second.getByTestId('username')).toHaveText(username);

  await page.getByRole('main').getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
  await hydrated(page);
  await expect(second).toHaveURL(/\/account$/);
  releaseCode();
  await expect(second).toHaveURL(/\/login\?ended=1$/, { timeout: 2_000 });
  await expect(second.getByTestId('session-ended')).toHaveText(ENDED);
});

test('a password change keeps this browser signed in and signs the other device out', async ({ page, browser }) => {
  const username = uniqueUser('password');
  await register(page, username);
  await signIn(page, username, true);
  const other = await anotherDevice(browser, username);

  await openAccount(page);
  await page.getByLabel('Current password').fill('not my password');
  await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('Confirm new password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('alert')).toHaveText('The current password is not correct.');

  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByTestId('password-changed')).toBeVisible();
  await expect(page.getByTestId('session')).toHaveCount(1);

  await page.goto('/dashboard');
  await expect(page.getByTestId('username')).toHaveText(username);
  await lookAt(other);
  await expect(other).toHaveURL(/\/login\?ended=1$/, { timeout: 2_000 });
  await signIn(other, username, false, NEW_PASSWORD);
  await other.context().close();
});

test('a token made on the account page is shown once, copied, works with curl\'s header and is revoked', async ({ page, context }) => {
  const username = uniqueUser('tokens');
  await register(page, username);
  await signIn(page, username, false);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await openAccount(page);
  // Signed in without "keep me signed in": the session says it ends with the
  // browser, and shows no cap a month off.
  const here = page.locator('[data-testid=session][data-current=true]');
  await expect(here.getByTestId('session-remembered')).toHaveText('no: ends when its browser closes');
  await expect(here.getByText('Ends at the latest')).toHaveCount(0);
  await expect(page.getByTestId('token-count')).toHaveText('No token is outstanding.');

  await page.getByTestId('create-token').click();
  const token = await page.getByTestId('token').inputValue();
  expect(token.split('.')).toHaveLength(3);
  await expect(page.getByTestId('token-count')).toHaveText('1 token is outstanding.');
  await expect(page.getByTestId('token-command')).toHaveText(
    `curl -H "Authorization: Bearer ${token}" ${new URL(page.url()).origin}/api/me`,
  );
  // The example scrolls sideways: it takes the keyboard's focus, so that
  // the arrow keys scroll it, and axe finds nothing to say about it.
  await page.getByTestId('token-example').focus();
  await expect(page.getByTestId('token-example')).toBeFocused();
  await expectAccessible(page, 'the account page showing a new token');
  await page.getByRole('button', { name: 'Copy the token' }).click();
  await expect(page.getByText('Copied.')).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);

  // The token works from outside the browser: no cookie, only the header.
  const api = await playwrightRequest.newContext();
  const me = await api.get(new URL('/api/me', page.url()).toString(), {
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(me.status()).toBe(200);
  expect((await me.json()).username).toBe(username);

  await page.getByTestId('revoke-tokens').click();
  await expect(page.getByTestId('token-count')).toHaveText('No token is outstanding.');
  const revoked = await api.get(new URL('/api/me', page.url()).toString(), {
    headers: { Authorization: `Bearer ${token}` },
  });
  expect(revoked.status()).toBe(401);
  expect(revoked.headers()['www-authenticate']).toContain('the token has been revoked');
  // Shown once: a reload does not show it again.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('new-token')).toHaveCount(0);
  await api.dispose();
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('ending sessions, changing the password and revoking tokens work as plain forms', async ({ page, browser }) => {
    const username = uniqueUser('nojs-account');
    await registerAndSignInByForms(page, username);

    const devices: Page[] = [];
    for (let n = 0; n < 3; n++) {
      const context = await browser.newContext({ javaScriptEnabled: false });
      const device = await context.newPage();
      await device.goto('/login');
      await device.getByLabel('Username').fill(username);
      await device.getByLabel('Password').fill(PASSWORD);
      await device.getByRole('main').getByRole('button', { name: 'Sign in', exact: true }).click();
      await expect(device).toHaveURL(/\/dashboard$/);
      devices.push(device);
    }

    await page.goto('/account');
    await expect(page.getByTestId('session')).toHaveCount(4);
    await page.locator('[data-testid=session][data-current=false]').first().getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/account\?signed_out=session#sessions-heading$/);
    await expect(page.getByTestId('sessions-signed-out')).toHaveText('That session is signed out.');
    await expect(page.getByTestId('session')).toHaveCount(3);

    await page.getByRole('button', { name: 'Sign out everywhere else' }).click();
    await expect(page).toHaveURL(/\/account\?signed_out=others#sessions-heading$/);
    await expect(page.getByTestId('sessions-signed-out')).toHaveText('Every other session is signed out.');
    await expect(page.getByTestId('session')).toHaveCount(1);
    for (const device of devices) {
      await device.goto('/dashboard');
      await expect(device).toHaveURL(/\/login\?next=\/dashboard$/);
    }

    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Confirm new password').fill('something else entirely');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByRole('alert')).toHaveText('The new password and its confirmation are not the same.');

    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Confirm new password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page).toHaveURL(/\/account\?password_changed=1$/);
    await expect(page.getByTestId('password-changed')).toBeVisible();
    await expect(page.getByTestId('username')).toHaveText(username);

    // Tokens: one taken through the API is counted and revoked by a plain form.
    const api = await playwrightRequest.newContext();
    const issued = await api.post(new URL('/api/token', page.url()).toString(), {
      form: { username, password: NEW_PASSWORD },
    });
    expect(issued.status()).toBe(200);
    const { token } = await issued.json();
    await page.goto('/account');
    await expect(page.getByTestId('token-count')).toHaveText('1 token is outstanding.');
    await expect(page.getByTestId('create-token')).toHaveCount(0);
    await page.getByTestId('revoke-tokens').click();
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByTestId('token-count')).toHaveText('No token is outstanding.');
    const me = await api.get(new URL('/api/me', page.url()).toString(), {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(me.status()).toBe(401);
    await api.dispose();
    for (const device of devices) {
      await device.context().close();
    }
  });
});
