// Kept apart from index.ts, which imports the target kinds: they import this, never the index.
import type { LifecycleOptions } from "./index.ts";

/** The command-line flags (and config file contents) a LifecycleOptions stands for. */
export function lifecycleArgs(options: LifecycleOptions | undefined): { serve: string[]; gc: string[]; configText?: string } {
  const gc = [...(options?.grace ? ["--grace", options.grace] : []), ...(options?.deleteUntagged ? ["--delete-untagged"] : [])];
  return {
    serve: [...(options?.noDelete ? ["--no-delete"] : []), ...(options?.interval ? ["--gc-interval", options.interval, ...gc] : [])],
    gc,
    configText: options?.retention ? JSON.stringify({ retention: options.retention }) : undefined,
  };
}
