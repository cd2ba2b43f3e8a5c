import type { GenerationProgress } from '../types.ts';

export interface GenerationHooks {
  /** Checked between steps; true stops the run with a `cancelled` EngineError. */
  isCancelled(): boolean;
  onProgress?(progress: GenerationProgress): void;
  /** Compute a preview every N (user) steps (0 = never). */
  previewEvery: number;
  /** Awaited between steps, e.g. to let an in-thread caller's event loop breathe. */
  betweenSteps?(): Promise<void>;
}
