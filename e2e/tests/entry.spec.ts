// Entry points (咨询入口) in a real browser: the admin lets visitors of a channel choose between
// two groups in the console; a visitor picks "订单与售后" in the real widget, writes, and the
// agent of that group gets the conversation.
import { expect, test, Browser, Page } from '@playwright/test';
import { ADMIN, Parley, startParley, startSite } from './server';

let parley: Parley;

test.beforeEach(async () => {
  parley = await startParley();
});

test.afterEach(async () => {
  await parley.stop();
});

const PASSWORD = 'agent long password';

async function setUp(browser: Browser) {
  const api = (await browser.newContext()).request;
  const login = await api.post(parley.url + '/api/v1/auth/login', { data: ADMIN });
  const headers = { 'x-csrf-token': (await login.json()).csrf_token };
  const groups: Record<string, { id: string; agent: { id: string; email: string; name: string } }> = {};
  for (const [group, name] of [
    ['售前', 'Ana'],
    ['售后', 'Bo'],
  ]) {
    const email = `${name.toLowerCase()}@example.com`;
    const u = await (await api.post(parley.url + '/api/v1/users', { headers, data: { email, name, role: 'agent', password: PASSWORD } })).json();
    const g = await (await api.post(parley.url + '/api/v1/groups', { headers, data: { name: group, policy: ['least_load'] } })).json();
    await api.put(`${parley.url}/api/v1/groups/${g.id}/members`, { headers, data: { members: [{ user_id: u.id }] } });
    groups[group] = { id: g.id, agent: { id: u.id, email, name } };
  }
  const channel = await (await api.post(parley.url + '/api/v1/channels', { headers, data: { name: 'Shop', welcome_text: '您好，欢迎光临！' } })).json();
  const site = await startSite(() => `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head><body><h1>Shop</h1>${channel.snippet}</body></html>`);
  return { groups, site };
}

async function signIn(browser: Browser, email: string, password: string): Promise<Page> {
  const page = await (await browser.newContext({ locale: 'en-US', viewport: { width: 1440, height: 900 } })).newPage();
  await page.goto(parley.url + '/app/');
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await expect(page.getByTestId('conv-list')).toBeVisible();
  return page;
}

test('the admin offers two groups; the visitor picks one in the widget and that group’s agent gets the chat', async ({ browser }, testInfo) => {
  const { groups, site } = await setUp(browser);
  const pre = groups['售前'];
  const after = groups['售后'];

  // The admin switches the channel to "let the visitor choose" with two options.
  const admin = await signIn(browser, ADMIN.email, ADMIN.password);
  await admin.getByTestId('nav-settings').click();
  await admin.getByTestId('channel-item').first().click();
  await expect(admin.getByTestId('channel-entry')).toHaveCount(0);
  await admin.getByTestId('channel-entry-mode-choose').check();
  // Saving with no option is refused in the form.
  await admin.getByTestId('channel-save').click();
  await expect(admin.getByTestId('channel-error')).toContainText('at least one group');
  await admin.getByTestId('channel-entry-add').selectOption({ label: '售前' });
  await admin.getByTestId('channel-entry-add').selectOption({ label: '售后' });
  const options = admin.getByTestId('channel-entry-option');
  await expect(options).toHaveCount(2);
  const afterRow = admin.locator(`[data-testid="channel-entry-option"][data-group-id="${after.id}"]`);
  await afterRow.getByTestId('channel-entry-label').fill('订单与售后');
  await afterRow.getByRole('button', { name: 'Move up' }).click();
  await expect(options.first()).toHaveAttribute('data-group-id', after.id);
  await expect(admin.getByTestId('channel-preview')).toContainText('订单与售后');
  await admin.screenshot({ path: testInfo.outputPath('console-entry.png'), fullPage: true });
  await admin.getByTestId('channel-save').click();
  await expect(admin.getByText('Changes saved')).toBeVisible();
  await expect(admin.getByTestId('channel-item-entry')).toContainText('订单与售后, 售前');

  // Both agents are online in the console.
  const ana = await signIn(browser, pre.agent.email, PASSWORD);
  const bo = await signIn(browser, after.agent.email, PASSWORD);

  // The visitor sees the welcome text and the two options, in order, before writing.
  const visitor = await (await browser.newContext({ locale: 'zh-CN', viewport: { width: 1000, height: 760 } })).newPage();
  await visitor.goto(site.url + '/');
  await visitor.getByTestId('parley-launcher').click();
  const entry = visitor.getByTestId('parley-entry');
  await expect(entry).toBeVisible();
  await expect(entry).toContainText('请选择咨询类型');
  const buttons = visitor.getByTestId('parley-entry-option');
  await expect(buttons).toHaveText(['订单与售后', '售前']);
  await expect(buttons.first()).toHaveAttribute('aria-pressed', 'false');
  await visitor.screenshot({ path: testInfo.outputPath('widget-entry-options.png') });

  // Keyboard: Tab reaches the buttons; Enter picks one and moves on to the input.
  await buttons.nth(1).focus();
  await visitor.keyboard.press('Shift+Tab');
  await expect(buttons.first()).toBeFocused();
  await visitor.keyboard.press('Enter');
  await expect(buttons.first()).toHaveAttribute('aria-pressed', 'true');
  await expect(visitor.getByTestId('parley-input')).toBeFocused();
  await visitor.screenshot({ path: testInfo.outputPath('widget-entry-picked.png') });
  await visitor.getByTestId('parley-input').fill('我的订单还没到');
  await visitor.getByTestId('parley-send').click();
  await expect(visitor.getByTestId('parley-message').filter({ hasText: '我的订单还没到' })).toHaveAttribute('data-seq', '1');
  await expect(entry).toBeHidden();
  // Bo of 售后 joins; Ana of 售前 does not get it.
  await expect(visitor.getByTestId('parley-event').last()).toContainText('Bo');
  await bo.getByTestId('view-tab-mine').click();
  await expect(bo.getByTestId('conv-item').filter({ hasText: '我的订单还没到' })).toBeVisible();
  await ana.getByTestId('view-tab-mine').click();
  await expect(ana.getByTestId('conv-item')).toHaveCount(0);

  // After a reload the chat goes on; the options are not offered again.
  await visitor.reload();
  await visitor.getByTestId('parley-launcher').click();
  await expect(visitor.getByTestId('parley-message').filter({ hasText: '我的订单还没到' })).toBeVisible();
  await expect(visitor.getByTestId('parley-entry')).toBeHidden();

  site.server.close();
});
