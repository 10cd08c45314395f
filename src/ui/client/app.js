// The Berth UI: one page, routed by its address so every view can be bookmarked and the
// back button works. Addresses:
//   /ui/                               repositories (?q=filter&last=cursor)
//   /ui/r/<name>                        a repository (?sort=date&last=|offset=)
//   /ui/r/<name>/-/<tag or digest>      a manifest ("-" is never a name component)
import { h } from "./dom.js";
import { navigate, setRenderer } from "./nav.js";
import { renderManifest } from "./page-manifest.js";
import { renderRepositories } from "./page-repositories.js";
import { renderRepository } from "./page-repository.js";
import { ApiError, currentUser, isAuthRequired, probeAuth, signIn, signOut } from "./session.js";

const main = document.getElementById("main");
const account = document.getElementById("account");

// Same-page links stay in the page; modified clicks (new tab) go to the browser.
document.addEventListener("click", (event) => {
  const link = event.target.closest?.("a[href]");
  if (!link || link.target || link.origin !== location.origin || event.defaultPrevented) return;
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  if (!link.pathname.startsWith("/ui/") && link.pathname !== "/") return;
  event.preventDefault();
  navigate(link.pathname + link.search);
});
window.addEventListener("popstate", () => render());

let generation = 0;

export async function render() {
  const mine = ++generation;
  await probeAuth().catch(() => {});
  renderAccount();
  const path = decodeURI(location.pathname);
  const query = new URLSearchParams(location.search);
  const view = h("div", { class: "view" });
  try {
    const manifest = path.match(/^\/ui\/r\/(.+?)\/-\/([^/]+)$/);
    const repository = path.match(/^\/ui\/r\/(.+?)\/?$/);
    if (manifest) await renderManifest(view, manifest[1], manifest[2], query);
    else if (repository) await renderRepository(view, repository[1], query);
    else await renderRepositories(view, query);
  } catch (error) {
    view.replaceChildren(errorView(error));
  }
  if (mine !== generation) return; // a newer navigation won
  main.replaceChildren(view);
  const focus = view.querySelector("[data-focus]"); // the filter keeps focus while typing
  if (focus) {
    focus.focus();
    focus.setSelectionRange?.(focus.value.length, focus.value.length);
  }
}

function errorView(error) {
  if (error instanceof ApiError && (error.status === 401 || error.status === 403) && !currentUser()) {
    return h("div", { class: "notice" }, h("p", null, "Sign in to see this page."), h("button", { onclick: openSignIn }, "Sign in"));
  }
  if (error instanceof ApiError && error.status === 404) {
    return h("div", { class: "notice" }, h("p", null, "Not found: ", error.message), h("a", { href: "/ui/" }, "All repositories"));
  }
  return h("div", { class: "notice error" }, h("p", null, String(error.message ?? error)));
}

function renderAccount() {
  const user = currentUser();
  if (user) {
    account.replaceChildren(h("span", { class: "user", "data-user": user }, user), h("button", { class: "small", onclick: () => (signOut(), render()) }, "Sign out"));
  } else {
    account.replaceChildren(isAuthRequired() ? h("button", { class: "small", onclick: openSignIn }, "Sign in") : "");
  }
}

function openSignIn() {
  const error = h("p", { class: "form-error", role: "alert" });
  const userField = h("input", { name: "username", autocomplete: "username", required: true });
  const passwordField = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const dialog = h("dialog", { class: "sign-in" },
    h("form", {
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          await signIn(userField.value, passwordField.value);
          dialog.close();
          render();
        } catch (e) {
          error.textContent = e.message;
        }
      },
    },
      h("h2", null, "Sign in"),
      h("label", null, "User", userField),
      h("label", null, "Password", passwordField),
      error,
      h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, "Cancel"), h("button", { type: "submit" }, "Sign in"))));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}

setRenderer(render);
render();
