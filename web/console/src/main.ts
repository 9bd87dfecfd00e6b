import { createApp } from 'vue'
import App from './App.vue'
import { onUnauthorized } from './api'
import { i18n } from './i18n'
import { router } from './router'
import { clearSession } from './stores/session'
import './styles/base.css'

onUnauthorized(() => {
  clearSession()
  const current = router.currentRoute.value
  if (current.name !== 'login') void router.push({ name: 'login', query: { next: current.fullPath, expired: '1' } })
})

createApp(App).use(i18n).use(router).mount('#app')
