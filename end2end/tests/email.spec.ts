import { test, expect } from '@playwright/test';
import {
  expectAccessible,
  hydrated,
  linkIn,
  mailTo,
  registerAndSignInByForms,
  signIn,
  signUpWithAddress,
  uniqueUser,
} from './helpers';

// An account's email address (#24): given at sign-up or on the account page,
// verified by the link in the message, read from the tests' real SMTP server.

test('an address given at sign-up is verified from the link in its message', async ({ page }) => {
  const username = uniqueUser('mail-signup');
  const address = await signUpWithAddress(page, username);

  const [mail] = await mailTo(address);
  expect(mail.subject).toBe('Confirm your email address');
  const link = linkIn(mail, '/email/verify');
  // The token leaves the address bar at once; the page asks before it acts.
  await page.goto(link);
  await expect(page).toHaveURL(/\/email\/verify$/);
  await hydrated(page);
  await expect(page.getByTestId('verify-address')).toContainText(address);
  await expectAccessible(page, 'email verification');
  await page.getByTestId('verify-email').click();
  await expect(page.getByTestId('email-verified')).toBeVisible();
  await expectAccessible(page, 'email verified');

  // The same link again: used.
  await page.goto(link);
  await expect(page.getByTestId('link-invalid')).toBeVisible();

  await signIn(page, username, true);
  await page.goto('/account');
  await hydrated(page);
  await expect(page.getByTestId('email-verified-address')).toHaveText(`Verified: ${address}`);

  // A new address waits for its own link; the verified one stays.
  const next = `${username}-new@example.com`;
  await page.getByTestId('email-input').fill(next);
  await page.getByTestId('set-email').click();
  await expect(page.getByTestId('email-sent')).toBeVisible();
  await expect(page.getByTestId('email-pending')).toContainText(next);
  await expect(page.getByTestId('email-verified-address')).toContainText(address);
  await expectAccessible(page, 'account with an address waiting');
  await page.getByTestId('email-input').fill('someone@localhost');
  await page.getByTestId('set-email').click();
  await expect(page.getByRole('alert')).toBeVisible();
  await expectAccessible(page, 'account with an address refused');
  await mailTo(next);
});

test('without JavaScript: set an address, send the link again, verify it', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const username = uniqueUser('mail-nojs');
  const address = `${username}@example.com`;
  await registerAndSignInByForms(page, username);
  await page.goto('/account');
  await page.getByTestId('email-input').fill(address);
  await page.getByTestId('set-email').click();
  await expect(page).toHaveURL(/\/account\?email_sent=1#email-heading$/);
  await expect(page.getByTestId('email-sent')).toBeVisible();
  await expect(page.getByTestId('email-pending')).toContainText(address);
  await expect(page.getByTestId('no-email')).toBeVisible();

  await page.getByTestId('resend-email').click();
  await expect(page.getByTestId('email-sent')).toBeVisible();
  const [first, second] = await mailTo(address, 2);
  // Only the newest link works.
  await page.goto(linkIn(first, '/email/verify'));
  await expect(page.getByTestId('link-invalid')).toBeVisible();
  await page.goto(linkIn(second, '/email/verify'));
  await expect(page).toHaveURL(/\/email\/verify$/);
  await expect(page.getByTestId('verify-address')).toContainText(address);
  await page.getByTestId('verify-email').click();
  await expect(page).toHaveURL(/\/email\/verify\?done=1$/);
  await expect(page.getByTestId('email-verified')).toBeVisible();

  await page.goto('/account');
  await expect(page.getByTestId('email-verified-address')).toHaveText(`Verified: ${address}`);
  await context.close();
});
