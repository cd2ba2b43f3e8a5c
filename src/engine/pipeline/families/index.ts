import type { ModelFamily } from '../../model/family.ts';
import type { FamilyDefinition } from './family.ts';
import { sdFamily } from './sd.ts';
import { sdxlFamily } from './sdxl.ts';
import { unconditionalFamily } from './unconditional.ts';

export type { FamilyContext, FamilyDefinition, FamilyPipeline, SessionSet } from './family.ts';

const FAMILIES: Readonly<Record<ModelFamily, FamilyDefinition>> = {
  sd: sdFamily,
  sdxl: sdxlFamily,
  unconditional: unconditionalFamily,
};

export function familyDefinition(family: ModelFamily): FamilyDefinition {
  return FAMILIES[family];
}
