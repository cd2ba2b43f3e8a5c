import { createDDIMScheduler } from './ddim.ts';
import { createDDPMScheduler } from './ddpm.ts';
import { createDPMSolverMultistepKarrasScheduler, createDPMSolverMultistepScheduler } from './dpm-solver-multistep.ts';
import { createEulerAncestralScheduler } from './euler-ancestral.ts';
import { createEulerScheduler } from './euler.ts';
import { createHeunScheduler } from './heun.ts';
import { createLCMScheduler } from './lcm.ts';
import { createLmsScheduler } from './lms.ts';
import { createPNDMScheduler } from './pndm.ts';
import type { RawSchedulerConfig, Scheduler, SchedulerFactory, SchedulerName } from './scheduler.ts';
import { createUniPCScheduler } from './unipc.ts';

const FACTORIES: Readonly<Record<SchedulerName, SchedulerFactory>> = {
  ddim: createDDIMScheduler,
  ddpm: createDDPMScheduler,
  pndm: createPNDMScheduler,
  lms: createLmsScheduler,
  euler: createEulerScheduler,
  'euler-a': createEulerAncestralScheduler,
  heun: createHeunScheduler,
  'dpm++2m': createDPMSolverMultistepScheduler,
  'dpm++2m-karras': createDPMSolverMultistepKarrasScheduler,
  unipc: createUniPCScheduler,
  lcm: createLCMScheduler,
};

/** A fresh scheduler of that name, configured from the model's scheduler_config.json. */
export function createScheduler(name: SchedulerName, config: RawSchedulerConfig): Scheduler {
  return FACTORIES[name](config);
}
