// Guided flows in a real browser: the admin builds a two-step flow in the console; a visitor
// types its trigger phrase in the widget, clicks through the buttons and gets the link.
import { expect, test } from '@playwright/test';
import { ADMIN, Parley, startParley, startSite } from './server';

let parley: Parley;

test.beforeEach(async () => {
  parley = await startParley();
});

test.afterEach(async () => {
  await parley.stop();
});

test('an admin builds a guided flow; a visitor walks it to the reset link', async ({ browser }, testInfo) => {
  const api = (await browser.newContext()).request;
  const login = await api.post(parley.url + '/api/v1/auth/login', { data: ADMIN });
  const headers = { 'x-csrf-token': (await login.json()).csrf_token };
  const channel = await (await api.post(parley.url + '/api/v1/channels', { headers, data: { name: 'Shop' } })).json();
  const site = await startSite(() => `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head><body><h1>Shop</h1>${channel.snippet}</body></html>`);

  const admin = await (await browser.newContext({ locale: 'zh-CN', viewport: { width: 1440, height: 1000 } })).newPage();
  await admin.goto(parley.url + '/app/settings/flows');
  await admin.getByTestId('login-email').fill(ADMIN.email);
  await admin.getByTestId('login-password').fill(ADMIN.password);
  await admin.getByTestId('login-submit').click();
  await admin.getByTestId('flow-add').click();
  const flow = admin.getByTestId('flow');
  await flow.getByTestId('flow-name').fill('账户问题');
  await flow.getByTestId('flow-triggers').fill('账号，账户问题');
  await flow.getByTestId('flow-step-text').first().fill('请问是哪类账户问题？');
  await flow.getByTestId('flow-step-add').click();
  const second = flow.getByTestId('flow-step').nth(1);
  await second.getByTestId('flow-step-id').fill('reset');
  await second.getByTestId('flow-step-text').fill('点击下方链接重置密码。');
  await second.getByTestId('flow-option-add').click();
  await second.getByTestId('flow-option-label').fill('重置密码');
  await second.getByTestId('flow-option-action').selectOption('link');
  await second.getByTestId('flow-option-url').fill('https://shop.test/reset');
  const first = flow.getByTestId('flow-step').first();
  await first.getByTestId('flow-option-add').click();
  await first.getByTestId('flow-option-label').fill('忘记密码');
  await first.getByTestId('flow-option-action').selectOption('step');
  await first.getByTestId('flow-option-step').selectOption('reset');
  // A bad link is refused with the place named, and nothing is saved.
  await second.getByTestId('flow-option-url').fill('javascript:alert(1)');
  await admin.getByTestId('flows-save').click();
  await expect(admin.getByTestId('flows-error')).toContainText('flows[1].steps[2].options[1]');
  await second.getByTestId('flow-option-url').fill('https://shop.test/reset');
  await admin.getByTestId('flows-save').click();
  await expect(admin.getByText('引导已保存')).toBeVisible();
  await admin.screenshot({ path: testInfo.outputPath('console-flows.png'), fullPage: true });

  const visitor = await (await browser.newContext({ locale: 'zh-CN', viewport: { width: 1000, height: 800 } })).newPage();
  await visitor.goto(site.url + '/');
  await visitor.getByTestId('parley-launcher').click();
  await visitor.getByTestId('parley-input').fill('我的账号登不上');
  await visitor.getByTestId('parley-send').click();
  const auto = visitor.locator('[data-testid="parley-message"][data-sender-kind="bot"]');
  await expect(auto.first()).toContainText('请问是哪类账户问题？');
  await auto.first().getByRole('button', { name: '忘记密码' }).click();
  await expect(auto.nth(1)).toContainText('点击下方链接重置密码。');
  await expect(auto.nth(1).getByRole('link', { name: '重置密码' })).toHaveAttribute('href', 'https://shop.test/reset');
  await visitor.screenshot({ path: testInfo.outputPath('widget-flow.png') });
  site.server.close();
});
