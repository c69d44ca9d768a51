// The stream on the app's own origin: the original package's `export const GET = handle(...)`,
// here passing the request through to the gateway. A middleware could check the session
// cookie first and answer 401 (see @forrealtime/server's README).
import { handle } from "@forrealtime/server";
import { realtime } from "../../../lib-realtime";

export const dynamic = "force-dynamic";

export const GET = handle({ realtime });
