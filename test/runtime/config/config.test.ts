// The device config: defaults < file < environment < flags, validated once, errors naming the key.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AvsConfig, ConfigError, defaultConfigPath, describeConfig, loadConfig, type ConfigInputs } from '../../../runtime/config';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'avs-config-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function writeConfig(content: unknown): string {
  const file = join(dir, `config-${++files}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

function errorOf(inputs: ConfigInputs): ConfigError {
  try {
    loadConfig(inputs);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('loadConfig did not throw');
}

const endpoint = { 'avs.endpoint': 'avs.example.com' };
const lwa = { clientId: 'amzn1.client', productId: 'my-speaker', deviceSerialNumber: 'sn-1' };
const SECRET = 'shh-very-secret-client-secret';

describe('loadConfig', () => {
  it('fills in the defaults around the one required key', () => {
    const config = loadConfig({ env: {}, flags: endpoint });
    expect(config).toEqual({
      avs: { endpoint: 'avs.example.com' },
      device: { database: join(homedir(), '.avs-device', 'device.db') },
      audio: { player: 'mpg123', recorder: 'sox' },
      recognizer: {},
      log: { level: 'info' },
      inspector: {},
    });
    expect(config.lwa).toBeUndefined();
  });

  it('defaults the LWA url once there is an lwa section', () => {
    const config = loadConfig({ env: {}, file: writeConfig({ avs: { endpoint: 'https://avs.example.com' }, lwa }) });
    expect(config.lwa).toEqual({ ...lwa, url: 'https://api.amazon.com' });
  });

  it('takes flags over the environment over the file over the defaults', () => {
    const file = writeConfig({
      avs: { endpoint: 'file.example.com' },
      device: { initialVolume: 10, locale: 'de-DE' },
      audio: { player: 'file-player' },
      log: { level: 'warn' },
    });
    const config = loadConfig({
      file,
      env: { AVS_AVS_ENDPOINT: 'env.example.com', AVS_DEVICE_INITIAL_VOLUME: '20', AVS_LOG_LEVEL: 'error' },
      flags: { 'avs.endpoint': 'flag.example.com', 'log.level': 'debug', 'audio.device': undefined },
    });
    expect(config.avs.endpoint).toBe('flag.example.com');
    expect(config.log.level).toBe('debug');
    expect(config.device.initialVolume).toBe(20);
    expect(config.device.locale).toBe('de-DE');
    expect(config.audio).toEqual({ player: 'file-player', recorder: 'sox' });
  });

  it('expands ~ in file paths', () => {
    const config = loadConfig({ env: { AVS_DEVICE_DATABASE: '~/data/avs.db', AVS_AVS_CA_FILE: '/etc/ca.pem' }, flags: endpoint });
    expect(config.device.database).toBe(join(homedir(), 'data', 'avs.db'));
    expect(config.avs.caFile).toBe('/etc/ca.pem');
  });

  it('names the bad key, the value and where it came from', () => {
    const e = errorOf({ env: { AVS_LWA_CLIENT_ID: '', AVS_LWA_PRODUCT_ID: 'p', AVS_LWA_DEVICE_SERIAL_NUMBER: 's' }, flags: endpoint });
    expect(e.code).toBe('INVALID_CONFIG');
    expect(e.key).toBe('lwa.clientId');
    expect(e.source).toBe('env AVS_LWA_CLIENT_ID');
    expect(e.message).toBe('config lwa.clientId: expected non-empty string, got "" (from env AVS_LWA_CLIENT_ID)');
  });

  it('says how to set a missing required key', () => {
    const e = errorOf({ env: {}, flags: { 'lwa.clientId': 'c', 'lwa.productId': 'p' } });
    expect(e.key).toBe('lwa.deviceSerialNumber');
    expect(e.message).toBe(
      'config lwa.deviceSerialNumber: missing required field (expected non-empty string); set it in the config file, AVS_LWA_DEVICE_SERIAL_NUMBER or flag lwa.deviceSerialNumber',
    );
  });

  it('defaults the AVS endpoint to North America, as the SDK does', () => {
    expect(loadConfig({ env: {} }).avs.endpoint).toBe('https://alexa.na.gateway.devices.a2z.com');
  });

  it('names a bad value from the file with the file', () => {
    const file = writeConfig({ avs: { endpoint: 'avs.example.com' }, device: { firmwareVersion: '0' } });
    const e = errorOf({ file, env: {} });
    expect(e.key).toBe('device.firmwareVersion');
    expect(e.message).toMatch(/^config device\.firmwareVersion: expected .*, got "0" \(from file .*config-\d+\.json\)$/);
  });

  describe('unknown keys', () => {
    it('are an error in the file, naming the key and the ones that exist', () => {
      const file = writeConfig({ avs: { endpoint: 'avs.example.com' }, lwa: { ...lwa, clientID: 'x' } });
      const e = errorOf({ file, env: {} });
      expect(e.key).toBe('lwa.clientID');
      expect(e.message).toMatch(/^config lwa\.clientID: unknown key \(expected one of: clientId, productId, deviceSerialNumber, url, clientSecret\) \(from file /);
    });

    it('are an error at the top of the file', () => {
      const e = errorOf({ file: writeConfig({ avs: { endpoint: 'avs.example.com' }, speaker: {} }), env: {} });
      expect(e.key).toBe('speaker');
      expect(e.message).toContain('config speaker: unknown key (expected one of: avs, device, audio, recognizer, log, inspector, lwa)');
    });

    it('are an error as a flag', () => {
      const e = errorOf({ env: {}, flags: { ...endpoint, 'log.levl': 'debug' } });
      expect(e.key).toBe('log.levl');
      expect(e.message).toBe('config log.levl: unknown key (expected one of: level) (from flag log.levl)');
    });

    it('are an error in the environment under a section of ours, and other AVS_ names are left alone', () => {
      const e = errorOf({ env: { AVS_LOG_LEVL: 'debug' }, flags: endpoint });
      expect(e.key).toBe('log.levl');
      expect(e.message).toBe('config log.levl: unknown key (from env AVS_LOG_LEVL; expected one of: AVS_LOG_LEVEL)');
      expect(() => loadConfig({ env: { AVS_CONFIG: '/x.json', AVS_TEST_LOG: '1', HOME: '/h' }, flags: endpoint })).not.toThrow();
    });
  });

  it('names the allowed values of an enum', () => {
    const e = errorOf({ env: {}, flags: { ...endpoint, 'log.level': 'loud' } });
    expect(e.key).toBe('log.level');
    expect(e.message).toBe(
      'config log.level: expected "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent", got "loud" (from flag log.level)',
    );
    expect(errorOf({ env: { AVS_AUDIO_RECORDER: 'alsa' }, flags: endpoint }).message).toContain('expected "sox" | "rec" | "arecord", got "alsa"');
  });

  describe('environment values', () => {
    it('become numbers and booleans where the key wants one', () => {
      const config = loadConfig({
        env: {
          AVS_INSPECTOR_PORT: '9229',
          AVS_AUDIO_GAIN: '-3.5',
          AVS_RECOGNIZER_LISTEN_ON_EXPECT_SPEECH: 'false',
          AVS_RECOGNIZER_TAP_PROFILE: 'FAR_FIELD',
          AVS_DEVICE_FIRMWARE_VERSION: '42',
        },
        flags: { ...endpoint, 'device.initialVolume': '30', 'audio.interruptedBehavior': 'ATTENUATE' },
      });
      expect(config.inspector.port).toBe(9229);
      expect(config.audio.gain).toBe(-3.5);
      expect(config.recognizer).toEqual({ listenOnExpectSpeech: false, tapProfile: 'FAR_FIELD' });
      expect(config.device.firmwareVersion).toBe('42');
      expect(config.device.initialVolume).toBe(30);
      expect(config.audio.interruptedBehavior).toBe('ATTENUATE');
    });

    it('that do not parse are an error saying so', () => {
      const port = errorOf({ env: { AVS_INSPECTOR_PORT: 'ninety' }, flags: endpoint });
      expect(port.key).toBe('inspector.port');
      expect(port.message).toBe('config inspector.port: expected integer 0..65535, got "ninety" (from env AVS_INSPECTOR_PORT, which is not a number)');
      const listen = errorOf({ env: { AVS_RECOGNIZER_LISTEN_ON_EXPECT_SPEECH: 'maybe' }, flags: endpoint });
      expect(listen.key).toBe('recognizer.listenOnExpectSpeech');
      expect(listen.message).toContain('got "maybe" (from env AVS_RECOGNIZER_LISTEN_ON_EXPECT_SPEECH, which is not true/false');
    });

    it('that parse but are out of range name the variable', () => {
      const e = errorOf({ env: { AVS_INSPECTOR_PORT: '70000' }, flags: endpoint });
      expect(e.message).toBe('config inspector.port: expected integer 0..65535, got 70000 (from env AVS_INSPECTOR_PORT)');
    });
  });

  describe('the file', () => {
    it('is an error when it is missing, naming it', () => {
      const file = join(dir, 'nowhere.json');
      const e = errorOf({ file, env: {}, flags: endpoint });
      expect(e.key).toBeUndefined();
      expect(e.message).toBe(`config file ${file}: no such file`);
    });

    it('with bad JSON is an error naming it and the position', () => {
      const file = writeConfig('{\n  "avs": { "endpoint": "avs.example.com", }\n}\n');
      const e = errorOf({ file, env: {} });
      expect(e.key).toBeUndefined();
      expect(e.message).toBe(`config file ${file}: not valid JSON at line 2, column 43: expected a property name in double quotes`);
    });

    it('that is empty or not an object is an error', () => {
      const empty = writeConfig('');
      expect(errorOf({ file: empty, env: {} }).message).toBe(`config file ${empty}: not valid JSON at line 1, column 1: the file is empty`);
      const list = writeConfig([]);
      expect(errorOf({ file: list, env: {} }).message).toBe(`config file ${list}: expected a JSON object at the top, got an array`);
    });
  });

  describe('the client secret', () => {
    it('is accepted and kept', () => {
      const config = loadConfig({ file: writeConfig({ avs: { endpoint: 'avs.example.com' }, lwa: { ...lwa, clientSecret: SECRET } }), env: {} });
      expect(config.lwa?.clientSecret).toBe(SECRET);
    });

    it('is redacted in the error about it', () => {
      const e = errorOf({ file: writeConfig({ avs: { endpoint: 'avs.example.com' }, lwa: { ...lwa, clientSecret: 12345678 } }), env: {} });
      expect(e.key).toBe('lwa.clientSecret');
      expect(e.message).toMatch(/^config lwa\.clientSecret: expected string, got \[redacted\] \(from file /);
      expect(e.message).not.toContain('12345678');
    });

    it('never shows in an error about something else', () => {
      const file = writeConfig({ avs: { endpoint: 'avs.example.com' }, lwa: { ...lwa, clientSecret: SECRET } });
      const e = errorOf({ file, env: {}, flags: { 'device.locale': `x${SECRET}` } });
      expect(e.key).toBe('device.locale');
      expect(e.message).not.toContain(SECRET);
      expect(e.message).toContain('[redacted]');
    });

    it('never shows in a JSON syntax error next to it', () => {
      const file = writeConfig(`{"avs": {"endpoint": "avs.example.com"}, "lwa": {"clientSecret": "${SECRET}" "clientId": "c"}}`);
      const e = errorOf({ file, env: {} });
      expect(e.message).toContain("expected ',' or '}' after a property value");
      expect(e.message).not.toContain(SECRET.slice(0, 8));
    });

    it('is redacted by describeConfig', () => {
      const config = loadConfig({ env: { AVS_LWA_CLIENT_SECRET: SECRET, AVS_LWA_CLIENT_ID: 'c', AVS_LWA_PRODUCT_ID: 'p', AVS_LWA_DEVICE_SERIAL_NUMBER: 's' }, flags: endpoint });
      const summary = describeConfig(config);
      expect(summary).not.toContain(SECRET);
      expect(summary).toMatch(/^lwa\.clientSecret +\[redacted\]$/m);
      expect(summary).toMatch(/^avs\.endpoint +avs\.example\.com$/m);
      expect(summary).toMatch(/^lwa\.url +https:\/\/api\.amazon\.com$/m);
      expect(summary).toMatch(/^inspector\.port +\(not set\)$/m);
    });
  });

  it('reads process.env when no env is given', () => {
    const saved = process.env.AVS_AVS_ENDPOINT;
    process.env.AVS_AVS_ENDPOINT = 'from-process.example.com';
    try {
      expect(loadConfig().avs.endpoint).toBe('from-process.example.com');
    } finally {
      if (saved === undefined) delete process.env.AVS_AVS_ENDPOINT;
      else process.env.AVS_AVS_ENDPOINT = saved;
    }
  });
});

describe('AvsConfig', () => {
  it('decodes a complete config and rejects an unknown key on its own', () => {
    expect(AvsConfig.decode({ avs: { endpoint: 'h' } })._tag).toBe('Right');
    expect(AvsConfig.decode({ avs: { endpoint: 'h', port: 1 } })._tag).toBe('Left');
    expect(AvsConfig.is(loadConfig({ env: {}, flags: endpoint }))).toBe(true);
  });
});

describe('describeConfig', () => {
  it('shows an absent lwa section as one line', () => {
    expect(describeConfig(loadConfig({ env: {}, flags: endpoint }))).toMatch(/^lwa +\(not set\)$/m);
  });
});

describe('defaultConfigPath', () => {
  it('is ~/.avs-device/config.json, or $AVS_CONFIG', () => {
    expect(defaultConfigPath({})).toBe(join(homedir(), '.avs-device', 'config.json'));
    expect(defaultConfigPath({ AVS_CONFIG: '/etc/avs.json' })).toBe('/etc/avs.json');
  });
});
