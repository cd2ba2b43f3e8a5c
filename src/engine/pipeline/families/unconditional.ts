import { ModelFileError } from '../../model/files.ts';
import type { FamilyDefinition } from './family.ts';

/** diffusers' DDPMPipeline / DDIMPipeline (pixel-space, no prompt): not assembled yet. */
export const unconditionalFamily: FamilyDefinition = {
  defaultSampleSize: 32,
  sessionPaths: (folder) => [folder.unetPath],
  assemble({ folder }) {
    return Promise.reject(new ModelFileError(folder.indexPath, 'unconditional pipelines (DDPMPipeline, DDIMPipeline) are not supported yet'));
  },
};
