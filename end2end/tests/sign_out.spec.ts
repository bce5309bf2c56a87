import { test, expect } from '@playwright/test';
import { PASSWORD, hydrated, register, signIn, uniqueUser } from './helpers';

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

test('a signed-in user opening the home page is greeted, and it follows signing out and in without a page load', async ({ page }) => {
  const username = uniqueUser('erin');
  await register(page, username);
  await signIn(page, username, true);

  // The signed-in parts of the page load as a chunk of their own; the page
  // the server sent hydrates with them.
  await page.goto('/');
  await hydrated(page);
  const main = page.getByRole('main');
  const nav = page.getByRole('navigation');
  await expect(main).toContainText(`Signed in as ${username}.`);
  await expect(page.getByTestId('nav-user')).toHaveText(username);

  await page.evaluate(() => ((window as unknown as { samePage: boolean }).samePage = true));
  await nav.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
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
  expect(await page.evaluate(() => (window as unknown as { samePage?: boolean }).samePage)).toBe(true);
});
