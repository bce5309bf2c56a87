import { test, expect, type Page } from '@playwright/test';
import { PASSWORD, hydrated, register, registerAndSignInByForms, signIn, uniqueUser } from './helpers';

// Re-authentication (#23): API tokens and "sign out everywhere else" need the
// password entered on this session within session.reauth_window_secs. The
// suite cannot wait a quarter of an hour, so each story first ends the window
// with the account page's own button, as a user leaving a shared computer would.

async function endWindow(page: Page): Promise<void> {
  await expect(page.getByTestId('confirmed')).toBeVisible();
  await page.getByTestId('end-confirmation').click();
  await expect(page.getByTestId('not-confirmed')).toBeVisible();
}

/** A sensitive action's part of the account page. */
interface Action {
  what: string;
  section: string;
}
const CREATE_TOKEN: Action = { what: 'Creating an API token', section: 'tokens-heading' };
const REVOKE_TOKENS: Action = { what: 'Revoking your API tokens', section: 'tokens-heading' };

/**
 * On `/confirm` for `action` (none: the account page's "Confirm now"): the
 * page names it, then the password leads back to its form.
 */
async function confirmHere(page: Page, username: string, action?: Action): Promise<void> {
  if (action) {
    await expect(page).toHaveURL(/\/confirm\?for=\/api\/[a-z\/-]+&next=\/account$/);
    await expect(page.getByTestId('confirm-what')).toHaveText(
      `${action.what} needs your password again: a signed-in browser alone is not enough.`,
    );
  } else {
    await expect(page).toHaveURL(/\/confirm\?next=(\/|%2F)account$/);
  }
  const back = action ? `/account#${action.section}` : '/account';
  await expect(page.getByTestId('confirm-back')).toHaveAttribute('href', back);
  await expect(page.getByTestId('confirm-username')).toHaveValue(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page).toHaveURL(new RegExp(`${back}$`));
  await expect(page.getByTestId('confirmed')).toBeVisible();
}

test('act, confirm the password, come back and act', async ({ page }) => {
  const username = uniqueUser('act-confirm');
  await register(page, username);
  await signIn(page, username, true);
  await page.goto('/account');
  await hydrated(page);
  await endWindow(page);

  await page.getByTestId('create-token').click();
  // Sent to confirm; a wrong password is refused there.
  await expect(page).toHaveURL(/\/confirm/);
  await hydrated(page);
  await page.getByLabel('Password').fill('not my password at all');
  await page.getByRole('button', { name: 'Confirm' }).click();
  await expect(page.getByRole('alert')).toHaveText('The current password is not correct.');
  await page.getByLabel('Password').fill('');
  await confirmHere(page, username, CREATE_TOKEN);

  await page.getByTestId('create-token').click();
  await expect(page.getByTestId('new-token')).toBeVisible();
  await expect(page.getByTestId('token-count')).toHaveText('1 token is outstanding.');
});

test('confirm first, then act', async ({ page }) => {
  const username = uniqueUser('confirm-act');
  await register(page, username);
  await signIn(page, username, true);
  await page.goto('/account');
  await hydrated(page);
  await endWindow(page);
  await page.getByRole('link', { name: 'Confirm now' }).click();
  await hydrated(page);
  await confirmHere(page, username);
  await page.getByTestId('create-token').click();
  await expect(page.getByTestId('new-token')).toBeVisible();
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('a sensitive form leads to confirm and back', async ({ page }) => {
    const username = uniqueUser('nojs-confirm');
    await registerAndSignInByForms(page, username);
    await page.goto('/account');
    await endWindow(page);
    await page.getByTestId('revoke-tokens').click();
    await confirmHere(page, username, REVOKE_TOKENS);
    await page.getByTestId('revoke-tokens').click();
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByTestId('token-count')).toHaveText('No token is outstanding.');
    await expect(page.getByRole('alert')).toHaveCount(0);
  });
});
