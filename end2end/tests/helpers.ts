import { expect, type Page, type BrowserContext } from '@playwright/test';

export const PASSWORD = 'correct horse battery';

/** A username no other test (or earlier run on the same database) has used. */
export function uniqueUser(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/** Waits until the wasm app has hydrated the page (set in `hydrate()`). */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
}

export async function register(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.goto('/register');
  await hydrated(page);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/login\?registered=1$/);
}

export async function signIn(page: Page, username: string, remember: boolean, password = PASSWORD): Promise<void> {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  if (remember) {
    await page.getByLabel('Keep me signed in').check();
  }
  await page.getByRole('main').getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId('username')).toHaveText(username);
}

/**
 * What survives closing the browser: only cookies with an expiry date.
 * Session cookies (expires === -1) are dropped, as a real browser does.
 */
export async function persistentCookies(context: BrowserContext) {
  const cookies = await context.cookies();
  return cookies.filter((cookie) => cookie.expires > 0);
}

/** Registers `username` and signs in through the plain forms (no JavaScript needed). */
export async function registerAndSignInByForms(page: Page, username: string): Promise<void> {
  await page.goto('/register');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('main').getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
}
