/**
 * One scenario of @forrealtime/server, written with web APIs only (fetch, Request, Response,
 * streams, TextDecoder, AbortController: no Node module, no `process`, no `Buffer`), so that the
 * same file runs under Deno and in an edge runtime's context (tests/runtimes.test.mjs). A plain
 * script: it defines `globalThis.forrealtimeScenario(sdk, { gateway, flaky, channel })`, which
 * returns a JSON-able report for the harness to check:
 *   - emit, channel().emit and a batch of 28, then history({ last: 20 }) (the newest 20,
 *     oldest first) and the whole history;
 *   - a 400 from the gateway as a RealtimeServerError, not retried;
 *   - an emit through `flaky` (a proxy that answers 503 to the first POST): retried, stored once;
 *   - handle(): the stream passed through until an event emitted meanwhile arrives.
 */
globalThis.forrealtimeScenario = async function (sdk, { gateway, flaky, channel }) {
  const { Realtime, RealtimeServerError, handle } = sdk;
  const rt = new Realtime({ url: gateway });
  const report = { globals: { process: typeof process, Buffer: typeof Buffer, require: typeof require } };

  const a = await rt.emit("chat.message", { text: "one" }, { channel });
  const b = await rt.channel(channel).emit("chat.message", { text: "two" });
  const batch = await rt
    .channel(channel)
    .batch(Array.from({ length: 28 }, (_, i) => ({ event: "chat.message", data: { text: `n${i}` } })));
  report.emitted = [a, b, ...batch];
  const last = await rt.channel(channel).history({ last: 20 });
  report.last20 = last.map((m) => m.id);
  report.last20Data = last.map((m) => m.data.text);
  report.all = (await rt.channel(channel).history()).map((m) => m.id);

  const err = await rt.emit("nonamespace", 1).catch((e) => e);
  report.refusal = {
    isRealtimeServerError: err instanceof RealtimeServerError,
    status: err.status,
    attempts: err.attempts,
    serverError: err.serverError,
  };

  const viaFlaky = new Realtime({ url: flaky, retry: { initialMs: 10 } });
  const retried = await viaFlaky.channel(`${channel}-retry`).emit("chat.message", { text: "once" });
  report.retry = { id: retried, stored: (await rt.channel(`${channel}-retry`).history()).map((m) => m.id) };

  const ac = new AbortController();
  const res = await handle({ realtime: rt })(
    new Request(`http://app.example/api/realtime?channel=${channel}-live`, { signal: ac.signal }),
  );
  report.handle = { status: res.status, contentType: res.headers.get("content-type") };
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + 10000;
  const readUntil = async (needle) => {
    while (!text.includes(needle)) {
      if (Date.now() > deadline) throw new Error(`handle(): no ${needle} in ${JSON.stringify(text)}`);
      const { value, done } = await reader.read();
      if (done) throw new Error(`handle(): the stream ended before ${needle}`);
      text += decoder.decode(value, { stream: true });
    }
  };
  await readUntil('"type":"connected"');
  const live = await rt.channel(`${channel}-live`).emit("chat.message", { text: "live" });
  await readUntil(live);
  report.handle.sawLiveEvent = text.includes('"text":"live"');
  ac.abort();
  await reader.cancel().catch(() => {});
  return report;
};
