/** The slice of pino's API the engine logs through, so any pino logger (or a silent one) fits. */
export interface EngineLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: EngineLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
