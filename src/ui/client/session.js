// Who the browser is signed in as, and every request the UI makes. Credentials live in this
// module's memory only (gone on reload, never in the address, never in localStorage); when
// the registry issues tokens, only a short-lived token is kept, in sessionStorage.
// Requests use credentials: "omit", so a 401 never opens the browser's own login prompt.

let authorization = null;
let user = null;
/** null until known: whether /v2/ asks anonymous callers to sign in. */
let authRequired = null;

export const currentUser = () => user;
export const isAuthRequired = () => authRequired;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function request(path, init = {}) {
  const headers = new Headers(init.headers);
  if (authorization) headers.set("Authorization", authorization);
  const response = await fetch(path, { ...init, headers, credentials: "omit", cache: "no-store" });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    const error = body?.errors?.[0];
    throw new ApiError(response.status, error?.code ?? "HTTP_" + response.status, error?.message ?? response.statusText);
  }
  return response;
}

export const getJson = async (path) => (await request(path)).json();

/** Learn whether the registry has auth at all (the sign-in button shows only then). */
export async function probeAuth() {
  if (authRequired !== null) return authRequired;
  const response = await fetch("/v2/", { credentials: "omit", cache: "no-store" });
  authRequired = response.status === 401;
  return authRequired;
}

/** Check the credentials against /v2/ (which always challenges anonymous callers) and keep them. */
export async function signIn(name, password) {
  const basic = "Basic " + btoa(String.fromCharCode(...new TextEncoder().encode(`${name}:${password}`)));
  const response = await fetch("/v2/", { headers: { Authorization: basic }, credentials: "omit", cache: "no-store" });
  if (response.status === 401 || response.status === 403) throw new ApiError(response.status, "UNAUTHORIZED", "Wrong user name or password");
  if (!response.ok) throw new ApiError(response.status, "HTTP_" + response.status, "The registry did not answer the sign-in");
  authorization = basic;
  user = name;
}

export function signOut() {
  authorization = null;
  user = null;
}
