/**
 * `ReadableStream.tee()` without its unbounded buffer. The standard tee reads as fast as the
 * faster branch and queues everything the slower one has not taken yet: a client slower than
 * the disk would make a 1 GiB blob sit in memory. Here the source is read only while every
 * live branch holds less than `highWaterBytes`, so memory stays bounded and the branches move
 * together. A cancelled branch is dropped (the client went away: the cache fill goes on);
 * when every branch is cancelled the source is cancelled too. A source error errors all.
 * With `idle`, a read of the source that brings nothing for `idle.ms` fails everything with
 * `idle.error()` (an upstream that stalls mid-body); time spent waiting for a slow branch
 * does not count, since the source is not being read then.
 */
export function teeBounded(
  source: ReadableStream<Uint8Array>,
  count: number,
  highWaterBytes = 1024 * 1024,
  idle?: { ms: number; error: () => Error },
): ReadableStream<Uint8Array>[] {
  const reader = source.getReader();
  const live = new Set<number>();
  const controllers: ReadableStreamDefaultController<Uint8Array>[] = [];
  let pumping = false;
  let finished = false;

  const roomInAll = () => [...live].every((i) => (controllers[i]!.desiredSize ?? 0) > 0);

  async function pump(): Promise<void> {
    if (pumping || finished) return;
    pumping = true;
    try {
      while (live.size > 0 && roomInAll()) {
        const { done, value } = idle ? await readWithin(reader, idle.ms, idle.error) : await reader.read();
        if (done) {
          finished = true;
          for (const i of live) controllers[i]!.close();
          return;
        }
        for (const i of live) controllers[i]!.enqueue(value);
      }
    } catch (error) {
      finished = true;
      for (const i of live) controllers[i]!.error(error);
      reader.cancel(error).catch(() => {});
    } finally {
      pumping = false;
    }
  }

  return Array.from({ length: count }, (_, i) =>
    new ReadableStream<Uint8Array>(
      {
        start(controller) {
          controllers[i] = controller;
          live.add(i);
        },
        pull: () => pump(),
        cancel(reason) {
          live.delete(i);
          if (live.size === 0 && !finished) {
            finished = true;
            return reader.cancel(reason);
          }
          // The others may have been waiting on this branch's room.
          queueMicrotask(() => void pump());
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: highWaterBytes }),
    ),
  );
}

async function readWithin(reader: ReadableStreamDefaultReader<Uint8Array>, ms: number, error: () => Error): Promise<ReadableStreamReadResult<Uint8Array>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(error()), ms)));
  try {
    return await Promise.race([reader.read(), timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
