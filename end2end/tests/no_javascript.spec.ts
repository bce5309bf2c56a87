import { test, expect } from '@playwright/test';
import { PASSWORD, uniqueUser } from './helpers';

test.use({ javaScriptEnabled: false });

test('the whole sign-up (signed in at once) and sign-in works with JavaScript disabled', async ({ page }) => {
  const username = uniqueUser('nojs');
  await page.goto('/register');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  // Signed in at once, without typing the password again.
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId('username')).toHaveText(username);
  // Signed up without "Keep me signed in": the dashboard asks again.
  await page.getByRole('button', { name: 'Keep me signed in on this browser' }).click();
  await expect(page).toHaveURL(/\/dashboard\?kept=1$/);
  await expect(page.getByTestId('kept')).toBeVisible();
  await expect(page.getByTestId('remembered')).toHaveText('yes');
  await page.getByRole('main').getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);

  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill('a wrong password');
  await page.getByRole('main').getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('alert')).toHaveText('Invalid username or password');

  await page.goto('/dashboard');
  await expect(page).toHaveURL(/\/login\?next=\/dashboard$/);
  await expect(page.getByTestId('sign-in-to-continue')).toHaveText('Sign in to continue to that page.');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('Keep me signed in').check();
  await page.getByRole('main').getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId('username')).toHaveText(username);

  await page.getByRole('main').getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
  await page.goto('/dashboard');
  await expect(page).toHaveURL(/\/login\?next=\/dashboard$/);
});
