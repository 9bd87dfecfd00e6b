// Routing in a real browser: two agents with room for one chat each, three visitors. Two are
// assigned at once, the third waits at position 1 and is assigned as soon as an agent resolves
// a chat. Then a transfer with a note.
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
  const agents: { id: string; email: string; name: string }[] = [];
  for (const name of ['Ana', 'Bo']) {
    const email = `${name.toLowerCase()}@example.com`;
    const r = await api.post(parley.url + '/api/v1/users', { headers, data: { email, name, role: 'agent', password: PASSWORD } });
    const u = await r.json();
    await api.patch(`${parley.url}/api/v1/users/${u.id}`, { headers, data: { capacity: 1 } });
    agents.push({ id: u.id, email, name });
  }
  const group = await (await api.post(parley.url + '/api/v1/groups', { headers, data: { name: '售前', policy: ['least_load'] } })).json();
  await api.put(`${parley.url}/api/v1/groups/${group.id}/members`, { headers, data: { members: agents.map((a) => ({ user_id: a.id })) } });
  const channel = await (await api.post(parley.url + '/api/v1/channels', { headers, data: { name: 'Shop', group_id: group.id } })).json();
  const site = await startSite(() => `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head><body><h1>Shop</h1>${channel.snippet}</body></html>`);
  return { agents, site };
}

async function signIn(browser: Browser, email: string): Promise<Page> {
  const page = await (await browser.newContext({ locale: 'en-US' })).newPage();
  await page.goto(parley.url + '/app/');
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await expect(page.getByTestId('conv-list')).toBeVisible();
  return page;
}

async function visit(browser: Browser, url: string, text: string): Promise<Page> {
  const page = await (await browser.newContext({ locale: 'zh-CN' })).newPage();
  await page.goto(url);
  await page.getByTestId('parley-launcher').click();
  await page.getByTestId('parley-input').fill(text);
  await page.getByTestId('parley-send').click();
  await expect(page.getByTestId('parley-message').filter({ hasText: text })).toHaveAttribute('data-seq', '1');
  return page;
}

test('two agents with one seat each, three visitors: the third waits and is served next; transfer with a note', async ({ browser }) => {
  const { agents, site } = await setUp(browser);
  const ana = await signIn(browser, agents[0].email);
  const bo = await signIn(browser, agents[1].email);

  const v1 = await visit(browser, site.url + '/', '第一位访客');
  const v2 = await visit(browser, site.url + '/', '第二位访客');
  // Both first visitors get an agent straight away.
  await expect(v1.getByTestId('parley-event')).toHaveCount(1);
  await expect(v2.getByTestId('parley-event')).toHaveCount(1);
  const v3 = await visit(browser, site.url + '/', '第三位访客');
  const queue = v3.getByTestId('parley-queue');
  await expect(queue).toBeVisible();
  await expect(queue).toHaveAttribute('data-position', '1');
  await expect(queue).toContainText('下一位就是您');

  // Each agent sees exactly their own conversation under "mine".
  for (const page of [ana, bo]) {
    await page.getByTestId('view-tab-mine').click();
    await expect(page.getByTestId('conv-item')).toHaveCount(1);
  }
  // The queued conversation is visible to the team.
  await ana.getByTestId('view-tab-queued').click();
  await expect(ana.getByTestId('conv-item').filter({ hasText: '第三位访客' })).toBeVisible();

  // Ana resolves her chat: the waiting visitor is assigned to her at once.
  await ana.getByTestId('view-tab-mine').click();
  await ana.getByTestId('conv-item').first().click();
  await ana.getByTestId('resolve-btn').click();
  await expect(queue).toBeHidden();
  await expect(v3.getByTestId('parley-event').last()).toContainText('Ana');
  await expect(ana.getByTestId('conv-item').filter({ hasText: '第三位访客' })).toBeVisible();

  // Ana transfers it to Bo with a note. Bo sees the note and the whole history; the visitor
  // sees Bo join, never the note.
  await ana.getByTestId('conv-item').filter({ hasText: '第三位访客' }).click();
  await expect(ana.getByTestId('message').filter({ hasText: '第三位访客' })).toBeVisible();
  await ana.getByTestId('transfer-btn').click();
  await ana.getByTestId('transfer-agent').selectOption(agents[1].id);
  await ana.getByTestId('transfer-note').fill('客户要开增值税发票');
  await ana.getByTestId('transfer-submit').click();
  await expect(v3.getByTestId('parley-event').last()).toContainText('Bo');
  await bo.getByTestId('view-tab-mine').click();
  await bo.getByTestId('conv-item').filter({ hasText: '第三位访客' }).click();
  await expect(bo.getByTestId('message').filter({ hasText: '第三位访客' })).toBeVisible();
  const handover = bo.locator('[data-kind="assignment"]').filter({ hasText: '客户要开增值税发票' });
  await expect(handover).toBeVisible();
  // The routing explanation is worded in the agent's language, not the server's.
  await expect(handover).toContainText(/Ana 转接|transferred by Ana/);
  await expect(v3.getByTestId('parley-panel')).not.toContainText('增值税发票');

  site.server.close();
});
