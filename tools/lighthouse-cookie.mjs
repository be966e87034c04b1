// Puts the signed-in user's cookie into a running Chromium's cookie jar over the DevTools protocol, so
// Lighthouse (started with --port) loads the chat page, and the page's own fetches, as that user.
// (Lighthouse's --extra-headers would only reach the document, not the page's fetch and hub calls.)
// Usage: node --experimental-websocket tools/lighthouse-cookie.mjs <debugging port> <origin> <name=value>
const [port, origin, pair] = process.argv.slice(2);
const eq = pair.indexOf("=");
const { webSocketDebuggerUrl } = await (await fetch(`http://127.0.0.1:${port}/json/version`)).json();
const socket = new WebSocket(webSocketDebuggerUrl);
await new Promise((resolve, reject) => { socket.onopen = resolve; socket.onerror = reject; });
socket.send(JSON.stringify({
  id: 1,
  method: "Storage.setCookies",
  params: { cookies: [{ name: pair.slice(0, eq), value: pair.slice(eq + 1), url: origin, httpOnly: true, sameSite: "Lax" }] },
}));
const reply = await new Promise((resolve) => { socket.onmessage = (m) => resolve(JSON.parse(m.data)); });
socket.close();
if (reply.error) { console.error(`could not set the cookie: ${reply.error.message}`); process.exit(1); }
