// "Fetch the last 20 messages" in the route's loader (a server function: it runs on the
// server, also when the loader runs in the browser), render them on the server, then
// subscribe from the newest rendered id with the client hook: no gap, no duplicate.
import { createRealtime } from "@forrealtime/client/react";
import { createFileRoute } from "@tanstack/react-router";
import { createServerFn } from "@tanstack/react-start";
import { useState, type FormEvent } from "react";
import { gateway, type Message } from "../realtime";

const lastMessages = createServerFn({ method: "GET" }).handler(async () => {
  return (await gateway().channel("chat").history({ last: 20 })) as Message[];
});

const sendMessage = createServerFn({ method: "POST" })
  .validator((input: { user: string; text: string }) => input)
  .handler(async ({ data }) => ({ id: await gateway().channel("chat").emit("chat.message", data) }));

export const Route = createFileRoute("/")({
  loader: () => lastMessages(),
  component: Chat,
});

// The hooks typed from the server's `Realtime` (a type only, as `createRealtime<typeof
// realtime>()` with the original package); `createRealtime<Events>()` is the same.
const { useRealtime, useRealtimeClient } = createRealtime<ReturnType<typeof gateway>>();

function Chat() {
  const initial = Route.useLoaderData();
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
    const text = String(new FormData(form).get("text") ?? "");
    await sendMessage({ data: { user: "tanstack", text } });
    form.reset();
  }

  return (
    <main>
      <h1>chat</h1>
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
    </main>
  );
}
