import { test, expect, type Page } from '@playwright/test';
import {
  expectAccessible,
  hydrated,
  PASSKEY_SITE as SITE,
  PASSWORD,
  persistentCookies,
  register,
  signOut,
  uniqueUser,
  virtualAuthenticator,
} from './helpers';

// Browsers refuse passkeys on an IP address: these stories use the site at
// localhost.
test.use({ baseURL: SITE });

/** Signs up `username` and adds a passkey on the account page. */
async function withPasskey(page: Page, username: string): Promise<void> {
  await register(page, username);
  await page.goto('/account');
  await hydrated(page);
  const section = page.getByTestId('passkeys');
  await expect(section.getByTestId('no-passkeys')).toBeVisible();
  await section.getByRole('button', { name: 'Add a passkey' }).click();
  await expect(section.getByTestId('passkey-added')).toBeVisible();
  await expect(section.getByTestId('passkey')).toHaveCount(1);
  await expect(section.getByTestId('passkey-last-used')).toHaveText('never');
}

test('a passkey added on the account page signs in through the autofill, is renamed and removed', async ({ page, context }) => {
  const device = await virtualAuthenticator(context, page);
  const username = uniqueUser('passkey');
  await withPasskey(page, username);
  const stored = await device.passkeys();
  expect(stored).toHaveLength(1);
  expect(stored[0].isResidentCredential, 'discoverable, so the autofill can offer it').toBe(true);
  expect(stored[0].rpId).toBe('localhost');
  await expectAccessible(page, 'the account page with a passkey');

  const section = page.getByTestId('passkeys');
  await section.getByTestId('passkey-new-name').fill('Work laptop');
  await section.getByRole('button', { name: 'Rename' }).click();
  await expect(section.getByTestId('passkey-name')).toHaveText('Work laptop');
  await expect(section.getByTestId('passkeys-saved')).toBeVisible();

  // Signed out, the sign-in page asks the browser for a passkey through the
  // username field's autofill; Chromium's virtual authenticator answers it
  // at once, as a user picking the suggestion would.
  await page.getByRole('navigation').getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId('username')).toHaveText(username);

  // The autofill signed in before "Keep me signed in" could be ticked: the
  // dashboard asks, and one click keeps this browser signed in.
  await expect(page.getByTestId('remembered')).toHaveText('no: ends when the browser closes');
  expect((await persistentCookies(context)).map((cookie) => cookie.name)).not.toContain('session');
  await hydrated(page);
  await page.getByRole('button', { name: 'Keep me signed in on this browser' }).click();
  await expect(page.getByTestId('kept')).toBeVisible();
  await expect(page.getByTestId('remembered')).toHaveText('yes');
  await expect(page.getByTestId('keep-signed-in')).toHaveCount(0);
  expect((await persistentCookies(context)).map((cookie) => cookie.name)).toContain('session');
  await expectAccessible(page, 'the dashboard after keeping the session');

  await page.goto('/account');
  await hydrated(page);
  await expect(section.getByTestId('passkey-last-used')).not.toHaveText('never');
  await page.goto('/account/activity');
  await expect(page.getByText('Signed in with a passkey').first()).toBeVisible();

  // Removed, it signs in no more: the autofill's answer is refused.
  await page.goto('/account');
  await hydrated(page);
  await section.getByRole('button', { name: 'Remove' }).click();
  await expect(section.getByTestId('no-passkeys')).toBeVisible();
  await page.getByRole('navigation').getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
  await expect(page.getByTestId('passkey-error')).toHaveText(
    'That passkey could not sign you in. Try again, or use your password.',
  );
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
});

test('the button signs in with a passkey where the browser offers none in the autofill', async ({ page, context }) => {
  // A browser without conditional mediation.
  await context.addInitScript(() => {
    PublicKeyCredential.isConditionalMediationAvailable = async () => false;
  });
  await virtualAuthenticator(context, page);
  const username = uniqueUser('passkey-button');
  await withPasskey(page, username);
  await signOut(page);
  await hydrated(page);
  const button = page.getByRole('button', { name: 'Sign in with a passkey' });
  await expect(button).toBeEnabled();
  await expect(page.getByTestId('passkey-hint')).toHaveCount(0);
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
  await expectAccessible(page, 'the sign-in page with its passkey button');

  await page.getByLabel('Keep me signed in').check();
  await button.click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId('username')).toHaveText(username);
  const session = (await context.cookies()).find((cookie) => cookie.name === 'session');
  expect(session?.expires, '"Keep me signed in" gives a lasting cookie').toBeGreaterThan(0);
});

test('a password sign-in sent while the autofill asks for a challenge stays signed in', async ({ page, context }) => {
  const username = uniqueUser('passkey-race');
  await register(page, username);
  // A browser that has not signed in here yet; its sign-in page's request for
  // a passkey challenge is answered only after the password sign-in is.
  await context.clearCookies();
  let signedIn = () => {};
  const afterSignIn = new Promise<void>((resolve) => (signedIn = resolve));
  page.on('response', (response) => {
    if (new URL(response.url()).pathname === '/api/login') signedIn();
  });
  let challengeAnswered = false;
  await page.route('**/api/passkeys/sign-in/options', async (route) => {
    const response = await route.fetch();
    await afterSignIn;
    await route.fulfill({ response });
    challengeAnswered = true;
  });
  const asked = page.waitForRequest('**/api/passkeys/sign-in/options');
  await page.goto('/login');
  await hydrated(page);
  await asked;
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('main').getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect.poll(() => challengeAnswered, { message: 'the challenge was answered after the sign-in' }).toBe(true);
  await page.reload();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId('username')).toHaveText(username);
});

test('a sensitive action outside the window: adding a passkey asks for the password first', async ({ page, context }) => {
  await virtualAuthenticator(context, page);
  const username = uniqueUser('passkey-confirm');
  await register(page, username);
  await page.goto('/account');
  await hydrated(page);
  await page.getByTestId('end-confirmation').click();
  await expect(page.getByTestId('not-confirmed')).toBeVisible();
  await page.getByTestId('passkeys').getByRole('button', { name: 'Add a passkey' }).click();
  await expect(page).toHaveURL(/\/confirm\?for=\/api\/passkeys\/new&next=\/account$/);
  // The confirmation page itself, not the account page still on screen.
  await expect(page.getByTestId('confirm-username')).toHaveValue(username);
  await expect(page.getByTestId('confirm-what')).toHaveText(
    'Adding a passkey needs your password again: a signed-in browser alone is not enough.',
  );
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('main').getByRole('button', { name: 'Confirm' }).click();
  await expect(page).toHaveURL(/\/account#passkeys-heading$/);
  await expect(page.getByTestId('confirmed')).toBeVisible();
  await page.getByTestId('passkeys').getByRole('button', { name: 'Add a passkey' }).click();
  await expect(page.getByTestId('passkey-added')).toBeVisible();
});

test.describe('without JavaScript', () => {
  test('the passkey controls say they need it; renaming and removing still work', async ({ browser }) => {
    // A passkey added with JavaScript, then the same browser without it.
    const withScripts = await browser.newContext({ baseURL: SITE });
    const page = await withScripts.newPage();
    await virtualAuthenticator(withScripts, page);
    const username = uniqueUser('passkey-nojs');
    await withPasskey(page, username);
    const plain = await browser.newContext({ baseURL: SITE, javaScriptEnabled: false });
    await plain.addCookies(await withScripts.cookies());
    const form = await plain.newPage();

    await form.goto('/account');
    const section = form.getByTestId('passkeys');
    await expect(section.getByTestId('add-passkey-hint')).toHaveText('Adding a passkey needs JavaScript.');
    await expect(section.getByRole('button', { name: 'Add a passkey' })).toBeDisabled();
    await section.getByTestId('passkey-new-name').fill('Old phone');
    await section.getByRole('button', { name: 'Rename' }).click();
    await expect(form).toHaveURL(/\/account\?passkeys_saved=1#passkeys-heading$/);
    await expect(section.getByTestId('passkey-name')).toHaveText('Old phone');
    await section.getByRole('button', { name: 'Remove' }).click();
    await expect(section.getByTestId('no-passkeys')).toBeVisible();

    await form.getByRole('main').getByRole('button', { name: 'Sign out' }).click();
    await expect(form).toHaveURL(/\/login\?signed_out=1$/);
    await expect(form.getByTestId('passkey-hint')).toHaveText('Signing in with a passkey needs JavaScript.');
    await expect(form.getByRole('button', { name: 'Sign in with a passkey' })).toBeDisabled();
    await withScripts.close();
    await plain.close();
  });
});
