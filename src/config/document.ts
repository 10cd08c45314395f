/**
 * YAML or JSON text (the config file, the policy) to its data. JSON is valid YAML and parses
 * the same, so JSON text takes `JSON.parse`; the yaml package (about 80 modules, ~0.1 s to
 * load) is imported the first time a document is not JSON, never at start-up otherwise.
 */
let yaml: Promise<typeof import("yaml")> | undefined;

/** Throws an Error `not valid YAML or JSON: <first line of the reason>`. */
export async function parseDocument(text: string): Promise<unknown> {
  const json = parseJsonDocument(text);
  if (json !== NOT_JSON) return json;
  const { parse } = await (yaml ??= import("yaml"));
  try {
    return parse(text);
  } catch (error) {
    throw new Error(`not valid YAML or JSON: ${(error as Error).message.split("\n")[0]}`);
  }
}

export const NOT_JSON = Symbol("not JSON");

/** The data of JSON text, synchronously; NOT_JSON when only the YAML parser can tell. */
export function parseJsonDocument(text: string): unknown {
  if (!/^\s*[{[]/.test(text)) return NOT_JSON;
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON; // flow-style YAML (`{a: 1}`) or a broken document: the YAML parser decides and explains
  }
}
