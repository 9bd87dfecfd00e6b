// Business hours in a real browser: the admin makes today a holiday on the settings page; a
// visitor opening the widget sees the off-hours notice and the leave-a-message form, leaves a
// message with a phone number, and an agent finds it in the inbox tagged 留言 with the phone
// number in the visitor panel.
import { expect, test } from '@playwright/test';
import { ADMIN, Parley, startParley, startSite } from './server';

let parley: Parley;

test.beforeEach(async () => {
  parley = await startParley();
});

test.afterEach(async () => {
  await parley.stop();
});

const PASSWORD = 'agent long password';
const SHOTS = process.env.SCREENSHOT_DIR;

/** Today's date in UTC, the zone the test configures. */
function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

test('a holiday today: the visitor leaves a message, the agent finds it tagged 留言', async ({ browser }) => {
  const api = (await browser.newContext()).request;
  const login = await api.post(parley.url + '/api/v1/auth/login', { data: ADMIN });
  const headers = { 'x-csrf-token': (await login.json()).csrf_token };
  await api.post(parley.url + '/api/v1/users', { headers, data: { email: 'ana@example.com', name: 'Ana', role: 'agent', password: PASSWORD } });
  const channel = await (await api.post(parley.url + '/api/v1/channels', { headers, data: { name: 'Shop' } })).json();
  const site = await startSite(() => `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head><body><h1>Shop</h1>${channel.snippet}</body></html>`);

  // The admin sets business hours in UTC with today as a holiday.
  const admin = await (await browser.newContext({ locale: 'zh-CN', timezoneId: 'UTC', viewport: { width: 1280, height: 1000 } })).newPage();
  await admin.goto(parley.url + '/app/');
  await admin.getByTestId('login-email').fill(ADMIN.email);
  await admin.getByTestId('login-password').fill(ADMIN.password);
  await admin.getByTestId('login-submit').click();
  await expect(admin.getByTestId('conv-list')).toBeVisible();
  await admin.goto(parley.url + '/app/settings/hours');
  await expect(admin.getByTestId('hours-form')).toBeVisible();
  await admin.getByTestId('hours-on').check();
  await admin.getByTestId('hours-zone').selectOption('UTC');
  await admin.getByTestId('hours-special-add').click();
  await admin.getByTestId('hours-special-date').fill(todayUtc());
  await admin.getByTestId('hours-special-note').fill('公司活动日');
  await admin.getByTestId('hours-save').click();
  await expect(admin.getByRole('status')).toContainText('营业时间已保存');
  await expect(admin.getByTestId('hours-status')).toContainText('休息中');
  if (SHOTS) await admin.screenshot({ path: `${SHOTS}/business-hours-settings.png`, fullPage: true });

  // A visitor sees the notice and the form before writing anything.
  const visitor = await (await browser.newContext({ locale: 'zh-CN', viewport: { width: 900, height: 860 } })).newPage();
  await visitor.goto(site.url + '/');
  await visitor.getByTestId('parley-launcher').click();
  await expect(visitor.getByTestId('parley-off-hours')).toContainText('当前非工作时间，我们将于');
  const form = visitor.getByTestId('parley-leave');
  await expect(form).toBeVisible();
  // The form checks the contact before sending.
  await visitor.getByTestId('parley-leave-name').fill('王小明');
  await visitor.getByTestId('parley-leave-contact').fill('call me');
  await visitor.getByTestId('parley-leave-message').fill('想咨询企业版报价，明天请给我回电话');
  await visitor.getByTestId('parley-leave-submit').click();
  await expect(visitor.getByTestId('parley-leave-error')).toContainText('手机号格式不正确');
  await visitor.getByTestId('parley-leave-contact').fill('+86 138 0013 8000');
  if (SHOTS) await visitor.screenshot({ path: `${SHOTS}/widget-leave-form.png` });
  await visitor.getByTestId('parley-leave-submit').click();
  await expect(visitor.getByTestId('parley-leave-done')).toContainText('留言已提交');
  await expect(visitor.getByTestId('parley-message').filter({ hasText: '想咨询企业版报价' })).toBeVisible();
  if (SHOTS) await visitor.screenshot({ path: `${SHOTS}/widget-leave-done.png` });

  // The agent finds it in the inbox, tagged, with the phone number.
  const agent = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
  await agent.goto(parley.url + '/app/');
  await agent.getByTestId('login-email').fill('ana@example.com');
  await agent.getByTestId('login-password').fill(PASSWORD);
  await agent.getByTestId('login-submit').click();
  await agent.getByTestId('view-tab-unassigned').click();
  const item = agent.getByTestId('conv-item').filter({ hasText: '想咨询企业版报价' });
  await expect(item).toBeVisible();
  await expect(item.getByTestId('conv-tag')).toHaveText('留言');
  await item.click();
  await expect(agent.getByTestId('message').filter({ hasText: '想咨询企业版报价，明天请给我回电话' })).toBeVisible();
  await expect(agent.getByTestId('visitor-phone')).toHaveText('+86 138 0013 8000');
  await expect(agent.locator('[data-testid="tag"][data-tag="留言"]')).toBeVisible();

  site.server.close();
});
