import { loadConfig, type Config, type Env } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/platform/logger.js';

export function testConfig(env: Env = {}): Config {
  return loadConfig({ HOSTNAME: 'test-host', ...env });
}

export function silentLogger(service = 'test'): Logger {
  return createLogger({ service, level: process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'silent', format: 'pretty', hostname: 'test-host' });
}
