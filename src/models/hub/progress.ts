import cliProgress from 'cli-progress';
import type { PullProgressEvent } from './pull.ts';

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * Network speed over the last few seconds. Bytes skipped or resumed from disk never enter it,
 * so the ETA reflects only what still has to come over the wire.
 */
class SpeedMeter {
  private samples: { at: number; bytes: number }[] = [];

  constructor(private readonly windowMs = 5_000) {}

  record(bytes: number, at = Date.now()): void {
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && at - this.samples[0]!.at > this.windowMs) this.samples.shift();
  }

  bytesPerSecond(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.at === first.at) return 0;
    return ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
  }
}

export interface ProgressReporter {
  onProgress: (event: PullProgressEvent) => void;
  /** Leaves the terminal clean (bar finished, cursor back) before the caller prints more. */
  stop: () => void;
}

export interface ProgressReporterOptions {
  stream?: NodeJS.WriteStream;
  /** Defaults to the stream's own isTTY; a pipe or log file gets one plain line per file. */
  tty?: boolean;
}

export function createProgressReporter(options: ProgressReporterOptions = {}): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? stream.isTTY === true;
  const speed = new SpeedMeter();
  let bar: cliProgress.SingleBar | undefined;
  let totalBytes = 0;
  let doneBytes = 0;
  let finishedBytes = 0;
  let current = '';

  // The bar owns the terminal's last line: wipe it, print above, and let the next redraw restore
  // it. cli-progress returns to its saved cursor position on stop, so save the new bar line.
  const say = (line: string): void => {
    stream.write(bar ? `\r\u001b[2K${line}\n\u001b7` : `${line}\n`);
  };

  const render = (): void => {
    if (!bar) return;
    const rate = speed.bytesPerSecond();
    bar.update(doneBytes, {
      file: current,
      done: formatBytes(doneBytes),
      all: formatBytes(totalBytes),
      speed: rate > 0 ? `${formatBytes(rate)}/s` : '--',
      remaining: rate > 0 ? formatDuration((totalBytes - doneBytes) / rate) : '--',
    });
  };

  return {
    onProgress(event) {
      switch (event.type) {
        case 'start': {
          totalBytes = event.totalBytes;
          const pinned = event.commit ? ` (${event.commit.slice(0, 10)})` : '';
          say(`Pulling ${event.repo}@${event.revision}${pinned} into ${event.dir}: ${event.files.length} files, ${formatBytes(totalBytes)}`);
          if (tty) {
            bar = new cliProgress.SingleBar(
              {
                stream,
                // {remaining}, not the built-in {eta}: ours ignores bytes that came from disk.
                format: '{bar} {percentage}% | {done}/{all} | {speed} | ETA {remaining} | {file}',
                barsize: 30,
                hideCursor: true,
                fps: 8,
              },
              cliProgress.Presets.shades_classic,
            );
            bar.start(Math.max(totalBytes, 1), 0, { file: '', done: '0 B', all: formatBytes(totalBytes), speed: '--', remaining: '--' });
          }
          break;
        }
        case 'file-start':
          current = event.path;
          render();
          break;
        case 'progress':
          speed.record(event.downloadedBytes);
          doneBytes = event.doneBytes;
          render();
          break;
        case 'file-done': {
          // A skipped file moves the bar here, without ever feeding the speed meter.
          finishedBytes += event.size;
          doneBytes = finishedBytes;
          render();
          const label = event.status === 'skipped' ? 'already complete' : event.status;
          if (!tty) say(`[${event.index + 1}/${event.count}] ${event.path} (${formatBytes(event.size)}) ${label}`);
          break;
        }
        case 'retry':
          say(`${event.path}: ${event.reason}; retry ${event.attempt} in ${formatDuration(event.delayMs / 1000)}`);
          break;
      }
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
