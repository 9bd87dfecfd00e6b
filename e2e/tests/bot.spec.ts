// The FAQ bot in a real browser: the admin switches the bot on in the console; a visitor asks a
// knowledge-base question in the widget and gets the article with related questions and a link;
// clicking a related question asks it; "转人工" hands the chat to the group's agent, who sees the
// whole bot transcript in the workspace.
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

test('the bot answers from the knowledge base, then hands over to an agent with the transcript', async ({ browser }, testInfo) => {
  const api = (await browser.newContext()).request;
  const login = await api.post(parley.url + '/api/v1/auth/login', { data: ADMIN });
  const headers = { 'x-csrf-token': (await login.json()).csrf_token };
  const articles: [string, string, string[]][] = [
    ['退货流程', '收到商品 **7 天内** 可在「我的订单」申请退货。\n\n- 保持包装完好\n- 寄回后 3 天内退款', ['退货', '怎么退', '退款']],
    ['退款多久到账', '退货签收后 1-3 个工作日原路退回。', ['退款到账', '多久到账', '退款时间']],
    ['发货时间', '付款后 48 小时内发货。', ['发货', '几天发货']],
  ];
  for (const [title, body, keywords] of articles) {
    const a = await (await api.post(parley.url + '/api/v1/kb/articles', { headers, data: { title, body_markdown: body, keywords, locale: 'zh-CN' } })).json();
    expect((await api.post(`${parley.url}/api/v1/kb/articles/${a.id}/publish`, { headers, data: {} })).ok()).toBeTruthy();
  }
  const u = await (await api.post(parley.url + '/api/v1/users', { headers, data: { email: 'bo@example.com', name: 'Bo', role: 'agent', password: PASSWORD } })).json();
  const g = await (await api.post(parley.url + '/api/v1/groups', { headers, data: { name: '售后', policy: ['least_load'] } })).json();
  await api.put(`${parley.url}/api/v1/groups/${g.id}/members`, { headers, data: { members: [{ user_id: u.id }] } });
  const channel = await (await api.post(parley.url + '/api/v1/channels', { headers, data: { name: 'Shop', welcome_text: '您好！' } })).json();
  await api.patch(`${parley.url}/api/v1/channels/${channel.id}`, { headers, data: { group_id: g.id } });
  const site = await startSite(() => `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head><body><h1>Shop</h1>${channel.snippet}</body></html>`);

  // The admin switches the bot on in the channel editor.
  const admin = await (await browser.newContext({ locale: 'zh-CN', viewport: { width: 1440, height: 900 } })).newPage();
  await admin.goto(parley.url + '/app/');
  await admin.getByTestId('login-email').fill(ADMIN.email);
  await admin.getByTestId('login-password').fill(ADMIN.password);
  await admin.getByTestId('login-submit').click();
  await admin.getByTestId('nav-settings').click();
  await admin.getByTestId('channel-item').first().click();
  await admin.getByTestId('channel-bot-enabled').check();
  await admin.getByTestId('channel-bot-name').fill('小智');
  await admin.getByTestId('channel-save').click();
  await expect(admin.getByText('修改已保存')).toBeVisible();
  await admin.getByTestId('channel-bot').screenshot({ path: testInfo.outputPath('console-bot-settings.png') });
  // Bot training: the admin adds the shop's own words as synonyms.
  await admin.getByTestId('settings-nav-unanswered').click();
  await admin.getByTestId('synonyms-text').fill('退货，退掉\n发货，寄出');
  await admin.getByTestId('synonyms-save').click();
  await expect(admin.getByText('已保存 2 组同义词')).toBeVisible();
  await admin.getByTestId('synonyms').screenshot({ path: testInfo.outputPath('console-synonyms.png') });

  // The agent is online.
  const bo = await (await browser.newContext({ locale: 'zh-CN', viewport: { width: 1440, height: 900 } })).newPage();
  await bo.goto(parley.url + '/app/');
  await bo.getByTestId('login-email').fill('bo@example.com');
  await bo.getByTestId('login-password').fill(PASSWORD);
  await bo.getByTestId('login-submit').click();
  await expect(bo.getByTestId('conv-list')).toBeVisible();

  // The visitor asks; the bot answers with the article, related questions and a link.
  const visitor = await (await browser.newContext({ locale: 'zh-CN', viewport: { width: 1000, height: 800 } })).newPage();
  await visitor.goto(site.url + '/');
  await visitor.getByTestId('parley-launcher').click();
  await visitor.getByTestId('parley-input').pressSequentially('我想退货退款，怎么操作？', { delay: 20 });
  // While typing, help articles are suggested (links to the help centre).
  const suggestion = visitor.getByTestId('parley-suggestion').first();
  await expect(suggestion).toContainText('退货流程');
  await expect(suggestion).toHaveAttribute('href', new RegExp(`/help/${channel.widget_key}/articles/`));
  await visitor.screenshot({ path: testInfo.outputPath('widget-suggestions.png') });
  await visitor.getByTestId('parley-send').click();
  await expect(visitor.getByTestId('parley-suggest')).toBeHidden();
  const botMsgs = visitor.locator('[data-testid="parley-message"][data-sender-kind="bot"]');
  await expect(botMsgs.first()).toContainText('退货流程');
  await expect(botMsgs.first()).toContainText('7 天内');
  await expect(botMsgs.first()).not.toContainText('**');
  await expect(botMsgs.first()).toContainText('小智');
  const link = botMsgs.first().locator('a[data-testid="parley-button"]');
  await expect(link).toHaveText('查看全文');
  await expect(link).toHaveAttribute('href', new RegExp(`/help/${channel.widget_key}/articles/`));
  const related = botMsgs.first().locator('button[data-testid="parley-button"]');
  await expect(related.filter({ hasText: '退款多久到账' })).toBeVisible();
  await visitor.screenshot({ path: testInfo.outputPath('widget-bot-answer.png') });

  // A related question is one click: it is sent as the visitor's message and answered.
  await related.filter({ hasText: '退款多久到账' }).click();
  await expect(visitor.locator('[data-testid="parley-message"][data-sender-kind="visitor"]').filter({ hasText: '退款多久到账' })).toBeVisible();
  await expect(botMsgs.nth(1)).toContainText('原路退回');
  // Nobody is assigned while the bot answers.
  await bo.getByTestId('view-tab-mine').click();
  await expect(bo.getByTestId('conv-item')).toHaveCount(0);

  // 转人工: the bot hands over, Bo gets the chat and sees everything the bot said.
  await visitor.getByTestId('parley-input').fill('转人工');
  await visitor.getByTestId('parley-send').click();
  await expect(botMsgs.last()).toContainText('正在为您转接人工客服');
  await expect(visitor.getByTestId('parley-event').last()).toContainText('Bo');
  await visitor.screenshot({ path: testInfo.outputPath('widget-bot-handoff.png') });

  await bo.getByTestId('conv-item').first().click();
  const msgs = bo.getByTestId('message');
  await expect(msgs.filter({ hasText: '我想退货退款，怎么操作？' })).toBeVisible();
  const botInConsole = bo.locator('[data-testid="message"][data-sender-kind="bot"]');
  await expect(botInConsole).toHaveCount(3);
  await expect(botInConsole.first()).toContainText('小智（机器人）');
  await expect(botInConsole.first()).toContainText('退货流程');
  await expect(bo.getByTestId('message-buttons').first()).toContainText('退款多久到账');
  await expect(bo.locator('.system').filter({ hasText: '访客在机器人对话中要求转人工' }).first()).toBeVisible();
  await bo.screenshot({ path: testInfo.outputPath('console-bot-transcript.png') });

  // Bo replies; the visitor gets it from a person.
  await bo.getByTestId('composer-input').fill('您好，我是 Bo，来帮您处理退货。');
  await bo.getByTestId('composer-send').click();
  await expect(visitor.locator('[data-testid="parley-message"][data-sender-kind="agent"]').filter({ hasText: '我是 Bo' })).toBeVisible();

  site.server.close();
});
