// Quick replies and suggestions in a real browser: the agent saves a quick reply in the
// settings, answers a visitor with `/` + part of its shortcut (variables filled in), and a
// knowledge-base article suggested for the visitor's question goes into the composer in one click.
import { expect, test } from '@playwright/test';
import { ADMIN, Parley, startParley, startSite } from './server';

let parley: Parley;

test.beforeEach(async () => {
  parley = await startParley();
});

test.afterEach(async () => {
  await parley.stop();
});

const shots = process.env.PARLEY_SHOTS_DIR;

test('an agent answers with a quick reply and inserts a suggested article', async ({ browser }) => {
  // Setup through the API: a channel and one published knowledge-base article.
  const setup = await browser.newContext();
  const login = await setup.request.post(parley.url + '/api/v1/auth/login', { data: ADMIN });
  const { csrf_token } = await login.json();
  const headers = { 'x-csrf-token': csrf_token };
  const channel = await (await setup.request.post(parley.url + '/api/v1/channels', { data: { name: 'Acme 商城' }, headers })).json();
  const article = await (
    await setup.request.post(parley.url + '/api/v1/kb/articles', {
      data: {
        title: '发货时间说明',
        body_markdown: '现货商品在付款后**48小时内**发货，预售商品以页面时间为准。',
        keywords: ['发货', '几天发货', '什么时候发货'],
        locale: 'zh-CN',
      },
      headers,
    })
  ).json();
  expect((await setup.request.post(`${parley.url}/api/v1/kb/articles/${article.id}/publish`, { data: {}, headers })).status()).toBe(200);
  await setup.close();
  const site = await startSite(
    () => `<!doctype html><html><head><meta charset="utf-8"><title>Acme</title></head><body><h1>Acme</h1>${channel.snippet}</body></html>`,
  );

  // The agent creates a quick reply in the settings.
  const agentContext = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1400, height: 900 } });
  const agent = await agentContext.newPage();
  await agent.goto(parley.url + '/app/');
  await agent.getByTestId('login-email').fill(ADMIN.email);
  await agent.getByTestId('login-password').fill(ADMIN.password);
  await agent.getByTestId('login-submit').click();
  await expect(agent.getByTestId('conv-list')).toBeVisible();
  await agent.goto(parley.url + '/app/settings/quick-replies');
  await agent.getByTestId('qr-scope-team').check();
  await agent.getByTestId('qr-shortcut').fill('shipping');
  await agent.getByTestId('qr-title').fill('发货时间');
  await agent.getByTestId('qr-category').fill('物流');
  await agent.getByTestId('qr-text').fill('您好{visitor.name}，我是{agent.name}。{channel.name}的现货付款后48小时内发货。');
  await agent.getByTestId('qr-save').click();
  await expect(agent.getByTestId('qr-list-team').getByTestId('qr-row')).toHaveCount(1);
  await expect(agent.getByTestId('qr-list-team')).toContainText('/shipping');
  if (shots) await agent.screenshot({ path: `${shots}/qr-settings.png` });

  // A visitor asks about shipping.
  const visitorContext = await browser.newContext({ locale: 'zh-CN' });
  const visitor = await visitorContext.newPage();
  await visitor.goto(site.url + '/');
  await visitor.getByTestId('parley-launcher').click();
  await visitor.getByTestId('parley-input').fill('请问下单后几天能发货？');
  await visitor.getByTestId('parley-send').click();
  await expect(visitor.getByTestId('parley-message').filter({ hasText: '几天能发货' })).not.toHaveAttribute('data-pending', 'true');

  // The agent opens the conversation.
  await agent.goto(parley.url + '/app/');
  await agent.getByTestId('view-tab-all').click();
  await agent.getByTestId('conv-item').filter({ hasText: '几天能发货' }).click();
  await expect(agent.getByTestId('message').filter({ hasText: '几天能发货' })).toBeVisible();

  // `/` + part of the shortcut opens the picker, filtered.
  const input = agent.getByTestId('composer-input');
  await input.click();
  await input.pressSequentially('/shi');
  const picker = agent.getByTestId('qr-picker');
  await expect(picker).toBeVisible();
  await expect(picker.getByTestId('qr-option')).toHaveCount(1);
  await expect(picker.getByTestId('qr-option').first()).toHaveAttribute('aria-selected', 'true');
  if (shots) await agent.screenshot({ path: `${shots}/qr-picker.png` });
  // Escape closes it; typing again reopens it; a non-matching query shows nothing to pick.
  await input.press('Escape');
  await expect(picker).toBeHidden();
  await input.pressSequentially('x');
  await expect(picker).toBeVisible();
  await expect(picker.getByTestId('qr-option')).toHaveCount(0);
  await input.press('Backspace');
  await expect(picker.getByTestId('qr-option')).toHaveCount(1);
  await input.press('Enter');
  await expect(picker).toBeHidden();
  const filled = '您好，我是Admin。Acme 商城的现货付款后48小时内发货。';
  await expect(input).toHaveValue(filled);

  // Sent, the visitor reads it.
  await input.press('Enter');
  const reply = visitor.getByTestId('parley-message').filter({ hasText: '48小时内发货' });
  await expect(reply).toHaveAttribute('data-sender-kind', 'agent');
  await expect(reply.getByTestId('parley-message-body')).toHaveText(filled);

  // Suggestions for the visitor's question: the article and the quick reply.
  const panel = agent.getByTestId('suggestions');
  await expect(panel).toBeVisible();
  await expect(panel.getByTestId('suggestion-article').first()).toContainText('发货时间说明');
  await expect(panel.getByTestId('suggestion-reply').first()).toHaveAttribute('data-shortcut', 'shipping');
  if (shots) await agent.screenshot({ path: `${shots}/suggestions.png` });
  await panel.getByTestId('suggestion-article').first().click();
  await expect(input).toHaveValue(new RegExp(`^发货时间说明\\n现货商品在付款后48小时内发货.*\\n${parley.url}/help/${channel.widget_key}/articles/${article.id}$`));

  // A new visitor message updates the suggestions live.
  await input.fill('');
  await visitor.getByTestId('parley-input').fill('你们的营业执照在哪里看');
  await visitor.getByTestId('parley-send').click();
  await expect(agent.getByTestId('message').filter({ hasText: '营业执照' })).toBeVisible();
  await expect(panel).toBeHidden();

  await visitorContext.close();
  await agentContext.close();
  site.server.close();
});
