// Keyword auto-replies and the channel greeting in a real browser: an admin creates a rule in
// the console (a bad pattern is refused next to its field), the visitor gets the greeting after
// its delay, then the rule's reply with the page's title filled in and its button, and the
// button sends its label.
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

test('an auto-reply answers a visitor with variables and a button; the greeting appears', async ({ browser }) => {
  // A channel with a greeting two seconds after the chat opens.
  const setup = await browser.newContext();
  const login = await setup.request.post(parley.url + '/api/v1/auth/login', { data: ADMIN });
  const { csrf_token } = await login.json();
  const headers = { 'x-csrf-token': csrf_token };
  const channel = await (
    await setup.request.post(parley.url + '/api/v1/channels', {
      data: { name: 'Acme 商城', welcome_text: '欢迎光临{channel.name}', greeting_text: '{visitor.name|朋友}，在看「{page.title}」吗？有问题随时问我。', greeting_delay_secs: 2 },
      headers,
    })
  ).json();
  expect(channel.greeting_delay_secs).toBe(2);
  await setup.close();
  const site = await startSite(
    () => `<!doctype html><html><head><meta charset="utf-8"><title>Acme 价格页</title></head><body><h1>Acme</h1>${channel.snippet}</body></html>`,
  );

  // The admin adds a rule in the settings.
  const adminContext = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1400, height: 900 } });
  const admin = await adminContext.newPage();
  await admin.goto(parley.url + '/app/');
  await admin.getByTestId('login-email').fill(ADMIN.email);
  await admin.getByTestId('login-password').fill(ADMIN.password);
  await admin.getByTestId('login-submit').click();
  await expect(admin.getByTestId('conv-list')).toBeVisible();
  await admin.goto(parley.url + '/app/settings');
  await admin.getByTestId('settings-nav-auto-replies').click();
  await expect(admin.getByRole('heading', { name: '自动回复' })).toBeVisible();

  // A pattern that does not compile is refused, next to the field.
  await admin.getByTestId('ar-new').click();
  await admin.getByTestId('ar-name').fill('订单查询');
  await admin.getByTestId('ar-mode-regex').check();
  await admin.getByTestId('ar-patterns').fill('订单(\\d+');
  await admin.getByTestId('ar-reply').fill('正在查询');
  await admin.getByTestId('ar-save').click();
  await expect(admin.getByTestId('ar-error-keywords')).toContainText('订单(\\d+');
  if (shots) await admin.screenshot({ path: `${shots}/auto-replies-error.png` });
  await expect(admin.getByTestId('ar-row')).toHaveCount(0);

  // Fixed, it is saved; then the refund rule.
  await admin.getByTestId('ar-patterns').fill('订单\\s*\\d{6}');
  await admin.getByTestId('ar-save').click();
  await expect(admin.getByTestId('ar-row')).toHaveCount(1);
  await admin.getByTestId('ar-new').click();
  await admin.getByTestId('ar-name').fill('退款');
  await admin.getByTestId('ar-keywords').fill('退款');
  await admin.getByTestId('ar-keywords').press('Enter');
  await admin.getByTestId('ar-keywords').fill('退钱');
  await admin.getByTestId('ar-keywords').press('Enter');
  await admin.getByTestId('ar-reply').fill('{visitor.name|您好}，退款会在3个工作日内原路退回。您正在看：{page.title}');
  await admin.getByTestId('ar-buttons').fill('转人工');
  await admin.getByTestId('ar-buttons').press('Enter');
  await admin.getByTestId('ar-save').click();
  await expect(admin.getByTestId('ar-row')).toHaveCount(2);
  // Moved to the top.
  await admin.getByTestId('ar-row').nth(1).getByTestId('ar-up').click();
  await expect(admin.getByTestId('ar-row').first()).toHaveAttribute('data-name', '退款');
  await expect(admin.getByTestId('ar-row').first().getByTestId('ar-hits')).toHaveText('触发 0 次');

  // The visitor opens the chat: the greeting comes after its delay, with the page's title.
  const visitorContext = await browser.newContext({ locale: 'zh-CN' });
  const visitor = await visitorContext.newPage();
  await visitor.goto(site.url + '/');
  await visitor.getByTestId('parley-launcher').click();
  await expect(visitor.getByTestId('parley-welcome')).toHaveText('欢迎光临Acme 商城');
  const greeting = visitor.getByTestId('parley-greeting');
  await expect(greeting).toHaveCount(0);
  await expect(greeting.getByTestId('parley-greeting-body')).toHaveText('朋友，在看「Acme 价格页」吗？有问题随时问我。', { timeout: 6000 });

  // A matching message gets the reply at once, with its button.
  await visitor.getByTestId('parley-input').fill('我想申请退款？');
  await visitor.getByTestId('parley-send').click();
  const reply = visitor.getByTestId('parley-message').filter({ hasText: '原路退回' });
  await expect(reply.getByTestId('parley-message-body')).toHaveText('您好，退款会在3个工作日内原路退回。您正在看：Acme 价格页');
  const button = reply.getByTestId('parley-button');
  await expect(button).toHaveText('转人工');
  if (shots) await visitor.screenshot({ path: `${shots}/auto-reply-widget.png` });

  // The button sends its label as the visitor's message.
  await button.click();
  const sent = visitor.getByTestId('parley-message').filter({ hasText: '转人工' }).filter({ hasNot: visitor.getByTestId('parley-button') });
  await expect(sent).toHaveCount(1);
  await expect(sent).not.toHaveAttribute('data-pending', 'true');

  // The rule's count went up.
  await admin.reload();
  await expect(admin.getByTestId('ar-row').first().getByTestId('ar-hits')).toHaveText('触发 1 次');
  if (shots) await admin.screenshot({ path: `${shots}/auto-replies-settings.png` });
});
