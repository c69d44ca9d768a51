import { createRealtime } from "@forrealtime/client/svelte";
import type { Events } from "../events";

export const { provideRealtime, getRealtimeContext, useRealtime } = createRealtime<Events>();
