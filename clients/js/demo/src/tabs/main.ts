// A page for the tab-sharing browser test: it subscribes to `?channels=a,b` (default
// `tabs`), records every event it is given in `window.__events`, and shows its role.
// `?tokens=a,b,c`: getToken answers these in turn (then the last forever), one tab alone.
import { createRealtimeClient } from "@forrealtime/client";

const params = new URLSearchParams(location.search);
const channels = (params.get("channels") ?? "tabs").split(",");
const tokens = params.get("tokens")?.split(",");
const asked: string[] = [];
const client = createRealtimeClient({
  url: "/api/realtime",
  ...(tokens
    ? {
        shareTabs: false,
        getToken: async () => {
          const t = tokens.length > 1 ? tokens.shift()! : tokens[0]!;
          asked.push(t);
          return t;
        },
      }
    : {}),
});
Object.assign(window, { __asked: asked });
const events: { id: string; channel: string; event: string; data: unknown }[] = [];
Object.assign(window, { __events: events, __client: client });

const $ = (id: string) => document.getElementById(id)!;
function show() {
  $("role").textContent = client.role();
  $("status").textContent = client.getStatus();
  $("count").textContent = String(events.length);
}
client.subscribeStatus(show);
client.subscribe({
  channels,
  onData(e) {
    events.push(e);
    show();
  },
});
setInterval(show, 100);
show();
