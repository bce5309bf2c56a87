import { test, expect } from '@playwright/test';
import { register, signIn, uniqueUser } from './helpers';

test('signing out from the dashboard needs no page load, and the dashboard then redirects', async ({ page }) => {
  const username = uniqueUser('dora');
  await register(page, username);
  await signIn(page, username, true);

  // A marker on the window survives only if no new document is loaded.
  await page.evaluate(() => ((window as unknown as { samePage: boolean }).samePage = true));
  let documentLoads = 0;
  page.on('load', () => documentLoads++);

  await page.getByRole('main').getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByRole('navigation').getByRole('link', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByTestId('nav-user')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { samePage?: boolean }).samePage)).toBe(true);
  expect(documentLoads).toBe(0);

  await page.goto('/dashboard');
  await expect(page).toHaveURL(/\/login\?next=\/dashboard$/);
});
