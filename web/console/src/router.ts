import { createRouter, createWebHistory, type RouteLocationNormalized } from 'vue-router'
import { ensureSession, isAdmin, isSupervisor, session } from './stores/session'

export const router = createRouter({
  history: createWebHistory('/app/'),
  routes: [
    { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { public: true } },
    {
      path: '/',
      component: () => import('./views/WorkspaceLayout.vue'),
      children: [
        { path: '', name: 'inbox', component: () => import('./views/InboxView.vue') },
        { path: 'c/:id', name: 'conversation', component: () => import('./views/InboxView.vue') },
        { path: 'supervisor', name: 'supervisor', component: () => import('./views/SupervisorView.vue'), meta: { supervisor: true } },
        {
          path: 'settings',
          component: () => import('./views/SettingsLayout.vue'),
          children: [
            { path: '', name: 'settings', redirect: () => (isAdmin() ? { name: 'settings-channels' } : { name: 'settings-tokens' }) },
            { path: 'channels', name: 'settings-channels', component: () => import('./views/ChannelsSettings.vue'), meta: { admin: true } },
            { path: 'team', name: 'settings-team', component: () => import('./views/TeamSettings.vue'), meta: { admin: true } },
            { path: 'groups', name: 'settings-groups', component: () => import('./views/GroupsSettings.vue'), meta: { admin: true } },
            { path: 'hours', name: 'settings-hours', component: () => import('./views/BusinessHoursSettings.vue'), meta: { admin: true } },
            { path: 'kb', name: 'settings-kb', component: () => import('./views/KbSettings.vue'), meta: { supervisor: true } },
            { path: 'flows', name: 'settings-flows', component: () => import('./views/FlowsSettings.vue'), meta: { supervisor: true } },
            { path: 'unanswered', name: 'settings-unanswered', component: () => import('./views/BotUnansweredSettings.vue'), meta: { supervisor: true } },
            { path: 'quick-replies', name: 'settings-quick-replies', component: () => import('./views/QuickRepliesSettings.vue') },
            { path: 'auto-replies', name: 'settings-auto-replies', component: () => import('./views/AutoRepliesSettings.vue'), meta: { supervisor: true } },
            { path: 'tokens', name: 'settings-tokens', component: () => import('./views/TokensSettings.vue') },
            { path: 'password', name: 'settings-password', component: () => import('./views/PasswordSettings.vue') },
          ],
        },
      ],
    },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

router.beforeEach(async (to: RouteLocationNormalized) => {
  if (to.meta.public) {
    if (to.name === 'login' && !to.query.expired) {
      try {
        if (await ensureSession()) return { path: typeof to.query.next === 'string' ? to.query.next : '/' }
      } catch {
        /* server unreachable: show the form */
      }
    }
    return true
  }
  let signedIn = false
  try {
    signedIn = await ensureSession()
  } catch {
    signedIn = false
  }
  if (!signedIn) return { name: 'login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} }
  if (to.meta.admin && session.user?.role !== 'admin') return { name: 'settings-tokens' }
  if (to.meta.supervisor && !isSupervisor()) return { name: 'inbox' }
  return true
})
