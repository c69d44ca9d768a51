// The gateway's HTTP API, relative to the page so that a path prefix works too.
import type { EventData, EventName } from "@forrealtime/client";
import type { Events } from "./events";

export const REALTIME_URL = "api/realtime";

export interface StoredEvent<T = unknown> {
  id: string;
  channel: string;
  event: string;
  data: T;
}

export async function emit<K extends EventName<Events>>(
  channel: string,
  event: K,
  data: EventData<Events, K>,
): Promise<string> {
  const res = await fetch("api/emit", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ channel, event, data }),
  });
  if (!res.ok) throw new Error(`emit failed: ${res.status}`);
  return ((await res.json()) as { id: string }).id;
}

/** The first `limit` stored events of a channel, oldest first; null when it cannot be had. */
export async function history(channel: string, limit = 50): Promise<StoredEvent[] | null> {
  try {
    const params = new URLSearchParams({ channel, limit: String(limit) });
    const res = await fetch(`api/history?${params}`);
    if (!res.ok) return null;
    const list = (await res.json()) as unknown;
    return Array.isArray(list) ? (list as StoredEvent[]) : null;
  } catch {
    return null;
  }
}

/** `?user=name` or a guest name kept for the tab. */
export function userName(): string {
  const fromQuery = new URLSearchParams(location.search).get("user");
  if (fromQuery) return fromQuery;
  let name = sessionStorage.getItem("forrealtime.user");
  if (!name) {
    name = `guest-${Math.floor(1000 + Math.random() * 9000)}`;
    sessionStorage.setItem("forrealtime.user", name);
  }
  return name;
}
