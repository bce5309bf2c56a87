import { test, expect } from '@playwright/test';
import { PASSWORD, hydrated, register, signIn, uniqueUser } from './helpers';

test('after signing out from the dashboard no page shows the user, not even the one before in the history', async ({ page }) => {
  const username = uniqueUser('dora');
  await register(page, username);
  await signIn(page, username, true);
  await page.goto('/account');
  await hydrated(page);

  await page.getByRole('main').getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
  await expect(page.getByTestId('signed-out')).toHaveText("You're signed out.");
  await expect(page.getByRole('navigation').getByRole('link', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByTestId('nav-user')).toHaveCount(0);
  await expect(page.locator('body')).not.toContainText(username);
  // The sign-in page arrived at after a sign-out works in full: its passkey
  // button too.
  await expect(page.getByTestId('passkey-button')).toBeEnabled();

  // The browser's Back button asks the server again: the page is not kept.
  await page.goBack();
  await expect(page).toHaveURL(/\/login\?next=\/account$/);
  await expect(page.locator('body')).not.toContainText(username);
  await page.goto('/dashboard');
  await expect(page).toHaveURL(/\/login\?next=\/dashboard$/);
  await expect(page.locator('body')).not.toContainText(username);
});

test('a signed-in user opening the home page is greeted, and it follows signing out and in', async ({ page }) => {
  const username = uniqueUser('erin');
  await register(page, username);
  await signIn(page, username, true);

  await page.goto('/');
  await hydrated(page);
  const main = page.getByRole('main');
  const nav = page.getByRole('navigation');
  await expect(main).toContainText(`Signed in as ${username}.`);
  await expect(page.getByTestId('nav-user')).toHaveText(username);

  await nav.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
  await expect(page.getByTestId('nav-user')).toHaveCount(0);
  await nav.getByRole('link', { name: 'Home' }).click();
  await expect(main.getByRole('link', { name: 'create an account' })).toBeVisible();
  await expect(main).not.toContainText('Signed in as');

  await main.getByRole('link', { name: 'Sign in' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await main.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await nav.getByRole('link', { name: 'Home' }).click();
  await expect(main).toContainText(`Signed in as ${username}.`);
});
