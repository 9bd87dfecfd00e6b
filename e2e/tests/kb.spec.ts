// The knowledge base end to end: an admin writes and publishes an article in the console, a
// visitor finds it in the public help centre (browsing and searching in Chinese) and says it
// helped, and the admin sees the view and the vote back in the console.
import { expect, test, Page } from '@playwright/test';
import { ADMIN, Parley, startParley } from './server';

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

test('an article written in the console is found, read and rated in the help centre', async ({ browser }, testInfo) => {
  const ctx = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1400, height: 900 } });
  const admin = await ctx.newPage();
  await signIn(admin);

  // A channel gives the workspace its public help-centre address.
  await admin.getByTestId('nav-settings').click();
  await admin.getByTestId('channel-new').click();
  await admin.getByTestId('channel-name').fill('Acme 商城');
  await admin.getByTestId('channel-save').click();
  await expect(admin.getByTestId('channel-snippet')).toHaveValue(/data-parley-key/);

  await admin.getByTestId('settings-nav-kb').click();
  await expect(admin.getByRole('heading', { name: '知识库' })).toBeVisible();
  await admin.getByTestId('kb-category-name').fill('物流配送');
  await admin.getByTestId('kb-category-add').click();
  await expect(admin.getByTestId('kb-category').filter({ hasText: '物流配送' })).toBeVisible();

  await admin.getByTestId('kb-new').click();
  await admin.getByTestId('kb-title').fill('发货时间说明');
  await admin.getByTestId('kb-category-select').selectOption({ label: '物流配送' });
  await admin.getByTestId('kb-keywords').fill('几天发货');
  await admin.getByTestId('kb-keywords').press('Enter');
  await admin.getByTestId('kb-keywords').fill('什么时候发货');
  await admin.getByTestId('kb-keywords').press('Enter');
  await admin
    .getByTestId('kb-body')
    .fill('## 发货时间\n\n现货商品在付款后**48小时内**发货。\n\n<script>alert(1)</script>\n\n- 预售商品以页面时间为准\n- 节假日顺延');
  // The live preview renders the Markdown and shows the raw HTML as text.
  const preview = admin.getByTestId('kb-preview');
  await expect(preview.locator('strong')).toHaveText('48小时内');
  await expect(preview).toContainText('<script>alert(1)</script>');
  await expect(preview.locator('script')).toHaveCount(0);
  await admin.getByTestId('kb-publish').click();
  await expect(admin.getByTestId('kb-editor-status')).toHaveText('已发布');
  await expect(admin.getByTestId('kb-version')).toHaveCount(1);
  await admin.screenshot({ path: testInfo.outputPath('kb-editor.png') });

  await admin.getByTestId('kb-back').click();
  const row = admin.getByTestId('kb-article-row').filter({ hasText: '发货时间说明' });
  await expect(row.getByTestId('kb-article-status')).toHaveText('已发布');
  const helpUrl = await admin.getByTestId('kb-help-link').getAttribute('href');
  expect(helpUrl).toMatch(/^\/help\/wk_[0-9a-f]+$/);

  // A visitor, not signed in, browses the help centre.
  const visitorCtx = await browser.newContext({ locale: 'zh-CN', viewport: { width: 390, height: 844 } });
  const visitor = await visitorCtx.newPage();
  await visitor.goto(parley.url + helpUrl);
  await expect(visitor.locator('section[data-category="物流配送"]')).toContainText('发货时间说明');
  await visitor.screenshot({ path: testInfo.outputPath('help-index.png') });
  await visitor.getByRole('link', { name: '发货时间说明' }).click();
  await expect(visitor.getByRole('heading', { level: 1 })).toHaveText('发货时间说明');
  await expect(visitor.locator('.body strong')).toHaveText('48小时内');
  await expect(visitor.locator('.body')).toContainText('<script>alert(1)</script>');
  await visitor.screenshot({ path: testInfo.outputPath('help-article.png'), fullPage: true });

  // Searching in Chinese finds it.
  await visitor.getByRole('searchbox').fill('几天能发货');
  await visitor.getByRole('button', { name: '搜索' }).click();
  await expect(visitor).toHaveURL(/\/search\?q=/);
  await visitor.screenshot({ path: testInfo.outputPath('help-search.png') });
  await visitor.getByRole('link', { name: '发货时间说明' }).click();

  // "Did this solve it?" — yes, once.
  await visitor.getByRole('button', { name: '是', exact: true }).click();
  await expect(visitor.getByTestId('vote-thanks')).toHaveText('感谢您的反馈！');
  await visitor.reload();
  await expect(visitor.getByTestId('vote-thanks')).toBeVisible();
  await expect(visitor.getByRole('button', { name: '是', exact: true })).toHaveCount(0);

  // Back in the console: two article pages were served (the page after voting is not a view).
  await admin.reload();
  const counted = admin.getByTestId('kb-article-row').filter({ hasText: '发货时间说明' });
  await expect(counted.getByTestId('kb-article-views')).toHaveText('2');
  await expect(counted.getByTestId('kb-article-helpful')).toHaveText('是 1 · 否 0');
  await counted.getByTestId('kb-article-open').click();
  await expect(admin.getByTestId('kb-stat-helpful')).toHaveText('是 1 · 否 0');
  await admin.getByTestId('kb-back').click();
  await admin.screenshot({ path: testInfo.outputPath('kb-list.png') });
});

test('editors keep categories in order, cannot delete a used one, and restore an old version', async ({ browser }, testInfo) => {
  const ctx = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1400, height: 900 } });
  const admin = await ctx.newPage();
  admin.on('dialog', (d) => d.accept());
  await signIn(admin);
  await admin.goto(parley.url + '/app/settings/kb');

  for (const name of ['售后服务', '物流配送']) {
    await admin.getByTestId('kb-category-name').fill(name);
    await admin.getByTestId('kb-category-add').click();
    await expect(admin.getByTestId('kb-category').filter({ hasText: name })).toBeVisible();
  }
  // Reorder and rename.
  const logistics = admin.getByTestId('kb-category').filter({ hasText: '物流配送' });
  await logistics.hover();
  await logistics.getByTestId('kb-category-up').click();
  await expect(admin.getByTestId('kb-category')).toHaveText(['物流配送', '售后服务'].map((n) => new RegExp(n)));
  await logistics.hover();
  await logistics.getByTestId('kb-category-rename').click();
  await admin.getByTestId('kb-category-rename-input').fill('物流与配送');
  await admin.getByTestId('kb-category-rename-input').press('Enter');
  await expect(admin.getByTestId('kb-category').first()).toHaveAttribute('data-name', '物流与配送');

  // An article in that category.
  await admin.getByTestId('kb-new').click();
  await admin.getByTestId('kb-title').fill('运费说明');
  await admin.getByTestId('kb-category-select').selectOption({ label: '物流与配送' });
  await admin.getByTestId('kb-body').fill('满99元包邮。');
  await admin.getByTestId('kb-save').click();
  await expect(admin.getByTestId('kb-notice')).toHaveText('草稿已保存');
  await expect(admin.getByTestId('kb-editor-status')).toHaveText('草稿');

  // A second version, then the first one restored as the third.
  await admin.getByTestId('kb-body').fill('满199元包邮。');
  await admin.getByTestId('kb-save').click();
  await expect(admin.getByTestId('kb-version')).toHaveCount(2);
  await admin.locator('[data-testid="kb-version"][data-version="1"]').getByTestId('kb-restore').click();
  await expect(admin.getByTestId('kb-version')).toHaveCount(3);
  await expect(admin.locator('[data-testid="kb-version"][data-version="3"]')).toContainText('由版本 1 恢复');
  await expect(admin.getByTestId('kb-body')).toHaveValue('满99元包邮。');
  await admin.screenshot({ path: testInfo.outputPath('kb-history.png') });

  // The category with an article is not deleted; the server's reason is shown.
  await admin.getByTestId('kb-back').click();
  const used = admin.getByTestId('kb-category').filter({ hasText: '物流与配送' });
  await used.hover();
  await used.getByTestId('kb-category-delete').click();
  await expect(admin.getByTestId('kb-category-error')).toContainText('该分类下还有文章');
  await expect(admin.getByTestId('kb-category-error')).toContainText('1 article(s)');
  await admin.screenshot({ path: testInfo.outputPath('kb-category-error.png') });
  await expect(used).toBeVisible();
  // The empty one goes.
  const empty = admin.getByTestId('kb-category').filter({ hasText: '售后服务' });
  await empty.hover();
  await empty.getByTestId('kb-category-delete').click();
  await expect(empty).toHaveCount(0);

  // Filters: the draft is listed under drafts, not under published.
  await admin.getByTestId('kb-filter-status').selectOption('published');
  await expect(admin.getByTestId('kb-article-row')).toHaveCount(0);
  await admin.getByTestId('kb-filter-status').selectOption('draft');
  await expect(admin.getByTestId('kb-article-row')).toHaveCount(1);
  await admin.getByTestId('kb-search').fill('运费');
  await expect(admin.getByTestId('kb-article-row')).toHaveCount(1);
  await admin.getByTestId('kb-search').fill('退货');
  await expect(admin.getByTestId('kb-article-row')).toHaveCount(0);
});
