import { ModelFileError } from '../../model/files.ts';
import type { FamilyDefinition } from './family.ts';

/** diffusers' StableDiffusionXLPipeline: not assembled yet. */
export const sdxlFamily: FamilyDefinition = {
  defaultSampleSize: 128,
  sessionPaths: (folder) => [folder.textEncoderPath, folder.textEncoder2Path, folder.unetPath, folder.vaeDecoderPath],
  assemble({ folder }) {
    return Promise.reject(new ModelFileError(folder.indexPath, 'SDXL pipelines are not supported yet'));
  },
};
