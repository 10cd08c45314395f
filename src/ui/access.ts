/** The UI API asks the registry's own access check, so it shows exactly what a client could pull. */
import type { Context } from "../context.ts";
import { RegistryError } from "../errors.ts";
import type { Action } from "../options.ts";

/** True when `request` may do `action` on `name`; a denial (401/403) is a plain false. */
export async function mayDo(ctx: Context, request: Request, name: string, action: Action): Promise<boolean> {
  try {
    await ctx.checkAccess(request, { name, action });
    return true;
  } catch (error) {
    if (error instanceof RegistryError && (error.status === 401 || error.status === 403)) return false;
    throw error;
  }
}
