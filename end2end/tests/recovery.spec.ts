import { test, expect } from '@playwright/test';
import {
  expectAccessible,
  hydrated,
  linkIn,
  mailTo,
  PASSKEY_SITE,
  signIn,
  signUpWithVerifiedAddress,
  uniqueUser,
  virtualAuthenticator,
} from './helpers';

// "Forgot your password?" (#24): the link arrives at the account's verified
// address (read from the tests' real SMTP server) and leads to a new
// password and a signed-in browser.

const NEW_PASSWORD = 'plum trombone glacier sunset';

async function resetMails(address: string, count: number) {
  const mails = await mailTo(address, count + 1);
  return mails.filter((mail) => mail.subject === 'Reset your password');
}

test('forgot password, the link from the mail, a new password, signed in', async ({ page }) => {
  const username = uniqueUser('forgot');
  const address = await signUpWithVerifiedAddress(page, username);

  await page.goto('/login');
  await hydrated(page);
  await page.getByTestId('forgot-password').click();
  await expect(page).toHaveURL(/\/password\/forgot$/);
  await hydrated(page);
  await expectAccessible(page, 'forgot password');
  await page.getByLabel('Username or email address').fill(address);
  await page.getByRole('button', { name: 'Send me a link' }).click();
  await expect(page.getByTestId('reset-requested')).toBeVisible();
  await expectAccessible(page, 'forgot password, sent');

  const [mail] = await resetMails(address, 1);
  await page.goto(linkIn(mail, '/password/reset'));
  // The token is gone from the address bar before the page shows.
  await expect(page).toHaveURL(/\/password\/reset$/);
  await hydrated(page);
  await expect(page.getByTestId('reset-username')).toHaveText(username);
  await expectAccessible(page, 'reset password');
  await page.getByLabel(/^New password/).fill('short');
  await page.getByLabel('Confirm new password').fill('short');
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await expectAccessible(page, 'reset password with an error');
  await page.getByLabel(/^New password/).fill(NEW_PASSWORD);
  await page.getByLabel('Confirm new password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId('username')).toHaveText(username);

  // Used: the link leads nowhere now.
  await page.goto(linkIn(mail, '/password/reset'));
  await expect(page.getByTestId('link-invalid')).toBeVisible();
});

test('without JavaScript: forgot password to signed in', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const username = uniqueUser('forgot-nojs');
  const address = await signUpWithVerifiedAddress(page, username);
  await page.goto('/password/forgot');
  await page.getByLabel('Username or email address').fill(username);
  await page.getByRole('button', { name: 'Send me a link' }).click();
  await expect(page).toHaveURL(/\/password\/forgot\?sent=1$/);
  await expect(page.getByTestId('reset-requested')).toBeVisible();

  const [mail] = await resetMails(address, 1);
  await page.goto(linkIn(mail, '/password/reset'));
  await expect(page).toHaveURL(/\/password\/reset$/);
  await page.getByLabel(/^New password/).fill(NEW_PASSWORD);
  await page.getByLabel('Confirm new password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Set the new password' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId('username')).toHaveText(username);
  await context.close();
});

test.describe('an intruder with the stolen password', () => {
  // Passkeys need a host name: the intruder works at localhost.
  test.use({ baseURL: PASSKEY_SITE });

  test('adds a passkey; "This wasn\'t me" and a new password shut it out, and the owner sees it removed', async ({
    browser,
  }) => {
    const owner = await browser.newContext();
    const ownerPage = await owner.newPage();
    const username = uniqueUser('intruded');
    const address = await signUpWithVerifiedAddress(ownerPage, username);
    // Her first sign-in trusts her browser; a sign-in from any other is reported.
    await signIn(ownerPage, username, true);

    const intruder = await browser.newContext();
    const intruderPage = await intruder.newPage();
    await virtualAuthenticator(intruder, intruderPage);
    await signIn(intruderPage, username, true);
    await intruderPage.goto('/account');
    await hydrated(intruderPage);
    const passkeys = intruderPage.getByTestId('passkeys');
    await passkeys.getByRole('button', { name: 'Add a passkey' }).click();
    await expect(passkeys.getByTestId('passkey-added')).toBeVisible();
    const name = (await passkeys.getByTestId('passkey-name').textContent())?.trim() ?? '';
    expect(name).not.toBe('');

    // The owner follows the alert's "This wasn't me", then sets a new password.
    const alerts = (await mailTo(address, 2)).filter((mail) => mail.subject.startsWith('New sign-in'));
    expect(alerts).toHaveLength(1);
    const notMe = linkIn(alerts[0], '/alerts/not-me');
    await ownerPage.goto(notMe);
    await hydrated(ownerPage);
    await expect(ownerPage.getByText('every passkey removed')).toBeVisible();
    await ownerPage.getByTestId('not-me-confirm').click();
    await expect(ownerPage).toHaveURL(/\/password\/reset$/);
    await hydrated(ownerPage);
    await ownerPage.getByLabel(/^New password/).fill(NEW_PASSWORD);
    await ownerPage.getByLabel('Confirm new password').fill(NEW_PASSWORD);
    await ownerPage.getByRole('button', { name: 'Set the new password' }).click();
    await expect(ownerPage).toHaveURL(/\/dashboard$/);
    await ownerPage.goto(new URL('/account/activity', notMe).toString());
    const removed = ownerPage.locator('[data-kind="passkey_removed_by_recovery"]');
    await expect(removed).toHaveCount(1);
    await expect(removed.getByTestId('event-detail')).toHaveText(name);

    // The intruder is signed out, and the sign-in page's autofill offers the
    // passkey (the virtual authenticator answers at once): it is refused.
    await intruderPage.goto('/login');
    await expect(intruderPage.getByTestId('passkey-error')).toHaveText(
      'That passkey could not sign you in. Try again, or use your password.',
    );
    await expect(intruderPage).toHaveURL(/\/login$/);
    await owner.close();
    await intruder.close();
  });
});
