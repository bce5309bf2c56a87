import { test, expect } from '@playwright/test';
import { expectAccessible, hydrated, linkIn, mailTo, signUpWithVerifiedAddress, uniqueUser } from './helpers';

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
