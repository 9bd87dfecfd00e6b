// One shared ticking "now" for relative times.
import { ref } from 'vue'

export const now = ref(Date.now())
if (typeof window !== 'undefined') setInterval(() => (now.value = Date.now()), 10_000)
