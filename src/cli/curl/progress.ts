/** A body this large is worth a progress bar; smaller ones are over before anyone could read it. */
export const LARGE_BODY_BYTES = 1024 * 1024;
const REDRAW_MS = 100;

export interface ProgressMeter {
  update(received: number): void;
  done(received: number): void;
}

/** A one-line progress bar redrawn in place on a terminal; it appears once the body is known or seen to be large. */
export function progressMeter(
  terminal: NodeJS.WritableStream & { columns?: number },
  total: number | undefined,
): ProgressMeter {
  let shown = false;
  let drawnAt = 0;
  const draw = (received: number) => terminal.write(`\r${progressLine(received, total, terminal.columns ?? 80)}`);
  return {
    update(received) {
      if (!shown && Math.max(total ?? 0, received) < LARGE_BODY_BYTES) return;
      const now = Date.now();
      if (shown && now - drawnAt < REDRAW_MS) return;
      shown = true;
      drawnAt = now;
      draw(received);
    },
    done(received) {
      if (!shown) return;
      draw(received);
      terminal.write('\n');
    },
  };
}

export function progressLine(received: number, total: number | undefined, columns: number): string {
  if (!total) return `${size(received)} received`;
  const fraction = Math.min(received / total, 1);
  const figures = ` ${String(Math.floor(fraction * 100)).padStart(3)}%  ${size(received)} of ${size(total)}`;
  const width = Math.max(columns - figures.length - 3, 10);
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]${figures}`;
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
