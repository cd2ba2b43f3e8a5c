import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgressReporter, formatBytes } from '../../src/models/hub/progress.ts';
import type { PullProgressEvent } from '../../src/models/hub/pull.ts';

describe('progress reporter', () => {
  const events: PullProgressEvent[] = [
    { type: 'start', repo: 'a/b', revision: 'main', commit: 'c0ffee', dir: 'models/b', files: [{ path: 'x', size: 2048 }], totalBytes: 2048 },
    { type: 'file-start', path: 'x', size: 2048, index: 0, count: 1 },
    { type: 'progress', path: 'x', fileBytes: 1024, fileSize: 2048, doneBytes: 1024, totalBytes: 2048, downloadedBytes: 1024 },
    { type: 'retry', path: 'x', attempt: 1, delayMs: 1000, reason: 'connection dropped' },
    { type: 'file-done', path: 'x', size: 2048, index: 0, count: 1, status: 'resumed' },
  ];

  function capture(tty: boolean): string {
    const stream = new PassThrough() as PassThrough & NodeJS.WriteStream;
    Object.assign(stream, { isTTY: tty, columns: 120 });
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const reporter = createProgressReporter({ stream, tty });
    for (const event of events) reporter.onProgress(event);
    reporter.stop();
    return text;
  }

  it('prints one plain line per file when not on a terminal', () => {
    expect(capture(false).split('\n').filter(Boolean)).toEqual([
      'Pulling a/b@main (c0ffee) into models/b: 1 files, 2.0 KiB',
      'x: connection dropped; retry 1 in 1s',
      '[1/1] x (2.0 KiB) resumed',
    ]);
  });

  it('draws a bar with bytes, file name and speed on a terminal', () => {
    const text = capture(true);
    expect(text).toContain('2.0 KiB/2.0 KiB');
    expect(text).toContain('| x');
    expect(text).toContain('connection dropped');
  });

  it('formats sizes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(3.5 * 1024 ** 3)).toBe('3.5 GiB');
  });
});
