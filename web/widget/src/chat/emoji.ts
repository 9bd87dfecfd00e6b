// The built-in emoji picker's list.
export const EMOJI = '😀 😃 😄 😁 😆 😅 😂 🙂 😉 😊 😇 😍 😘 😋 😜 🤔 🤗 🙄 😐 😏 😴 😢 😭 😡 😱 😳 🥺 🙏 👍 👎 👌 👏 🙌 💪 👋 ❤️ 🎉 🔥 ✅ ❌'.split(' ');
