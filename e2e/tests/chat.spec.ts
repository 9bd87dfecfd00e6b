// A newcomer's first conversation, in a real browser: the admin creates a website channel in the
// console, the snippet goes into a plain page on another origin, a visitor and an agent chat both
// ways, and the visitor finds the history after a reload.
import { expect, test, Page } from '@playwright/test';
import { ADMIN, Parley, startParley, startSite } from './server';

let parley: Parley;

test.beforeEach(async () => {
  parley = await startParley();
});

test.afterEach(async () => {
  await parley.stop();
});

async function signIn(page: Page) {
  await page.goto(parley.url + '/app/');
  await page.getByTestId('login-email').fill(ADMIN.email);
  await page.getByTestId('login-password').fill(ADMIN.password);
  await page.getByTestId('login-submit').click();
  await expect(page.getByTestId('conv-list')).toBeVisible();
}

async function createChannel(page: Page, name: string, welcome: string): Promise<string> {
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('channel-new').click();
  await page.getByTestId('channel-name').fill(name);
  await page.getByTestId('channel-welcome').fill(welcome);
  await page.getByTestId('channel-save').click();
  const snippet = page.getByTestId('channel-snippet');
  await expect(snippet).toHaveValue(/data-parley-key/);
  const text = (await snippet.evaluate((el) => (el as HTMLInputElement).value || el.textContent || '')).trim();
  expect(text).toMatch(/^<script async src="http:\/\/localhost:\d+\/widget\/loader\.js" data-parley-key="wk_[0-9a-f]+"><\/script>$/);
  return text;
}

/** A customer page with hostile CSS, to show the widget is isolated from it. */
function hostPage(snippet: string) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Acme 商城</title>
<style>* { font: 31px serif !important; color: red !important; } div { border: 5px solid lime !important; }</style>
</head><body><h1>Acme</h1><p>Welcome to our shop.</p>${snippet}</body></html>`;
}

test('visitor and agent chat in real time, and the visitor sees the history after a reload', async ({ browser }) => {
  const agentContext = await browser.newContext({ locale: 'en-US' });
  const agent = await agentContext.newPage();
  await signIn(agent);
  const snippet = await createChannel(agent, 'Acme shop', '欢迎光临 Acme！');
  const site = await startSite(() => hostPage(snippet));

  // The agent goes back to the inbox and stays there.
  await agent.goto(parley.url + '/app/');
  await expect(agent.getByTestId('conv-list')).toBeVisible();

  const visitorContext = await browser.newContext({ locale: 'zh-CN' });
  const visitor = await visitorContext.newPage();
  await visitor.goto(site.url + '/');
  await visitor.getByTestId('parley-launcher').click();
  await expect(visitor.getByTestId('parley-panel')).toBeVisible();
  await expect(visitor.getByTestId('parley-welcome')).toContainText('欢迎光临 Acme！');
  // The host page's CSS does not reach into the widget.
  const fontSize = await visitor.getByTestId('parley-input').evaluate((el) => getComputedStyle(el).fontSize);
  expect(fontSize).not.toBe('31px');

  await visitor.getByTestId('parley-input').fill('你好，我的订单什么时候发货？');
  await visitor.getByTestId('parley-send').click();
  const sent = visitor.getByTestId('parley-message').filter({ hasText: '什么时候发货' });
  await expect(sent).toHaveAttribute('data-seq', '1');
  await expect(sent).not.toHaveAttribute('data-pending', 'true');

  // The conversation appears live in the agent's list; the agent opens it.
  await agent.getByTestId('view-tab-all').click();
  const item = agent.getByTestId('conv-item').filter({ hasText: '什么时候发货' });
  await expect(item).toBeVisible();
  await item.click();
  await expect(agent.getByTestId('message').filter({ hasText: '什么时候发货' })).toHaveAttribute('data-sender-kind', 'visitor');
  await expect(agent.getByTestId('visitor-current-url')).toContainText(site.url);
  await expect(agent.getByTestId('visitor-browser')).toContainText('Chrom');

  // Typing is shown to the agent, with the visitor's draft.
  await visitor.getByTestId('parley-input').pressSequentially('还有一个问题');
  await expect(agent.getByTestId('typing-indicator')).toBeVisible();
  await visitor.getByTestId('parley-input').fill('');

  // The agent replies; the visitor sees it with the agent's name.
  await agent.getByTestId('composer-input').fill('您好！今天下午发货。<b>not bold</b>');
  await agent.getByTestId('composer-send').click();
  const reply = visitor.getByTestId('parley-message').filter({ hasText: '今天下午发货' });
  await expect(reply).toHaveAttribute('data-sender-kind', 'agent');
  await expect(reply.getByTestId('parley-message-body')).toHaveText('您好！今天下午发货。<b>not bold</b>');
  await expect(visitor.getByTestId('parley-agent-name')).toContainText('Admin');

  // With the panel closed, a new reply raises the unread badge.
  await visitor.getByTestId('parley-launcher').click();
  await expect(visitor.getByTestId('parley-panel')).toBeHidden();
  await agent.getByTestId('composer-input').fill('还有什么可以帮您？');
  await agent.getByTestId('composer-input').press('Enter');
  await expect(visitor.getByTestId('parley-unread')).toHaveText('1');

  // The visitor reloads: same identity, full history.
  await visitor.reload();
  await visitor.getByTestId('parley-launcher').click();
  const messages = visitor.getByTestId('parley-message');
  await expect(messages).toHaveCount(3);
  await expect(messages.nth(0)).toContainText('什么时候发货');
  await expect(messages.nth(1)).toContainText('今天下午发货');
  await expect(messages.nth(2)).toContainText('还有什么可以帮您');

  // And can keep talking in the same conversation.
  await visitor.getByTestId('parley-input').fill('谢谢！');
  await visitor.getByTestId('parley-input').press('Enter');
  await expect(agent.getByTestId('message').filter({ hasText: '谢谢！' })).toBeVisible();
  await expect(agent.getByTestId('conv-item')).toHaveCount(1);

  // The agent resolves the conversation.
  await agent.getByTestId('resolve-btn').click();
  await expect(agent.getByTestId('reopen-btn')).toBeVisible();

  await visitorContext.close();
  await agentContext.close();
  site.server.close();
});

test('with nobody online the visitor is told so, and the message waits in the inbox', async ({ browser }) => {
  // Create the channel through the API, then sign out: no agent is online.
  const api = await browser.newContext();
  const login = await api.request.post(parley.url + '/api/v1/auth/login', { data: ADMIN });
  const { csrf_token } = await login.json();
  const created = await api.request.post(parley.url + '/api/v1/channels', {
    data: { name: 'After hours' },
    headers: { 'x-csrf-token': csrf_token },
  });
  const channel = await created.json();
  await api.close();
  const site = await startSite(() => hostPage(channel.snippet));

  const visitorContext = await browser.newContext({ locale: 'en-US' });
  const visitor = await visitorContext.newPage();
  await visitor.goto(site.url + '/');
  await visitor.getByTestId('parley-launcher').click();
  await expect(visitor.getByTestId('parley-offline-notice')).toBeVisible();
  await visitor.getByTestId('parley-input').fill('Please call me back tomorrow');
  await visitor.getByTestId('parley-send').click();
  await expect(visitor.getByTestId('parley-message').filter({ hasText: 'call me back' })).toHaveAttribute('data-seq', '1');

  // An agent signs in later and finds it among the unassigned conversations.
  const agentContext = await browser.newContext({ locale: 'zh-CN' });
  const agent = await agentContext.newPage();
  await signIn(agent);
  await agent.getByTestId('view-tab-unassigned').click();
  await expect(agent.getByTestId('conv-item').filter({ hasText: 'call me back' })).toBeVisible();
  // Once the agent is online, the visitor's notice goes away.
  await expect(visitor.getByTestId('parley-offline-notice')).toBeHidden();

  await visitorContext.close();
  await agentContext.close();
  site.server.close();
});
