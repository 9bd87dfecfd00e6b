// Visitor tags in a real browser: an agent tags a visitor VIP in the visitor panel, and an
// auto-reply rule limited to VIP visitors answers that visitor from then on.
import { expect, test } from '@playwright/test';
import { ADMIN, Parley, startParley, startSite } from './server';

let parley: Parley;

test.beforeEach(async () => {
  parley = await startParley();
});

test.afterEach(async () => {
  await parley.stop();
});

test('an agent tags a visitor VIP and the VIP-only auto-reply answers them', async ({ browser }, testInfo) => {
  const api = (await browser.newContext()).request;
  const login = await api.post(parley.url + '/api/v1/auth/login', { data: ADMIN });
  const headers = { 'x-csrf-token': (await login.json()).csrf_token };
  const channel = await (await api.post(parley.url + '/api/v1/channels', { headers, data: { name: 'Shop' } })).json();
  const rules = [
    { name: 'VIP 价格', mode: 'contains', keywords: ['价格'], reply: '尊敬的会员，您有专属折扣。', visitor_tags: ['VIP'] },
    { name: '价格', mode: 'contains', keywords: ['价格'], reply: '价格见商品页。' },
  ];
  expect((await api.put(parley.url + '/api/v1/auto_replies', { headers, data: { rules } })).ok()).toBeTruthy();
  const site = await startSite(() => `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head><body>${channel.snippet}</body></html>`);

  const visitor = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
  await visitor.goto(site.url + '/');
  await visitor.getByTestId('parley-launcher').click();
  await visitor.getByTestId('parley-input').fill('价格多少？');
  await visitor.getByTestId('parley-send').click();
  const auto = visitor.locator('[data-testid="parley-message"][data-sender-kind="bot"]');
  await expect(auto.first()).toContainText('价格见商品页。');

  // The admin (an agent too) opens the conversation and tags the visitor.
  const agent = await (await browser.newContext({ locale: 'zh-CN', viewport: { width: 1440, height: 900 } })).newPage();
  await agent.goto(parley.url + '/app/');
  await agent.getByTestId('login-email').fill(ADMIN.email);
  await agent.getByTestId('login-password').fill(ADMIN.password);
  await agent.getByTestId('login-submit').click();
  await agent.getByTestId('view-tab-unassigned').click();
  await agent.getByTestId('conv-item').first().click();
  await agent.getByTestId('visitor-tag-input').fill('VIP');
  await agent.getByTestId('visitor-tag-input').press('Enter');
  await expect(agent.getByTestId('visitor-tag')).toHaveText(['VIP']);
  await agent.getByTestId('visitor-tags').screenshot({ path: testInfo.outputPath('visitor-tags.png') });

  // From now on the VIP rule answers this visitor.
  await visitor.getByTestId('parley-input').fill('还有别的价格吗');
  await visitor.getByTestId('parley-send').click();
  await expect(auto.nth(1)).toContainText('尊敬的会员，您有专属折扣。');
  site.server.close();
});
