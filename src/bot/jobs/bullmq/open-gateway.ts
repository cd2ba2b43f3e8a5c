import type { ModelDirectory } from '../../models/served-models.ts';
import path from 'node:path';
import { REST } from 'discord.js';
import type { Logger } from 'pino';
import type { EngineInfo } from '../../../engine/types.ts';
import type { DiscordConfig } from '../../config.ts';
import { DiscordMessenger } from '../../delivery/discord-messenger.ts';
import { GatewayDesk } from './gateway-desk.ts';
import { closeRedis, connectRedis, type RedisClient } from './redis-client.ts';
import { WorkerRegistry, type RegisteredModel } from './worker-registry.ts';

export interface Gateway {
  desk: GatewayDesk;
  /** The routed model as workers registered it (the gateway loads no engine of its own). */
  engineInfo: EngineInfo;
  /** The models /imagine may route to: those workers have registered. */
  models: ModelDirectory;
  close(): Promise<void>;
}

export interface OpenGatewayOptions {
  queueUrl: string;
  /** IMAGINE_MODEL: its folder name names the model /imagine jobs are routed to. */
  modelDir: string;
  discord: DiscordConfig;
  maxQueuedPerUser: number;
  previewIntervalMs: number;
  logger: Logger;
  /** How often to look for the model while no worker has registered it yet. */
  pollMs?: number;
}

async function waitForModel(registry: WorkerRegistry, name: string, logger: Logger, pollMs: number): Promise<RegisteredModel> {
  let told = false;
  for (;;) {
    const model = (await registry.models()).find((candidate) => candidate.name === name);
    if (model) return model;
    if (!told) logger.info({ model: name }, 'waiting for a worker to register the model (start one with npm run worker)');
    told = true;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Connects the gateway to Redis and waits until some worker has registered the model it routes to. */
export async function openGateway(options: OpenGatewayOptions): Promise<Gateway> {
  const { logger, queueUrl, discord } = options;
  const redis = await connectRedis({ url: queueUrl, name: 'imagine-gateway', logger, failFast: true });
  const others: RedisClient[] = [];
  try {
    const modelName = path.basename(path.resolve(options.modelDir));
    const registry = new WorkerRegistry(redis);
    const model = await waitForModel(registry, modelName, logger, options.pollMs ?? 1000);
    const rest = new REST({ api: discord.apiUrl }).setToken(discord.token);
    const messenger = DiscordMessenger.create({ rest, apiUrl: discord.apiUrl, token: discord.token, applicationId: discord.applicationId });
    const desk = await GatewayDesk.open({
      redis,
      connect: async () => {
        const client = await connectRedis({ url: queueUrl, name: 'imagine-gateway-events', logger });
        others.push(client);
        return client;
      },
      model: model.name,
      maxQueuedPerUser: options.maxQueuedPerUser,
      previewIntervalMs: options.previewIntervalMs,
      messenger,
      logger,
    });
    return {
      desk,
      // Every model some worker has registered; IMAGINE_MODEL's is the default.
      models: { defaultModel: model.name, list: () => registry.models() },
      engineInfo: {
        model: { ...model, path: '' },
        // Not the gateway's to say: each worker reports its own provider in /queue.
        provider: 'cpu',
        providerReason: 'distributed mode: workers run the engine',
      },
      async close() {
        await desk.shutdown();
        messenger.close();
        rest.clearHashSweeper();
        rest.clearHandlerSweeper();
        for (const client of others) await closeRedis(client);
        await closeRedis(redis);
      },
    };
  } catch (error) {
    await closeRedis(redis);
    throw error;
  }
}
