// The scenario in Cloudflare's Workers runtime (workerd, the npm package): a Worker whose fetch
// handler runs it on the package's ESM build (copied beside this file as sdk.js by
// tests/runtimes.test.mjs) and answers the report as JSON, or 500 with the error.
import * as sdk from "./sdk.js";
import "./scenario.js";

export default {
  async fetch(request) {
    const q = new URL(request.url).searchParams;
    try {
      const report = await globalThis.forrealtimeScenario(sdk, {
        gateway: q.get("gateway"),
        flaky: q.get("flaky"),
        channel: q.get("channel"),
      });
      report.runtime = "workerd";
      return Response.json(report);
    } catch (e) {
      return new Response(String((e && e.stack) || e), { status: 500 });
    }
  },
};
