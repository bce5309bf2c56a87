import { test, expect, type Browser } from '@playwright/test';
import { PASSWORD, expectAccessible, hydrated, linkIn, mailTo, signIn, signOut, signUpWithVerifiedAddress, uniqueUser } from './helpers';

// New-device alerts (#24): a sign-in from a browser new to the account mails
// the verified address (read from the tests' real SMTP server) a "This
// wasn't me" link, which signs that browser out from anywhere and leads to a
// new password. The account page turns the alerts off and on.

const NEW_PASSWORD = 'plum trombone glacier sunset';
const PHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';

async function alertsTo(address: string, count: number) {
  await expect
    .poll(async () => (await mailTo(address)).filter((mail) => mail.subject.startsWith('New sign-in')).length, { timeout: 20_000 })
    .toBeGreaterThanOrEqual(count);
  return (await mailTo(address)).filter((mail) => mail.subject.startsWith('New sign-in'));
}

async function signInElsewhere(browser: Browser, username: string) {
  const context = await browser.newContext({ userAgent: PHONE });
  const page = await context.newPage();
  await signIn(page, username, true);
  return { context, page };
}

test('a sign-in from a new phone is mailed, and its link signs the phone out and leads to a new password', async ({ page, browser }) => {
  const username = uniqueUser('alert');
  const address = await signUpWithVerifiedAddress(page, username);
  await page.goto('/account');
  await hydrated(page);
  await expect(page.getByTestId('alerts-enabled')).toBeChecked();
  await expectAccessible(page, 'account with a verified address and alerts');
  // The first sign-in with the password trusts this browser, unreported.
  await signOut(page);
  await signIn(page, username, true);

  const phone = await signInElsewhere(browser, username);
  const [alert] = await alertsTo(address, 1);
  expect(alert.body).toContain('Safari on iPhone');

  // Read on a computer that is signed in nowhere.
  const mailbox = await browser.newContext();
  const reader = await mailbox.newPage();
  await reader.goto(linkIn(alert, '/alerts/not-me'));
  await expect(reader).toHaveURL(/\/alerts\/not-me$/);
  await hydrated(reader);
  await expect(reader.getByTestId('not-me-username')).toHaveText(username);
  // The sign-in the alert was about: the device, the address and when, in
  // the reader's own time.
  await expect(reader.getByTestId('not-me-device')).toHaveText('Safari on iPhone');
  await expect(reader.getByTestId('not-me-client')).toHaveText('127.0.0.1');
  await expect(reader.getByTestId('not-me-at')).toHaveAttribute('datetime', /^\d{4}-\d\d-\d\dT/);
  await expectAccessible(reader, 'this was not me');
  await reader.getByTestId('not-me-confirm').click();
  await expect(reader).toHaveURL(/\/password\/reset$/);
  await hydrated(reader);
  await expect(reader.getByTestId('reset-username')).toHaveText(username);
  await reader.getByLabel(/^New password/).fill(NEW_PASSWORD);
  await reader.getByLabel('Confirm new password').fill(NEW_PASSWORD);
  await reader.getByRole('button', { name: 'Set the new password' }).click();
  await expect(reader).toHaveURL(/\/dashboard$/);

  await phone.page.goto('/dashboard');
  await expect(phone.page).toHaveURL(/\/login\?next=/);
  await phone.context.close();
  await mailbox.close();
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('alerts turned off and on from the account page; the alert link works as a plain form', async ({ page, browser }) => {
    const username = uniqueUser('alert-nojs');
    const address = await signUpWithVerifiedAddress(page, username);
    await page.goto('/account');
    await page.getByTestId('alerts-enabled').uncheck();
    await page.getByTestId('save-alerts').click();
    await expect(page).toHaveURL(/\/account\?alerts_saved=1#email-heading$/);
    await expect(page.getByTestId('alerts-saved')).toBeVisible();
    await expect(page.getByTestId('alerts-enabled')).not.toBeChecked();
    await page.getByTestId('alerts-enabled').check();
    await page.getByTestId('save-alerts').click();
    await expect(page.getByTestId('alerts-enabled')).toBeChecked();

    // This browser's first sign-in with the password, then a new one's.
    await page.getByRole('navigation').getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/login\?signed_out=1$/);
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('main').getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page).toHaveURL(/\/dashboard$/);
    const phone = await browser.newContext({ userAgent: PHONE, javaScriptEnabled: false });
    const phonePage = await phone.newPage();
    await phonePage.goto('/login');
    await phonePage.getByLabel('Username').fill(username);
    await phonePage.getByLabel('Password').fill(PASSWORD);
    await phonePage.getByRole('main').getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(phonePage).toHaveURL(/\/dashboard$/);

    const [alert] = await alertsTo(address, 1);
    await page.goto(linkIn(alert, '/alerts/not-me'));
    await expect(page).toHaveURL(/\/alerts\/not-me$/);
    await page.getByTestId('not-me-confirm').click();
    await expect(page).toHaveURL(/\/password\/reset$/);
    await expect(page.getByTestId('reset-username')).toHaveText(username);
    await phonePage.goto('/dashboard');
    await expect(phonePage).toHaveURL(/\/login\?next=/);
    await phone.close();
  });
});
