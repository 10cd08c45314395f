import { RegistryError } from "./errors.ts";

// distribution-spec: <name> is path components of [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
// joined by "/". Checked on the raw (still percent-encoded) path, so "%2e%2e" or "../"
// can never pass, and a valid name is always safe as a storage key.
const NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const MAX_NAME_LENGTH = 255;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

export function validateName(name: string): string {
  if (name.length > MAX_NAME_LENGTH || !NAME.test(name)) {
    throw new RegistryError("NAME_INVALID", { name }, { message: "invalid repository name" });
  }
  return name;
}

export function validateTag(tag: string): string {
  if (!TAG.test(tag)) throw new RegistryError("TAG_INVALID", { tag }, { message: "invalid tag" });
  return tag;
}
