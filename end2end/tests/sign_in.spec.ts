import { test, expect } from '@playwright/test';
import { register, signIn, signOut, uniqueUser } from './helpers';

test('a new user registers, signs in with "keep me signed in" and stays signed in on reload', async ({ page, context }) => {
  // The page's Content-Security-Policy must not block the app's own scripts.
  const cspViolations: string[] = [];
  page.on('console', (message) => {
    if (message.text().includes('Content Security Policy')) cspViolations.push(message.text());
  });
  const username = uniqueUser('alice');
  // Signed in by the sign-up itself; then again, kept this time.
  await register(page, username);
  await signIn(page, username, true);

  // The dashboard's first server HTML, before any script runs, already has the user.
  const response = await page.goto('/dashboard');
  expect(response?.status()).toBe(200);
  const html = await response!.text();
  expect(html).toContain(`data-testid="username">${username}<`);
  expect(html).toContain('data-testid="signed-in-at"');

  await page.reload();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId('username')).toHaveText(username);
  await expect(page.getByTestId('remembered')).toHaveText('yes');
  await expect(page.getByTestId('nav-user')).toHaveText(username);
  // The navigation marks the page shown, and follows a move on the client.
  const nav = page.getByRole('navigation');
  await expect(nav.getByRole('link', { name: 'Dashboard' })).toHaveAttribute('aria-current', 'page');
  await nav.getByRole('link', { name: 'Account' }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(nav.getByRole('link', { name: 'Account' })).toHaveAttribute('aria-current', 'page');
  await expect(nav.getByRole('link', { name: 'Dashboard' })).not.toHaveAttribute('aria-current', /.*/);
  await page.goBack();

  const [session] = (await context.cookies()).filter((cookie) => cookie.name === 'session');
  expect(session.httpOnly).toBe(true);
  expect(session.sameSite).toBe('Lax');
  expect(session.path).toBe('/');
  expect(session.expires).toBeGreaterThan(Date.now() / 1000 + 86_000);
  expect(cspViolations).toEqual([]);
});

test('a wrong password shows why in the form and stays on the sign-in page', async ({ page }) => {
  const username = uniqueUser('bob');
  await register(page, username);
  await signOut(page);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill('not the right password');
  await page.getByRole('main').getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('alert')).toHaveText('Invalid username or password');
  await expect(page).toHaveURL(/\/login/);
});

test('the protected page sends an anonymous visitor to sign in and back', async ({ page }) => {
  const username = uniqueUser('carol');
  await register(page, username);
  await signOut(page);
  await page.goto('/dashboard');
  await expect(page).toHaveURL(/\/login\?next=\/dashboard$/);
  await signIn(page, username, false);
});
