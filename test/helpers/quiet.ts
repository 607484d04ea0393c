// Configuration and loggers for tests that build services in this process.
import { type Config, type Env, loadConfig } from '../../src/config.js';
import type { ServiceBase } from '../../src/platform/http-service.js';
import { createLogger, type Logger } from '../../src/platform/logger.js';

export function testConfig(env: Env = {}): Config {
  return loadConfig({ HOSTNAME: 'test-host', ...env });
}

export function silentLogger(service = 'test'): Logger {
  return createLogger({ service, level: process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'silent', format: 'pretty', hostname: 'test-host' });
}

/** What createRng/createHasher/createWebui need besides their own settings. */
export function serviceBase(config: Config, replica: string): Omit<ServiceBase, 'service'> {
  return { replica, server: config.server, logger: silentLogger(replica) };
}
