// Bot training in a real browser: a question the bot could not answer shows up for the admin,
// who starts a new knowledge-base article from it in one click.
import { expect, test } from '@playwright/test';
import { ADMIN, Parley, startParley, startSite } from './server';

let parley: Parley;

test.beforeEach(async () => {
  parley = await startParley();
});

test.afterEach(async () => {
  await parley.stop();
});

test('an unanswered question becomes a new article draft in one click', async ({ browser }) => {
  const api = (await browser.newContext()).request;
  const login = await api.post(parley.url + '/api/v1/auth/login', { data: ADMIN });
  const headers = { 'x-csrf-token': (await login.json()).csrf_token };
  const channel = await (await api.post(parley.url + '/api/v1/channels', { headers, data: { name: 'Shop' } })).json();
  await api.patch(`${parley.url}/api/v1/channels/${channel.id}`, { headers, data: { bot: { enabled: true } } });
  const site = await startSite(() => `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head><body>${channel.snippet}</body></html>`);

  const visitor = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
  await visitor.goto(site.url + '/');
  await visitor.getByTestId('parley-launcher').click();
  await visitor.getByTestId('parley-input').fill('火星仓库今天营业吗');
  await visitor.getByTestId('parley-send').click();
  await expect(visitor.locator('[data-testid="parley-message"][data-sender-kind="bot"]').first()).toContainText('没有找到答案');

  const admin = await (await browser.newContext({ locale: 'zh-CN', viewport: { width: 1440, height: 900 } })).newPage();
  await admin.goto(parley.url + '/app/settings/unanswered');
  await admin.getByTestId('login-email').fill(ADMIN.email);
  await admin.getByTestId('login-password').fill(ADMIN.password);
  await admin.getByTestId('login-submit').click();
  const row = admin.getByTestId('unanswered-row').filter({ hasText: '火星仓库今天营业吗' });
  await expect(row).toBeVisible();
  await row.getByTestId('unanswered-write').click();
  await expect(admin.getByTestId('kb-title')).toHaveValue('火星仓库今天营业吗');
  site.server.close();
});
