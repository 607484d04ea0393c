// Kubernetes Service links (RNG_PORT=tcp://10.96.0.12:80 …) never stop a command: each command reads only the
// variables it uses, and a port variable holding a Service address is treated as unset (CONTRACT.md, Configuration).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Command, ConfigError, loadConfig } from '../../src/config.js';
import { serviceLinkEnv } from '../k8s/service-links.js';

// Exactly what a kubelet injects for the workshop's Services (kubectl expose deployment X --port 80; redis 6379).
const KUBELET_ENV: Record<string, string> = {
  RNG_SERVICE_HOST: '10.96.0.12',
  RNG_SERVICE_PORT: '80',
  RNG_PORT: 'tcp://10.96.0.12:80',
  RNG_PORT_80_TCP: 'tcp://10.96.0.12:80',
  RNG_PORT_80_TCP_PROTO: 'tcp',
  RNG_PORT_80_TCP_PORT: '80',
  RNG_PORT_80_TCP_ADDR: '10.96.0.12',
  HASHER_SERVICE_HOST: '10.96.0.13',
  HASHER_SERVICE_PORT: '80',
  HASHER_PORT: 'tcp://10.96.0.13:80',
  HASHER_PORT_80_TCP: 'tcp://10.96.0.13:80',
  HASHER_PORT_80_TCP_PROTO: 'tcp',
  HASHER_PORT_80_TCP_PORT: '80',
  HASHER_PORT_80_TCP_ADDR: '10.96.0.13',
  WEBUI_SERVICE_HOST: '10.96.0.14',
  WEBUI_SERVICE_PORT: '80',
  WEBUI_PORT: 'tcp://10.96.0.14:80',
  WEBUI_PORT_80_TCP: 'tcp://10.96.0.14:80',
  WEBUI_PORT_80_TCP_PROTO: 'tcp',
  WEBUI_PORT_80_TCP_PORT: '80',
  WEBUI_PORT_80_TCP_ADDR: '10.96.0.14',
  REDIS_SERVICE_HOST: '10.96.0.15',
  REDIS_SERVICE_PORT: '6379',
  REDIS_PORT: 'tcp://10.96.0.15:6379',
  REDIS_PORT_6379_TCP: 'tcp://10.96.0.15:6379',
  REDIS_PORT_6379_TCP_PROTO: 'tcp',
  REDIS_PORT_6379_TCP_PORT: '6379',
  REDIS_PORT_6379_TCP_ADDR: '10.96.0.15',
  KUBERNETES_SERVICE_HOST: '10.96.0.1',
  KUBERNETES_SERVICE_PORT: '443',
  KUBERNETES_SERVICE_PORT_HTTPS: '443',
  KUBERNETES_PORT: 'tcp://10.96.0.1:443',
  KUBERNETES_PORT_443_TCP: 'tcp://10.96.0.1:443',
  KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
  KUBERNETES_PORT_443_TCP_PORT: '443',
  KUBERNETES_PORT_443_TCP_ADDR: '10.96.0.1',
};

const COMMANDS: Command[] = ['rng', 'hasher', 'worker', 'webui', 'doctor', 'healthcheck', 'up', 'scale'];

describe('Kubernetes Service links', () => {
  for (const command of COMMANDS) {
    it(`${command} starts with every Service link a kubelet injects, and keeps its defaults`, () => {
      const c = loadConfig(KUBELET_ENV, command);
      const plain = loadConfig({}, command);
      assert.equal(c.server.port, 80);
      assert.deepEqual({ ...c.up }, { ...plain.up }, 'tcp://… is not a port: the defaults stay');
      assert.equal(c.worker.metricsPort, 0);
      assert.equal(c.healthcheckPort, 80);
      assert.equal(c.given.size, 0, 'no Service link counts as a setting');
    });
  }

  it('a Service named metrics or healthcheck (METRICS_PORT=tcp://…) is no port setting either', () => {
    const env = { ...serviceLinkEnv('metrics', '10.96.0.20', [{ port: 9100 }]), ...serviceLinkEnv('healthcheck', '10.96.0.21', [{ port: 80 }]) };
    assert.equal(env.METRICS_PORT, 'tcp://10.96.0.20:9100');
    const c = loadConfig(env, 'worker');
    assert.equal(c.worker.metricsPort, 0);
    assert.equal(c.healthcheckPort, 80);
  });

  it('the ports of `dockercoins up` are read by up only; a real bad value there still names the variable', () => {
    assert.equal(loadConfig({ RNG_PORT: 'x', HASHER_PORT: 'y', WEBUI_PORT: 'z' }, 'rng').server.port, 80, 'rng never reads RNG_PORT');
    assert.equal(loadConfig({ RNG_PORT: '9001' }, 'up').up.rngPort, 9001);
    assert.throws(
      () => loadConfig({ RNG_PORT: 'eighty' }, 'up'),
      (e: unknown) => e instanceof ConfigError && e.variable === 'RNG_PORT',
    );
    assert.throws(
      () => loadConfig({ METRICS_PORT: 'tcp:/x' }, 'worker'),
      (e: unknown) => e instanceof ConfigError && e.variable === 'METRICS_PORT',
      'only a Service address is forgiven',
    );
  });

  it("the pod runner's Service link generator writes exactly the kubelet's variables", () => {
    const generated = {
      ...serviceLinkEnv('rng', '10.96.0.12', [{ port: 80 }]),
      ...serviceLinkEnv('hasher', '10.96.0.13', [{ port: 80 }]),
      ...serviceLinkEnv('webui', '10.96.0.14', [{ port: 80 }]),
      ...serviceLinkEnv('redis', '10.96.0.15', [{ port: 6379 }]),
      ...serviceLinkEnv('kubernetes', '10.96.0.1', [{ port: 443, name: 'https' }]),
    };
    assert.deepEqual(generated, KUBELET_ENV);
  });
});
