// What a container reference (--container, explain's argument) may be, and which container it may
// mean. The engine's inspect resolves a full ID, then an exact name, then an ID prefix of ANY
// length (moby's container view; Podman's state alike): asked for a name that does not exist, say
// "db", it answers with whatever container's ID starts with "db". pidwarden accepts the answer
// only when the reference is that container's name, its full ID, or the prefix `docker ps` prints.

/** Docker's rule for names (plus hex IDs and their prefixes, which it also satisfies); the API writes names with a leading slash. */
const CONTAINER_REF = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** The short ID `docker ps` and `podman ps` print: 12 hex digits. A shorter prefix is too easy to type by accident. */
export const MIN_ID_PREFIX_DIGITS = 12;

const ID_PREFIX = new RegExp(`^[0-9a-f]{${MIN_ID_PREFIX_DIGITS},64}$`);

/** Whether the text can name a container at all (and is safe to put in a request path). */
export function isContainerReference(ref: string): boolean {
  return CONTAINER_REF.test(ref);
}

/** How a reference names this container: by its name, by (a long enough prefix of) its ID, or not at all. */
export function referenceMeans(ref: string, c: { id: string; name: string }): 'name' | 'id' | null {
  if (c.name === ref.replace(/^\//, '')) return 'name';
  if (ref === c.id || (ID_PREFIX.test(ref) && c.id.startsWith(ref))) return 'id';
  return null;
}

/** The user's words for a reference that names no container; a short hex one gets the reason. */
export function noSuchContainer(ref: string): string {
  const shortHex = /^[0-9a-f]+$/.test(ref) && ref.length < MIN_ID_PREFIX_DIGITS;
  return `no such container: ${ref}${shortHex ? ` (an ID prefix needs at least ${MIN_ID_PREFIX_DIGITS} hex digits)` : ''}`;
}
