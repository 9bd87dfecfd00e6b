import { test, expect } from '@playwright/test';
import { ADMIN, startParley, startSite } from '../tests/server';

test('README screenshot', async ({ browser }) => {
  const parley = await startParley();
  try {
    const agentCtx = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1440, height: 860 } });
    const agent = await agentCtx.newPage();
    await agent.goto(parley.url + '/app/');
    await agent.getByTestId('login-email').fill(ADMIN.email);
    await agent.getByTestId('login-password').fill(ADMIN.password);
    await agent.getByTestId('login-submit').click();
    await agent.getByTestId('nav-settings').click();
    await agent.getByTestId('channel-new').click();
    await agent.getByTestId('channel-name').fill('Acme 商城');
    await agent.getByTestId('channel-welcome').fill('您好，欢迎光临 Acme 商城！有什么可以帮您？');
    await agent.getByTestId('channel-save').click();
    const snippet = await agent.getByTestId('channel-snippet').inputValue();
    await agent.screenshot({ path: '../docs/screenshot-channels.png' });
    const site = await startSite(() => `<!doctype html><html><head><meta charset="utf-8"><title>Acme 商城 - 新款耳机</title></head>
      <body style="font-family:sans-serif;margin:40px"><h1>Acme 商城</h1><p>新款降噪耳机，限时优惠。</p>${snippet}</body></html>`);
    await agent.goto(parley.url + '/app/');
    const questions = ['你好，请问这款耳机支持蓝牙5.3吗？', 'Hi, can I change the delivery address of my order?', '发票可以开公司抬头吗？'];
    const visitors = [];
    for (const q of questions) {
      const ctx = await browser.newContext({ locale: q.startsWith('Hi') ? 'en-US' : 'zh-CN', viewport: { width: 1200, height: 800 } });
      const v = await ctx.newPage();
      await v.goto(site.url + '/page-' + visitors.length);
      await v.getByTestId('parley-launcher').click();
      await v.getByTestId('parley-input').fill(q);
      await v.getByTestId('parley-send').click();
      await expect(v.getByTestId('parley-message')).toHaveCount(1);
      visitors.push(v);
    }
    await agent.getByTestId('view-tab-all').click();
    await agent.getByTestId('conv-item').filter({ hasText: '蓝牙' }).click();
    await agent.getByTestId('composer-input').fill('您好！支持蓝牙 5.3，续航约 30 小时。');
    await agent.getByTestId('composer-send').click();
    await visitors[0].getByTestId('parley-input').pressSequentially('那降噪效果怎么样');
    await expect(agent.getByTestId('typing-indicator')).toBeVisible();
    await agent.screenshot({ path: '../docs/screenshot.png' });
    await expect(visitors[0].getByTestId('parley-message')).toHaveCount(2);
    await visitors[0].screenshot({ path: '../docs/screenshot-widget.png' });
    site.server.close();
  } finally {
    await parley.stop();
  }
});
