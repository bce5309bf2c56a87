import { test, expect, type Page } from '@playwright/test';
import { PASSWORD, hydrated, register, registerAndSignInByForms, signIn, uniqueUser } from './helpers';

// Deleting one's account (#23): from the account page, the username typed
// again, inside the re-authentication window. Every session of the account
// ends (other devices and other tabs too), and the name is free again.

const DELETED = /Your account has been deleted/;
const ENDED = 'Your session has ended. Please sign in again.';

async function deleteAccount(page: Page, typed: string): Promise<void> {
  await page.getByTestId('delete-username').fill(typed);
  await page.getByTestId('delete-account').click();
}

test('delete the account: every device and tab is signed out, and the name can be registered again', async ({ page, context, browser }) => {
  const username = uniqueUser('delete');
  await register(page, username);
  await signIn(page, username, true);
  const phone = await browser.newContext();
  const phonePage = await phone.newPage();
  await signIn(phonePage, username, true);
  const secondTab = await context.newPage();
  await secondTab.goto('/dashboard');
  await hydrated(secondTab);

  await page.goto('/account');
  await hydrated(page);
  // A wrong name changes nothing and says why.
  await deleteAccount(page, 'somebody-else');
  await expect(page.getByRole('alert')).toHaveText(
    "Type this account's username exactly to confirm that it should be deleted.",
  );
  await expect(page.getByRole('alert')).toBeFocused();
  await expect(page.getByTestId('session')).toHaveCount(2);

  await deleteAccount(page, username);
  await expect(page).toHaveURL(/\/\?deleted=1$/);
  await expect(page.getByTestId('account-deleted')).toHaveText(DELETED);
  await expect(page.getByRole('link', { name: 'Sign in' }).first()).toBeVisible();
  // The other tab leaves its signed-in page at once; the phone on its next request.
  await expect(secondTab).toHaveURL(/\/login\?ended=1$/, { timeout: 2_000 });
  await expect(secondTab.getByTestId('session-ended')).toHaveText(ENDED);
  await phonePage.goto('/dashboard');
  await expect(phonePage).toHaveURL(/\/login\?next=/);
  await phone.close();

  // The old password opens nothing; the name is free to register again.
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('main').getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('alert')).toHaveText('Invalid username or password');
  await register(page, username);
  await signIn(page, username, false);
  await page.goto('/account');
  await hydrated(page);
  await expect(page.getByTestId('session')).toHaveCount(1);
});

test('outside the window, deleting asks for the password first, then comes back', async ({ page }) => {
  const username = uniqueUser('delete-confirm');
  await register(page, username);
  await signIn(page, username, true);
  await page.goto('/account');
  await hydrated(page);
  await page.getByTestId('end-confirmation').click();
  await expect(page.getByTestId('not-confirmed')).toBeVisible();

  await deleteAccount(page, username);
  await expect(page).toHaveURL(/\/confirm\?for=\/api\/account\/delete&next=\/account$/);
  await expect(page.getByTestId('confirm-what')).toHaveText(
    'Deleting your account needs your password again: a signed-in browser alone is not enough.',
  );
  // A way back, which changes nothing.
  await page.getByRole('link', { name: 'Go back without confirming' }).click();
  await expect(page).toHaveURL(/\/account#deletion-heading$/);
  await expect(page.getByTestId('username')).toHaveText(username);
  await expect(page.getByTestId('not-confirmed')).toBeVisible();

  await hydrated(page);
  await deleteAccount(page, username);
  await expect(page).toHaveURL(/\/confirm\?for=\/api\/account\/delete&next=\/account$/);
  await hydrated(page);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Confirm' }).click();
  // Back at the deletion form.
  await expect(page).toHaveURL(/\/account#deletion-heading$/);
  await expect(page.getByTestId('delete-username')).toBeInViewport();
  await expect(page.getByTestId('confirmed')).toBeVisible();
  await deleteAccount(page, username);
  await expect(page).toHaveURL(/\/\?deleted=1$/);
  await expect(page.getByTestId('account-deleted')).toHaveText(DELETED);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the deletion form works and the home page says it is done', async ({ page }) => {
    const username = uniqueUser('nojs-delete');
    await registerAndSignInByForms(page, username);
    await page.goto('/account');
    await deleteAccount(page, 'not the name');
    await expect(page.getByRole('alert')).toHaveText(/username exactly/);
    await deleteAccount(page, username);
    await expect(page).toHaveURL(/\/\?deleted=1$/);
    await expect(page.getByTestId('account-deleted')).toHaveText(DELETED);
    await page.goto('/account');
    await expect(page).toHaveURL(/\/login\?next=/);
  });
});
