"use client";
import { createRealtime } from "@forrealtime/client/react";
import { useState, type FormEvent } from "react";
import type { Events, Message } from "../lib-realtime";

const { useRealtime, useRealtimeClient } = createRealtime<Events>();

export function Chat({ initial }: { initial: Message[] }) {
  const client = useRealtimeClient();
  const [messages, setMessages] = useState<Message[]>(() => {
    // The server rendered these: start the stream after the newest of them.
    const last = initial.at(-1);
    if (last) client.ack("chat", last.id);
    return initial;
  });
  const { status, error } = useRealtime({
    channels: ["chat"],
    events: ["chat.message"],
    onData: (e) => setMessages((m) => (m.some((x) => x.id === e.id) ? m : [...m, e])),
  });

  async function send(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = e.currentTarget;
    const text = new FormData(form).get("text");
    await fetch("/api/send", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: "next", text }),
    });
    form.reset();
  }

  return (
    <section>
      <p>
        status: <span id="status">{status}</span>
        {error && <span id="error"> ({error.kind})</span>}
      </p>
      <ul id="messages">
        {messages.map((m) => (
          <li key={m.id} data-id={m.id}>
            <span className="user">{m.data.user}</span> <span className="text">{m.data.text}</span>
          </li>
        ))}
      </ul>
      <form onSubmit={send}>
        <input name="text" placeholder="say something" /> <button type="submit">send</button>
      </form>
    </section>
  );
}
