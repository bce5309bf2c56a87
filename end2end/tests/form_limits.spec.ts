import { test, expect } from '@playwright/test';
import { hydrated } from './helpers';

// scripts/end_to_end.sh serves the suite with PASSWORD_MIN_LENGTH=10, not the
// default 8, so that a hint written into the page by hand would show.
const minimum = process.env.PASSWORD_MIN_LENGTH ?? '8';
const hint = `Password (at least ${minimum} characters)`;

test('the sign-up form shows the configured password minimum, as sent and when drawn in the browser', async ({ page }) => {
  await page.goto('/register');
  await hydrated(page);
  await expect(page.getByText(hint)).toBeVisible();

  // A move inside the app: the browser draws the sign-up page itself.
  await page.goto('/login');
  await hydrated(page);
  await page.getByRole('main').getByRole('link', { name: 'Create one' }).click();
  await expect(page).toHaveURL(/\/register$/);
  await expect(page.getByText(hint)).toBeVisible();
  await expect(page.getByLabel('Username')).toHaveAttribute('maxlength', '64');
  await expect(page.getByLabel('Password')).toHaveAttribute('maxlength', '256');
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the sign-up form shows the configured password minimum', async ({ page }) => {
    await page.goto('/register');
    await expect(page.getByText(hint)).toBeVisible();
    await expect(page.getByLabel('Password')).toHaveAttribute('maxlength', '256');
  });
});
