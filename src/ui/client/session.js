// Who the browser is signed in as, and every request the UI makes. Two modes, learnt from
// the challenge of GET /v2/:
//  - Bearer (Berth's token flow): sign-in trades the password at the token endpoint for a
//    refresh token, once; the password is not kept. Each repository (and the catalog) gets a
//    short-lived access token for its scope, asked for with the refresh token.
//  - Basic: the credentials, checked against /v2/, are sent with each request.
// Everything lives in this module's memory: never in the address, localStorage or
// sessionStorage, so a reload signs out. Requests use credentials: "omit", so a 401 never
// opens the browser's own login prompt.

let user = null;
let basic = null; // Basic mode: the Authorization header
let refreshToken = null; // Bearer mode
const tokens = new Map(); // scope -> { token, expires }
/** null until known; then { required: boolean, realm?: string, service?: string }. */
let auth = null;

export const currentUser = () => user;
export const isAuthRequired = () => auth?.required ?? false;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const plainFetch = (path, init = {}) => fetch(path, { ...init, credentials: "omit", cache: "no-store" });

/** `WWW-Authenticate: Bearer realm="...",service="...",scope="..."` -> its parameters. */
function parseChallenge(header) {
  const match = /^Bearer\s+(.*)$/i.exec(header ?? "");
  if (!match) return null;
  const params = {};
  for (const [, key, value] of match[1].matchAll(/(\w+)="([^"]*)"/g)) params[key] = value;
  return params;
}

/** Learn whether the registry has auth at all, and which kind (the sign-in button shows only then). */
export async function probeAuth() {
  if (auth) return auth;
  const response = await plainFetch("/v2/");
  const challenge = parseChallenge(response.headers.get("www-authenticate"));
  auth = { required: response.status === 401, realm: challenge?.realm, service: challenge?.service };
  return auth;
}

/** The scope a UI request needs: the catalog, or a repository (pull and delete, whatever the policy grants). */
function scopeOf(path) {
  const match = /^\/(?:api\/ui\/repositories|v2)\/(.+?)\/(?:tags|manifests)(?:\/|\?|$)/.exec(path);
  return match ? `repository:${match[1]}:pull,delete` : "registry:catalog:*";
}

async function tokenFor(scope) {
  const cached = tokens.get(scope);
  if (cached && cached.expires > Date.now()) return cached.token;
  const body = new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken, service: auth.service ?? "", scope, client_id: "berth-ui" });
  const response = await plainFetch(auth.realm, { method: "POST", body });
  if (!response.ok) throw new ApiError(response.status, "UNAUTHORIZED", "Signed out: sign in again");
  const reply = await response.json();
  // Renew a little early; tokens live minutes.
  tokens.set(scope, { token: reply.access_token ?? reply.token, expires: Date.now() + ((reply.expires_in ?? 60) - 10) * 1000 });
  return reply.access_token ?? reply.token;
}

export async function request(path, init = {}) {
  const headers = new Headers(init.headers);
  if (basic) headers.set("Authorization", basic);
  else if (refreshToken) headers.set("Authorization", "Bearer " + (await tokenFor(scopeOf(path))));
  const response = await plainFetch(path, { ...init, headers });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    const error = body?.errors?.[0];
    throw new ApiError(response.status, error?.code ?? "HTTP_" + response.status, error?.message ?? response.statusText);
  }
  return response;
}

export const getJson = async (path) => (await request(path)).json();

export async function signIn(name, password) {
  await probeAuth();
  signOut();
  if (auth.realm) {
    // The token flow: the password goes to the token endpoint once, for a refresh token.
    const body = new URLSearchParams({ grant_type: "password", username: name, password, service: auth.service ?? "", access_type: "offline", client_id: "berth-ui", scope: "registry:catalog:*" });
    const response = await plainFetch(auth.realm, { method: "POST", body });
    if (response.status === 401 || response.status === 403) throw new ApiError(response.status, "UNAUTHORIZED", "Wrong user name or password");
    const reply = response.ok ? await response.json() : null;
    if (!reply?.refresh_token) throw new ApiError(response.status, "HTTP_" + response.status, "The registry did not answer the sign-in");
    refreshToken = reply.refresh_token;
    tokens.set("registry:catalog:*", { token: reply.access_token ?? reply.token, expires: Date.now() + ((reply.expires_in ?? 60) - 10) * 1000 });
  } else {
    const header = "Basic " + btoa(String.fromCharCode(...new TextEncoder().encode(`${name}:${password}`)));
    const response = await plainFetch("/v2/", { headers: { Authorization: header } });
    if (response.status === 401 || response.status === 403) throw new ApiError(response.status, "UNAUTHORIZED", "Wrong user name or password");
    if (!response.ok) throw new ApiError(response.status, "HTTP_" + response.status, "The registry did not answer the sign-in");
    basic = header;
  }
  user = name;
}

export function signOut() {
  user = basic = refreshToken = null;
  tokens.clear();
}
