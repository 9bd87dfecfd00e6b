// The one agent WebSocket of this tab.

import { reactive } from 'vue'
import { RealtimeClient, agentSocketUrl, type ConnectionState } from '../realtime'

export const client = new RealtimeClient({ url: () => agentSocketUrl() })

export const connection = reactive({ state: 'idle' as ConnectionState })
client.on((e) => {
  if (e.type === 'state') connection.state = e.state
})
