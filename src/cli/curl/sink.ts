import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { writeError } from '../output.ts';

/**
 * Where the response goes: stdout, or the -o file, created only when there is something to write (as curl does,
 * so `-f` leaves no file behind). A failed write is curl's exit 23.
 */
export class Sink {
  private stream: Writable | undefined;
  private failure: unknown;
  private readonly onError = (error: unknown) => {
    this.failure ??= error;
  };

  private constructor(
    private readonly target: Writable | string,
    private readonly name: string,
    private readonly flags: 'w' | 'a' = 'w',
  ) {}

  static stream(stream: Writable): Sink {
    return new Sink(stream, 'stdout');
  }

  /** `append`: write after what the file holds (a resumed download). */
  static file(path: string, append = false): Sink {
    return new Sink(path, path, append ? 'a' : 'w');
  }

  /** Creates the file now rather than on the first write. */
  async create(): Promise<void> {
    if (!this.stream) await this.open();
    this.check();
  }

  async write(chunk: Buffer | string): Promise<void> {
    const stream = this.stream ?? (await this.open());
    this.check();
    if (!stream.write(chunk)) await drained(stream);
    this.check();
  }

  /** Ends the file (stdout stays open) once everything is written, and reports a write that failed on the way. */
  async close(): Promise<void> {
    const stream = this.stream;
    if (!stream) return;
    if (typeof this.target === 'string') {
      stream.end();
      await finished(stream).catch(this.onError);
    } else {
      await new Promise<void>((resolve) =>
        stream.write('', (error) => resolve(error ? this.onError(error) : undefined)),
      );
    }
    stream.off('error', this.onError);
    this.check();
  }

  private async open(): Promise<Writable> {
    try {
      this.stream =
        typeof this.target === 'string' ? (await open(this.target, this.flags)).createWriteStream() : this.target;
    } catch (error) {
      this.failure = error;
      this.check();
    }
    this.stream!.on('error', this.onError);
    return this.stream!;
  }

  private check(): void {
    if (this.failure === undefined) return;
    throw writeError(this.name, this.failure);
  }
}

/**
 * Runs `work`, then closes the sink, also when the work failed: an -o or -D file left open would be closed by the
 * garbage collector, which says so on stderr (even with -s), and what was written might not be on disk yet. A close
 * that fails is reported only after work that succeeded; otherwise the work's own failure is the one that counts.
 */
export async function closeAfter(sink: Sink | undefined, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    await sink?.close().catch(() => {});
    throw error;
  }
  await sink?.close();
}

/** Waits for 'drain', or for 'close' after an error (recorded by the sink's error listener). */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
