import { isStreamId, type RealtimeEvent } from "@forrealtime/client";
import { RealtimeProvider, createRealtime } from "@forrealtime/client/react";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { emit, history, REALTIME_URL, userName } from "../api";
import { CHAT, NOTIFICATIONS, type Events } from "../events";

const { useRealtime, useRealtimeClient, useRealtimeStatus } = createRealtime<Events>();

type Message = RealtimeEvent<Events, "chat.message">;
type Alert = RealtimeEvent<Events, "notification.alert">;

export function App() {
  return (
    <RealtimeProvider api={{ url: REALTIME_URL }}>
      <main className="app">
        <header className="bar">
          <h1>
            forrealtime <span className="muted">chat · React</span>
          </h1>
          <a className="switch" href="./svelte.html">
            Svelte version
          </a>
          <StatusBadge />
          <Bell />
        </header>
        <ChatRoom user={userName()} />
      </main>
    </RealtimeProvider>
  );
}

function StatusBadge() {
  const status = useRealtimeStatus();
  return (
    <span className={`status status-${status}`} data-testid="status" title="connection">
      {status}
    </span>
  );
}

function Bell() {
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const [unread, setUnread] = useState(0);
  const [open, setOpen] = useState(false);
  useRealtime({
    channels: [NOTIFICATIONS],
    events: ["notification.alert"],
    onData: (e) => {
      setAlerts((list) => [e, ...list].slice(0, 20));
      setUnread((n) => n + 1);
    },
  });
  return (
    <div className="bell">
      <button
        type="button"
        data-testid="bell"
        aria-label={`notifications, ${unread} unread`}
        onClick={() => {
          setOpen((o) => !o);
          setUnread(0);
        }}
      >
        <svg aria-hidden="true" width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
          <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
          <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
        </svg>
        <span className={unread ? "count" : "count zero"} data-testid="bell-count">
          {unread}
        </span>
      </button>
      {open && (
        <ul className="alerts" data-testid="alerts">
          {alerts.length === 0 && <li className="muted">No notifications yet</li>}
          {alerts.map((a) => (
            <li key={a.id} data-id={a.id}>
              {a.data.text}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function ChatRoom({ user }: { user: string }) {
  const client = useRealtimeClient();
  const [messages, setMessages] = useState<Message[]>([]);
  const [ready, setReady] = useState(false);

  // History first, then the live stream from just after it: the ack makes the server
  // replay whatever arrived in between, and the client drops anything seen twice.
  useEffect(() => {
    let cancelled = false;
    void history(CHAT).then((list) => {
      if (cancelled) return;
      if (list) {
        setMessages(list.filter((e) => e.event === "chat.message") as Message[]);
        // Seen up to the last entry loaded ("0-0": nothing yet, so everything is new).
        const last = list[list.length - 1];
        client.ack(CHAT, last && isStreamId(last.id) ? last.id : "0-0");
      }
      setReady(true);
    });
    return () => {
      cancelled = true;
    };
  }, [client]);

  const [lost, setLost] = useState(false);
  useRealtime({
    channels: [CHAT],
    events: ["chat.message"],
    enabled: ready,
    onData: (e) => setMessages((list) => [...list, e]),
    // The server no longer had everything since our last message: say so.
    onHistoryLost: () => setLost(true),
  });

  const end = useRef<HTMLLIElement>(null);
  useEffect(() => {
    // A block body: Chromium's scrollIntoView returns a promise, not a cleanup function.
    void end.current?.scrollIntoView({ block: "end" });
  }, [messages.length]);

  return (
    <section className="room">
      {lost && (
        <p className="notice" data-testid="history-lost" role="status">
          Some messages sent while you were away are no longer available.
          <button type="button" onClick={() => setLost(false)} aria-label="dismiss">
            ×
          </button>
        </p>
      )}
      <ul className="messages" data-testid="messages">
        {messages.length === 0 && <li className="empty muted">No messages yet. Say hello.</li>}
        {messages.map((m) => (
          <li key={m.id} data-id={m.id} className={m.data.user === user ? "mine" : ""}>
            <span className="user">{m.data.user}</span>
            <span className="text">{m.data.text}</span>
          </li>
        ))}
        <li ref={end} className="end" aria-hidden="true" />
      </ul>
      <Composer user={user} />
    </section>
  );
}

function Composer({ user }: { user: string }) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  async function send(ev: FormEvent) {
    ev.preventDefault();
    const value = text.trim();
    if (!value) return;
    try {
      await emit(CHAT, "chat.message", { user, text: value });
      setText("");
      setError(null);
    } catch (e) {
      setError(String(e instanceof Error ? e.message : e));
    }
  }
  async function ring() {
    await emit(NOTIFICATIONS, "notification.alert", { text: `${user} rang the bell` }).catch(
      (e: unknown) => setError(String(e)),
    );
  }
  return (
    <form className="composer" data-testid="composer" onSubmit={send}>
      <span className="me" title="you">
        {user}
      </span>
      <input
        name="text"
        value={text}
        onChange={(e) => setText(e.target.value)}
        placeholder="Write a message"
        autoComplete="off"
        maxLength={500}
      />
      <button type="submit">Send</button>
      <button type="button" className="secondary" onClick={ring} title="send a notification">
        Ring
      </button>
      {error && <p className="error">{error}</p>}
    </form>
  );
}
