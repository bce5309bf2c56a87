import { test, expect } from '@playwright/test';
import { register, signIn, uniqueUser } from './helpers';

// Each page has a title of its own, so that tabs, the history and screen
// readers tell them apart.
test('every page has its own title, the site last', async ({ page }) => {
  const anonymous: [string, string][] = [
    ['/', 'Persistent login'],
    ['/login', 'Sign in · Persistent login'],
    ['/register', 'Create an account · Persistent login'],
    ['/password/forgot', 'Forgot your password? · Persistent login'],
    ['/password/reset', 'Choose a new password · Persistent login'],
    ['/email/verify', 'Confirm your email address · Persistent login'],
    ['/alerts/not-me', "This wasn't me · Persistent login"],
    ['/no/such/page', 'Page not found · Persistent login'],
  ];
  for (const [path, title] of anonymous) {
    await page.goto(path);
    await expect(page, path).toHaveTitle(title);
  }

  const username = uniqueUser('titles');
  await register(page, username);
  await signIn(page, username, false);
  const signedIn: [string, string][] = [
    ['/dashboard', 'Dashboard · Persistent login'],
    ['/account', 'Your account · Persistent login'],
    ['/account/activity', 'Security activity · Persistent login'],
    ['/confirm', "Confirm it's you · Persistent login"],
  ];
  for (const [path, title] of signedIn) {
    await page.goto(path);
    await expect(page, path).toHaveTitle(title);
  }
});
