import type { Engine, EngineInfo, ModelCapabilities, ModelFamily } from '../../engine/types.ts';

/** A model the bot can run, as members pick it: what /imagine model: lists and sizes follow. */
export interface ServedModel {
  name: string;
  family: ModelFamily;
  nativeWidth: number;
  nativeHeight: number;
  capabilities: ModelCapabilities;
}

/** The models this bot serves now and the one a job runs on when nobody chose. */
export interface ModelDirectory {
  readonly defaultModel: string;
  list(): Promise<ServedModel[]>;
}

interface ListsModels {
  listModels(): ServedModel[];
}

function listsModels(engine: Engine): engine is Engine & ListsModels {
  return typeof (engine as Partial<ListsModels>).listModels === 'function';
}

const served = ({ name, family, nativeWidth, nativeHeight, capabilities }: ServedModel): ServedModel => ({
  name,
  family,
  nativeWidth,
  nativeHeight,
  capabilities: { ...capabilities },
});

/** The embedded mode: the engine's catalog, or its one model when it has no catalog. */
export function engineModelDirectory(engine: Engine): ModelDirectory {
  return {
    defaultModel: engine.info.model.name,
    list: async () => {
      const listed = listsModels(engine) ? engine.listModels() : [];
      return (listed.length > 0 ? listed : [engine.info.model]).map(served);
    },
  };
}

/** The model a job ran on, as the engine serves it (its own model when the name is unknown or absent). */
export function servedModelOf(engine: Engine, name: string | undefined): ServedModel {
  const listed = name !== undefined && listsModels(engine) ? engine.listModels().find((model) => model.name === name) : undefined;
  return served(listed ?? engine.info.model);
}

/** A gateway that knows only the model it routes to. */
export function singleModelDirectory(info: EngineInfo): ModelDirectory {
  return { defaultModel: info.model.name, list: async () => [served(info.model)] };
}

/** Text-to-image models only: /imagine needs a prompt, which unconditional models cannot use. */
export function promptModels(models: readonly ServedModel[]): ServedModel[] {
  return models.filter((model) => model.capabilities.textToImage);
}

export function describeModel(model: ServedModel): string {
  return `${model.name} · ${model.family.toUpperCase()} · ${model.nativeWidth}×${model.nativeHeight}`;
}
