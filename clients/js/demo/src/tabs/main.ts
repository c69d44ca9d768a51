// A page for the tab-sharing browser test: it subscribes to `?channels=a,b` (default
// `tabs`), records every event it is given in `window.__events`, and shows its role.
import { createRealtimeClient } from "@forrealtime/client";

const params = new URLSearchParams(location.search);
const channels = (params.get("channels") ?? "tabs").split(",");
const client = createRealtimeClient({ url: "/api/realtime" });
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
