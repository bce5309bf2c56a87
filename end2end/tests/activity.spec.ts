import { test, expect } from '@playwright/test';
import { PASSWORD, hydrated, register, registerAndSignInByForms, signIn, signOut, uniqueUser } from './helpers';

// The security activity page (#23): what happened on the account, newest
// first, with "new device" and "this device"; "This wasn't me" ends every
// other session and leads to the password change.

test('a sign-in from another browser shows as a new device, and "This wasn\'t me" signs it out', async ({ page, browser }) => {
  const username = uniqueUser('activity');
  // The sign-up signs this browser in.
  await register(page, username);
  const other = await browser.newContext({ userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1' });
  const otherPage = await other.newPage();
  await signIn(otherPage, username, true);

  await page.goto('/account');
  await hydrated(page);
  await page.getByTestId('activity-link').click();
  await expect(page).toHaveURL(/\/account\/activity$/);
  const events = page.getByTestId('event');
  await expect(events).toHaveCount(2);
  // Newest first: the other browser's sign-in, then this one's sign-up.
  await expect(events.nth(0)).toHaveAttribute('data-kind', 'signed_in_new_device');
  await expect(events.nth(1)).toHaveAttribute('data-kind', 'signed_up');
  await expect(events.nth(0)).toContainText('Signed in from a new device');
  await expect(events.nth(0)).toContainText('Safari on iPhone');
  await expect(events.nth(0).getByTestId('this-device')).toHaveCount(0);
  await expect(events.nth(1).getByTestId('this-device')).toHaveText('This device');

  await page.getByTestId('not-me').click();
  await expect(page).toHaveURL(/\/account\?not_me=1#password-heading$/);
  // Where the user can see it: what was done, and the new password's form.
  await expect(page.getByTestId('not-me-done')).toBeInViewport();
  await expect(page.getByLabel('Current password')).toBeInViewport();
  await expect(page.getByTestId('session')).toHaveCount(1);
  await otherPage.goto('/dashboard');
  await expect(otherPage).toHaveURL(/\/login\?next=/);
  await other.close();

  await page.goto('/account/activity');
  await hydrated(page);
  await expect(page.getByTestId('event').first()).toHaveAttribute('data-kind', 'not_me');
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the activity page and "This wasn\'t me" work as plain pages and forms', async ({ page }) => {
    const username = uniqueUser('nojs-activity');
    await registerAndSignInByForms(page, username);
    await page.goto('/account/activity');
    await expect(page.getByTestId('event')).toHaveCount(1);
    await expect(page.getByTestId('event').first()).toHaveAttribute('data-kind', 'signed_up');
    await page.getByTestId('not-me').click();
    await expect(page).toHaveURL(/\/account\?not_me=1#password-heading$/);
    await expect(page.getByTestId('not-me-done')).toBeVisible();
  });
});

test('signed out, the activity page sends to sign in and back', async ({ page }) => {
  const username = uniqueUser('activity-back');
  await register(page, username);
  await signOut(page);
  await page.goto('/account/activity');
  await expect(page).toHaveURL(/\/login\?next=(\/|%2F)account(\/|%2F)activity$/);
  await hydrated(page);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('main').getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/account\/activity$/);
  // This sign-in, the sign-out, the sign-up.
  await expect(page.getByTestId('event')).toHaveCount(3);
  await expect(page.getByTestId('event').first()).toHaveAttribute('data-kind', 'signed_in_new_device');
});
