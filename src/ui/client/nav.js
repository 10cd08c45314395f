// Addresses of the UI's views, moving between them, and the confirmation dialog.
import { h } from "./dom.js";

let renderer = () => {};
export const setRenderer = (fn) => (renderer = fn);

export function navigate(href, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", href);
  else history.pushState(null, "", href);
  renderer();
}

export const rerender = () => renderer();
export const repositoryHref = (name) => `/ui/r/${name}`;
export const manifestHref = (name, reference) => `/ui/r/${name}/-/${reference}`;

/** A modal confirmation; resolves true when the user confirms. */
export function confirmDialog(title, text, action) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "confirm" },
      h("form", { method: "dialog" },
        h("h2", null, title),
        h("p", null, text),
        h("div", { class: "actions" },
          h("button", { value: "cancel", class: "secondary" }, "Cancel"),
          h("button", { value: "ok", class: "danger" }, action))));
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok");
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

